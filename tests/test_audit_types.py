"""Audit of typed memory as a module uses it on each machine (issue 3, typed memory)."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_shell

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


@pytest.mark.parametrize("machine", sorted(EXPECTED))
def test_struct_layout_and_views_on_each_machine(tmp_path, machine):
    sh, st = load(tmp_path, LAYOUT, machine)
    assert st == 0
    lines = texts(sh)
    sizes, outer = EXPECTED[machine]
    assert sizes in lines and outer in lines
    assert "values 1122334455667788 7 65 1 -1 -2 hell 1" in lines
    assert "views 1 7 1" in lines and "raw 1122334455667788" in lines


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


def test_string_functions_on_simulated_memory(tmp_path):
    sh, st = load(tmp_path, STRINGS)
    assert st == 0
    lines = texts(sh)
    for want in ("strscpy -7 hello 5", "memmove ababcdef", "memcmp 0 1", "strcmp 0 1 1",
                 "memset AAAAcdef"):
        assert want in lines


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
