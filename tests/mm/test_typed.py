"""Typed memory as a beginner meets it: char-array items, type errors that name the
field and its C type, _fields_ checked at the class statement."""
from __future__ import annotations

import pytest
from conftest import make_shell

from kmsim.kernel import Kernel
from kmsim.linux import (
    GFP_KERNEL,
    Struct,
    char,
    int_,
    kfree,
    kzalloc,
    list_head,
    pointer,
    sizeof,
    strcpy,
    unsigned_int,
)


class example_struct(Struct):
    _fields_ = [("id", unsigned_int), ("example_string", char * 10), ("next", pointer)]


@pytest.fixture
def ex():
    k = Kernel("x86_64", "64M", "", seed=1)
    p = kzalloc(sizeof(example_struct), GFP_KERNEL)
    yield k, example_struct.at(p)
    kfree(p)


def test_char_array_items_are_assignable_and_read_back_from_memory(ex):
    k, x = ex
    strcpy(x.example_string, "Test")
    x.example_string[3] = ord("a")
    x.example_string[4] = "!"
    x.example_string[5] = 0x141                     # C keeps the low 8 bits
    assert x.example_string == b"Tesa!A"
    assert x.example_string[4] == ord("!")
    x.example_string[1] = 0
    assert x.example_string == b"T" and x.example_string[2] == ord("s")   # past the NUL: memory
    assert k.vm.read(x.addr + 4, 6) == b"T\0sa!A"


def test_a_char_array_item_out_of_bounds_writes_memory_as_c_does(ex):
    k, x = ex
    x.example_string[10] = 0x7f                     # one past the array: the padding after it
    assert k.vm.read(x.addr + 14, 1) == b"\x7f"


def test_out_of_bounds_char_item_is_seen_by_kasan(tmp_path):
    (tmp_path / "oob.py").write_text(
        "from kmsim.linux import *\n\nclass ex(Struct):\n    _fields_ = [('id', u32), ('s', char * 12)]\n\n"
        "@module_init\ndef oob_init():\n    p = kmalloc(sizeof(ex), GFP_KERNEL)\n    if not p:\n"
        "        return -ENOMEM\n    ex.at(p).s[12] = 1\n    kfree(p)\n    return 0\n\n"
        "@module_exit\ndef oob_exit():\n    pass\n\nMODULE_LICENSE('GPL')\n")
    sh = make_shell(append="kasan")
    assert sh.execute(f"insmod {tmp_path / 'oob.py'}").status == 0
    text = sh.execute("dmesg").out
    assert "BUG: KASAN: slab-out-of-bounds in oob_init+" in text
    assert "Write of size 1 at addr " in text


@pytest.mark.parametrize("field,value,message", [
    ("id", "seven", "id is unsigned int: assign an int, not str 'seven'"),
    ("id", "7", "id is unsigned int: assign an int, not str '7' (ord() gives a character's code)"),
    ("id", 1.5, "id is unsigned int: assign an int, not float 1.5"),
    ("next", "x", "next is void *: assign an address (int) or a view, not str"),
    ("example_string", 5, "example_string is char[10]: assign a str or bytes (or strscpy), not int"),
])
def test_a_type_error_names_the_field_and_its_c_type(ex, field, value, message):
    _k, x = ex
    with pytest.raises(TypeError) as e:
        setattr(x, field, value)
    assert str(e.value) == message


def test_a_char_item_of_the_wrong_type_names_the_field(ex):
    _k, x = ex
    with pytest.raises(TypeError) as e:
        x.example_string[0] = "ab"
    assert str(e.value) == ("example_string is char[10]: an item takes an int (ord('a')) or a "
                            "one-character string, not str 'ab'")


@pytest.mark.parametrize("fields,message", [
    ([("value", int)], "struct node: member 'value' has type Python's int, which is not a C type: "
                       "use int_ (or unsigned_int, long, u32 ...)"),
    ([("name", str)], "struct node: member 'name' has type Python's str, which is not a C type: "
                      "use char * N"),
    ([("v", int_), ("v", int_)], "struct node: duplicate member 'v'"),
    ([("v",)], "struct node: each _fields_ entry is a (\"name\", type) pair, not ('v',)"),
    ([("v", "int")], "struct node: member 'v' has type 'int', which is not a C type (use int_, u8, "
                     "char * N, pointer, list_head or a Struct)"),
    ({"v": int_}, "struct node: _fields_ is a list of (\"name\", type) pairs, not dict"),
])
def test_fields_are_checked_when_the_class_is_defined(fields, message):
    with pytest.raises(TypeError) as e:
        type("node", (Struct,), {"_fields_": fields})
    assert str(e.value) == message


def test_good_fields_still_define_a_struct():
    node = type("node", (Struct,), {"_fields_": [("value", int_), ("list", list_head),
                                                 ("inner", example_struct)]})
    Kernel("x86_64", "64M", "", seed=1)
    assert sizeof(node) == 4 + 4 + 16 + 24
