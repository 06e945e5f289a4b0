"""Typed memory: C layout per machine, views through kernel.vm, faults, statics."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsim.errors import PageFault
from kmsim.kernel import Kernel
from kmsim.linux.gfp import GFP_KERNEL, __get_free_page
from kmsim.linux.list import list_head
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
    _fields_ = [("id", unsigned_int), ("example_string", char * 10)]


class node(Struct):
    _fields_ = [("value", int_), ("list", list_head), ("next", pointer)]


class mixed(Struct):
    _fields_ = [("c", char), ("q", u64), ("s", short), ("arr", int_ * 3), ("e", example_struct),
                ("b", bool_)]


@pytest.fixture
def page(kernel):
    return __get_free_page(GFP_KERNEL)


def test_lab_struct_is_16_bytes_with_string_at_4(kernel):
    assert sizeof(example_struct) == 16
    assert alignof(example_struct) == 4
    assert offsetof(example_struct, "example_string") == 4


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
    v = example_struct.at(page)
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
    v = example_struct.at(page)
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
    assert example_struct.at(page + 32).id == 5
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
        v.next  # noqa: B018
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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["c", "s", "i", "q", "p", "a3", "b"]), min_size=1, max_size=8))
def test_layout_follows_c_rules(fields):
    Kernel("x86_64", "64M", "", seed=1)
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
