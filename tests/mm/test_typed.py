"""Typed memory as a beginner meets it: char-array items, type errors that name the
field and its C type, _fields_ checked at the class statement."""
from __future__ import annotations

import re

import pytest
from conftest import make_shell
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsim.errors import PageFault
from kmsim.kernel import Kernel, set_current_kernel
from kmsim.linux import GFP_KERNEL, kfree, kzalloc, list_head, strcpy
from kmsim.linux.gfp import __get_free_page
from kmsim.linux.types import (
    NULL,
    Struct,
    addressof,
    alignof,
    bool_,
    char,
    container_of,
    int_,
    long,
    offsetof,
    pointer,
    s8,
    s16,
    s32,
    s64,
    short,
    size_t,
    sizeof,
    u8,
    u16,
    u32,
    u64,
    unsigned_int,
    unsigned_long,
    unsigned_short,
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


class example_struct_types(Struct):
    _fields_ = [("id", unsigned_int), ("example_string", char * 10)]


class node(Struct):
    _fields_ = [("value", int_), ("list", list_head), ("next", pointer)]


class mixed(Struct):
    _fields_ = [("c", char), ("q", u64), ("s", short), ("arr", int_ * 3), ("e", example_struct_types),
                ("b", bool_)]


@pytest.fixture
def page(kernel):
    return __get_free_page(GFP_KERNEL)


def test_lab_struct_is_16_bytes_with_string_at_4(kernel):
    assert sizeof(example_struct_types) == 16
    assert alignof(example_struct_types) == 4
    assert offsetof(example_struct_types, "example_string") == 4


def test_x86_64_layout_pads_to_pointer_alignment(kernel):
    assert sizeof(list_head) == 16
    assert offsetof(node, "list") == 8
    assert offsetof(node, "next") == 24
    assert sizeof(node) == 32
    assert [offsetof(mixed, f) for f in ("c", "q", "s", "arr", "e", "b")] == [0, 8, 16, 20, 32, 48]
    assert sizeof(mixed) == 56 and alignof(mixed) == 8
    assert offsetof(node, "list.prev") == 16


@pytest.mark.parametrize("machine,sizes", [
    ("i386", (8, 4, 12, 16, 4, 48)),       # i386 aligns u64 to 4 inside a struct
    ("rpi2", (8, 4, 12, 16, 8, 56)),       # ARM EABI aligns u64 to 8
])
def test_32bit_layouts(machine, sizes):
    Kernel(machine, "64M", "", seed=1)
    assert (sizeof(list_head), offsetof(node, "list"), offsetof(node, "next"), sizeof(node),
            offsetof(mixed, "q"), sizeof(mixed)) == sizes
    assert sizeof(pointer) == sizeof(long) == sizeof(size_t) == 4


def test_scalar_sizes(kernel):
    assert [sizeof(t) for t in (u8, u16, u32, u64, s8, s16, s32, s64, char, short,
                                unsigned_short, int_, unsigned_int, long, unsigned_long,
                                size_t, bool_, pointer)] == \
        [1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 2, 4, 4, 8, 8, 8, 1, 8]
    assert sizeof(int_ * 20) == 80 and sizeof(node * 3) == 96 and sizeof((u8 * 3) * 2) == 6


def test_view_reads_and_writes_real_bytes(kernel, page):
    v = example_struct_types.at(page)
    v.id = 0x01020304
    v.example_string = "Test"
    assert kernel.vm.read(page, 9) == bytes([4, 3, 2, 1]) + b"Test\0"
    assert v.id == 0x01020304 and v.example_string == b"Test"
    assert v.addr == page == addressof(v)
    assert addressof(v, "example_string") == page + 4 == v.example_string.addr


def test_signed_and_unsigned_fields_wrap_as_c(kernel, page):
    v = mixed.at(page)
    v.s = -2
    assert v.s == -2
    assert unsigned_short.at(page + 16).value == 0xfffe
    v.q = -1
    assert v.q == (1 << 64) - 1
    v.c = 300
    assert v.c == 44


def test_char_array_never_writes_past_itself(kernel, page):
    kernel.vm.write(page + 14, b"\xbb\xbb")
    v = example_struct_types.at(page)
    v.example_string = "0123456789ABCDEF"
    assert kernel.vm.read(page + 4, 12) == b"0123456789\xbb\xbb"
    assert v.example_string == b"0123456789"


def test_nested_struct_and_array_fields_are_views(kernel, page):
    v = mixed.at(page)
    v.arr[2] = 9
    v.arr[-3] = 7
    assert list(v.arr) == [7, 0, 9] and len(v.arr) == 3
    assert int_.at(page + 28).value == 9
    v.e.id = 5
    assert example_struct_types.at(page + 32).id == 5
    assert v.e.addr == page + 32
    with pytest.raises(IndexError):
        v.arr[3] = 1


def test_array_at_for_scalars_and_structs(kernel, page):
    a = int_.array_at(page, 20)
    a[3] = 9
    assert kernel.vm.read_int(page + 12, 4) == 9
    nodes = node.array_at(page, 4)
    nodes[2].value = 11
    assert node.at(page + 64).value == 11
    assert [n.addr for n in nodes] == [page, page + 32, page + 64, page + 96]


def test_pointer_fields_store_addresses_and_views(kernel, page):
    a, b = node.at(page), node.at(page + 64)
    a.next = b
    assert a.next == page + 64
    a.next = None
    assert a.next == NULL == 0


def test_container_of_finds_the_outer_struct(kernel, page):
    n = node.at(page + 128)
    assert container_of(addressof(n, "list"), node, "list") == n
    assert container_of(n.list, node, "list").addr == page + 128


def test_struct_assignment_copies_bytes(kernel, page):
    a, b = mixed.at(page), mixed.at(page + 256)
    a.e.id = 42
    a.e.example_string = b"hi"
    b.e = a.e
    assert b.e.id == 42 and b.e.example_string == b"hi"


def test_null_view_access_faults(kernel):
    v = node.at(NULL)
    assert not v
    with pytest.raises(PageFault) as e:
        v.next  # noqa: B018  -- the read is what faults
    assert e.value.addr == 24


def test_struct_cannot_be_instantiated(kernel):
    with pytest.raises(TypeError, match="lives in simulated memory"):
        node()


def test_typed_access_in_module_faults_with_oops(shell, tmp_path):
    mod = tmp_path / "nullmod.py"
    mod.write_text(
        "from kmsim.linux import *\n"
        "class s(Struct):\n    _fields_ = [('a', long), ('b', int_)]\n"
        "def i():\n    p = s.at(0)\n    p.b = 1\n    return 0\n"
        "module_init(i)\nMODULE_LICENSE('GPL')\n")
    r = shell.execute(f"insmod {mod}")
    assert r.status == 137                   # a page fault kills insmod (SIGKILL)
    log = shell.execute("dmesg").out
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000008" in log
    assert "#PF: supervisor write access in kernel mode" in log
    assert shell.execute("echo alive").out == "alive\n"


def test_static_lives_in_module_memory_and_counts_in_lsmod(shell, tmp_path):
    mod = tmp_path / "statmod.py"
    mod.write_text(
        "from kmsim.linux import *\n"
        "class big(Struct):\n    _fields_ = [('data', u8 * 8192)]\n"
        "s = big.static()\ncounter = int_.static()\n"
        "def i():\n    counter.value = 3\n    pr_notice('%d %d\\n', s.data[100], counter.value)\n"
        "    return 0\n"
        "def e():\n    pass\n"
        "module_init(i)\nmodule_exit(e)\nMODULE_LICENSE('GPL')\n")
    before = shell.execute("lsmod").out
    assert shell.execute(f"insmod {mod}").status == 0
    lsmod = shell.execute("lsmod").out.splitlines()
    size = int(next(line for line in lsmod if line.startswith("statmod")).split()[1])
    assert size >= 16384 + 8192
    assert "0 3" in shell.execute("dmesg").out
    assert shell.execute("rmmod statmod").status == 0
    assert shell.execute("lsmod").out == before


@pytest.fixture(scope="module")
def x86_64_kernel():
    """One small x86_64 machine for the layout examples (a layout reads only its pointer size)."""
    return Kernel("x86_64", "64M", "", seed=1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["c", "s", "i", "q", "p", "a3", "b"]), min_size=1, max_size=8))
def test_layout_follows_c_rules(x86_64_kernel, fields):
    set_current_kernel(x86_64_kernel)
    types = {"c": char, "s": short, "i": int_, "q": u64, "p": pointer, "a3": char * 3, "b": bool_}
    aligns = {"c": 1, "s": 2, "i": 4, "q": 8, "p": 8, "a3": 1, "b": 1}
    sizes = {"c": 1, "s": 2, "i": 4, "q": 8, "p": 8, "a3": 3, "b": 1}
    T = type("rand", (Struct,), {"_fields_": [(f"f{i}", types[f]) for i, f in enumerate(fields)]})
    off = 0
    for i, f in enumerate(fields):
        off = -(-off // aligns[f]) * aligns[f]
        assert offsetof(T, f"f{i}") == off
        off += sizes[f]
    al = max(aligns[f] for f in fields)
    assert alignof(T) == al and sizeof(T) == -(-off // al) * al


def test_kasan_checks_typed_field_writes(tmp_path):
    from tests.conftest import make_shell
    mod = tmp_path / "oobmod.py"
    mod.write_text(
        "from kmsim.linux import *\n"
        "class big(Struct):\n    _fields_ = [('a', int_), ('b', int_), ('c', u64 * 4)]\n"
        "def i():\n    p = kmalloc(8, GFP_KERNEL)\n    if not p:\n        return -ENOMEM\n"
        "    big.at(p).c[3] = 1\n    kfree(p)\n    return 0\n"
        "module_init(i)\nMODULE_LICENSE('GPL')\n")
    shell = make_shell(append="kasan")
    shell.execute(f"insmod {mod}")
    log = shell.execute("dmesg").out
    assert "BUG: KASAN: slab-out-of-bounds in i+" in log
    assert "Write of size 8 at addr" in log


HEADER = "from kmsim.linux import *\n"


FOOTER = "\nmodule_init(t_init)\nmodule_exit(t_exit)\nMODULE_LICENSE('GPL')\n"


def load(tmp_path, body: str, machine="x86_64", append="", args=""):
    (tmp_path / "t.py").write_text(HEADER + body + FOOTER)
    sh = make_shell(machine, append=append)
    r = sh.execute(f"insmod {tmp_path / 't.py'} {args}".strip())
    return sh, r.status


def texts(sh) -> list[str]:
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in sh.execute("dmesg").out.splitlines()]


LAYOUT = """
class inner(Struct):
    _fields_ = [("c", char), ("x", u64)]
class outer(Struct):
    _fields_ = [("a", char), ("in_", inner), ("arr", inner * 3), ("p", pointer),
                ("l", long), ("s", s64), ("name", char * 5), ("lh", list_head)]
def t_init():
    pr_info("sizes %d %d %d %d %d\\n", sizeof(pointer), sizeof(long), alignof(u64),
            sizeof(inner), alignof(inner))
    pr_info("outer %d %d %d %d %d %d %d %d %d\\n", sizeof(outer), alignof(outer),
            offsetof(outer, "in_"), offsetof(outer, "arr"), offsetof(outer, "p"),
            offsetof(outer, "l"), offsetof(outer, "s"), offsetof(outer, "name"),
            offsetof(outer, "lh"))
    m = kzalloc(sizeof(outer), GFP_KERNEL)
    o = outer.at(m)
    o.in_.x = 0x1122334455667788
    o.arr[2].x = 7
    o.arr[1].c = 65
    o.p = o.in_                                 # a view stores its address
    o.l = -1
    o.s = -2
    strscpy(o.name, "hello world", 5)
    INIT_LIST_HEAD(o.lh)
    pr_info("values %llx %d %d %d %ld %lld %s %d\\n", o.in_.x, o.arr[2].x, o.arr[1].c,
            o.p == addressof(o, "in_"), o.l, o.s, o.name, list_empty(o.lh))
    c = container_of(addressof(o.arr[2], "x"), inner, "x")
    pr_info("views %d %d %d\\n", c.addr == addressof(o.arr[2]),
            inner.array_at(addressof(o, "arr"), 3)[2].x,
            outer.at(m) == o)
    pr_info("raw %llx\\n", u64.at(m + offsetof(outer, "in_") + offsetof(inner, "x")).value)
    kfree(m)
    return 0
def t_exit():
    pass
"""


EXPECTED = {
    # machine: (sizes line, outer line)   pointer/long 8 or 4; u64 aligned to 8, 4 or 8
    "x86_64": ("sizes 8 8 8 16 8", "outer 120 8 8 24 72 80 88 96 104"),
    "i386": ("sizes 4 4 4 12 4", "outer 84 4 4 16 52 56 60 68 76"),
    "rpi2": ("sizes 4 4 8 16 8", "outer 104 8 8 24 72 76 80 88 96"),
}


STATIC = """
big = (char * 20000).static()
arr = (int_ * 4).static()
def t_init():
    arr[2] = 7
    pr_info("static %d %d %d\\n", big.addr >= 0, arr[2], int_.array_at(arr.addr, 4)[2])
    return 0
def t_exit():
    pass
"""


STRINGS = """
def t_init():
    p = kzalloc(32, GFP_KERNEL)
    r = strscpy(p, "hello world", 6)
    pr_info("strscpy %d %s %d\\n", r, (char * 32).at(p), strlen(p))
    memcpy(p, b"abcdefgh", 8)
    memmove(p + 2, p, 6)
    pr_info("memmove %s\\n", (char * 32).at(p))
    pr_info("memcmp %d %d\\n", memcmp(p, b"ababcdef", 8), memcmp(p, b"abb", 3) < 0)
    strcpy(p, "xyz")
    pr_info("strcmp %d %d %d\\n", strcmp(p, "xyz"), strcmp(p, "xz") < 0, strcmp(p, "xy") > 0)
    memset(p, 0x41, 4)
    pr_info("memset %s\\n", (char * 32).at(p))
    kfree(p)
    return 0
def t_exit():
    pass
"""


UAF = """
class st(Struct):
    _fields_ = [("id", unsigned_int), ("name", char * 10)]
mode = 0
module_param("mode", "int", 0o644)
def t_init():
    if mode == 0:
        p = kmalloc(sizeof(st), GFP_KERNEL)
        v = st.at(p)
        kfree(p)
    else:
        p = vmalloc(100)
        v = st.at(p)
        vfree(p)
    v.id = 5
    return 0
def t_exit():
    pass
"""


@pytest.mark.parametrize("machine", sorted(EXPECTED))
def test_struct_layout_and_views_on_each_machine(tmp_path, machine):
    sh, st = load(tmp_path, LAYOUT, machine)
    assert st == 0
    lines = texts(sh)
    sizes, outer = EXPECTED[machine]
    assert sizes in lines and outer in lines
    assert "values 1122334455667788 7 65 1 -1 -2 hell 1" in lines
    assert "views 1 7 1" in lines and "raw 1122334455667788" in lines


def test_static_data_lives_in_module_memory_and_counts_in_lsmod(tmp_path):
    sh, st = load(tmp_path, STATIC)
    assert st == 0 and "static 1 7 7" in texts(sh)
    size = int(re.search(r"^t +(\d+) ", sh.execute("lsmod").out, re.M).group(1))
    assert size > 16384 + 20000
    v = sh.kernel.vmalloc
    assert v.modules_space.contains(sh.kernel.modules.modules["t"].chunks[-1][0])
    before = sh.execute("cat /proc/vmallocinfo").out.count("load_module")
    assert sh.execute("rmmod t").status == 0
    assert sh.execute("cat /proc/vmallocinfo").out.count("load_module") < before
    assert v.debug_check() == []


def test_string_functions_on_simulated_memory(tmp_path):
    sh, st = load(tmp_path, STRINGS)
    assert st == 0
    lines = texts(sh)
    for want in ("strscpy -7 hello 5", "memmove ababcdef", "memcmp 0 1", "strcmp 0 1 1",
                 "memset AAAAcdef"):
        assert want in lines


def test_write_through_a_view_of_freed_kmalloc_memory_is_caught_by_kasan(tmp_path):
    sh, _ = load(tmp_path, UAF, append="kasan", args="mode=0")
    lines = texts(sh)
    assert any(ln.startswith("BUG: KASAN: use-after-free in t_init+") for ln in lines)
    assert any(ln.startswith("Write of size 4 at addr ") for ln in lines)


@pytest.mark.parametrize("append", ["", "kasan"])
def test_write_through_a_view_of_a_freed_vmalloc_area_oopses(tmp_path, append):
    sh, st = load(tmp_path, UAF, append=append, args="mode=1")
    assert st != 0
    lines = texts(sh)
    assert any(ln.startswith("BUG: unable to handle page fault for address: ffffc9") for ln in lines)
    assert any("which was vfree()d" in ln for ln in lines)
    assert sh.execute("lsmod").status == 0          # the machine goes on


@pytest.mark.parametrize("machine,null", [("x86_64", "0000000000000000"), ("i386", "00000000"),
                                          ("rpi2", "00000000")])
def test_string_function_on_null_is_the_null_oops(tmp_path, machine, null):
    body = "def t_init():\n    memset(0, 0, 4)\n    return 0\ndef t_exit():\n    pass\n"
    sh, st = load(tmp_path, body, machine)
    assert st != 0
    expect = (f"Unable to handle kernel NULL pointer dereference at virtual address {null} "
              f"when write" if machine == "rpi2"
              else f"BUG: kernel NULL pointer dereference, address: {null}")
    assert expect in texts(sh)


def test_oops_in_a_string_function_names_it_not_a_helper(tmp_path):
    body = ("def t_init():\n    return strlen(0xffffc90100000000)\n"
            "def t_exit():\n    pass\n")
    sh, st = load(tmp_path, body)
    assert st != 0
    lines = texts(sh)
    assert any(ln.startswith("RIP: 0010:strlen+") for ln in lines)
    assert not any("_cstr" in ln for ln in lines)
    body = "def t_init():\n    strcpy(0, 3.5)\n    return 0\ndef t_exit():\n    pass\n"
    sh, st = load(tmp_path, body)
    assert any(ln.startswith("kmsim: strcpy(): TypeError") for ln in texts(sh))


@pytest.mark.parametrize("stmt,msg", [
    ("int_.array_at(p, 2)[2] = 1", "IndexError: index 2 is outside int[2]"),
    ("int_.array_at(p, 2)[1] = 'x'", "TypeError: an integer field takes an int, not str"),
])
def test_bad_view_access_hint_names_no_python_internals(tmp_path, stmt, msg):
    body = (f"def t_init():\n    p = kzalloc(8, GFP_KERNEL)\n    {stmt}\n    return 0\n"
            "def t_exit():\n    pass\n")
    sh, st = load(tmp_path, body)
    assert st != 0
    hints = [ln for ln in texts(sh) if ln.startswith("kmsim: ") and msg in ln]
    assert hints and not any(w in hints[0] for w in ("__setitem__", "fset", "__setattr__"))
