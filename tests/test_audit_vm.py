"""Audit of vmalloc, page tables, HighMem and mempool as a user meets them (issue 4)."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_shell

HEADER = "from kmsim.linux import *\n"
FOOTER = "\nmodule_init(t_init)\nmodule_exit(t_exit)\nMODULE_LICENSE('GPL')\n"


def load(tmp_path, body: str, machine="x86_64", append="", name="t"):
    """A shell with the module (body defines t_init/t_exit) loaded; returns (shell, status)."""
    src = HEADER + body + FOOTER
    (tmp_path / f"{name}.py").write_text(src)
    sh = make_shell(machine, append=append)
    r = sh.execute(f"insmod {tmp_path / name}.py")
    return sh, r.status


def texts(sh) -> list[str]:
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in sh.execute("dmesg").out.splitlines()]


def value(lines, key):
    return next(int(ln.split()[-1], 16) for ln in lines if ln.startswith(key + " "))


ADDRS = """
s = unsigned_int.static()
v = k = 0
page = None
def t_init():
    global v, k, page
    v = vmalloc(3 * 4096)
    k = kmalloc(64, GFP_KERNEL)
    page = alloc_pages(GFP_HIGHUSER, 0)
    pr_info("V %px\\n", v)
    pr_info("S %px\\n", s.addr)
    pr_info("K %px\\n", k)
    pr_info("H %px\\n", kmap(page))
    return 0
def t_exit():
    kunmap(page)
    __free_pages(page, 0)
    vfree(v)
    kfree(k)
"""


@pytest.mark.parametrize("machine", ["x86_64", "i386", "rpi2"])
def test_pagewalk_of_every_kind_of_address(tmp_path, machine):
    sh, st = load(tmp_path, ADDRS, machine)
    assert st == 0
    lines = texts(sh)
    v, s, k, h = (value(lines, x) for x in "VSKH")
    w = 16 if machine == "x86_64" else 8
    out = sh.execute(f"pagewalk {v + 4096 + 0x10:#x}").out
    assert out.startswith(f"{v + 4096 + 0x10:0{w}x}: vmalloc area {v:#x}-")
    assert "offset 0x010)" in out and "not mapped" not in out
    pfn = int(re.search(r"frame pfn (0x[0-9a-f]+)", out).group(1), 16)
    assert sh.kernel.vmalloc.vmalloc_to_pfn(v + 4096) == pfn
    out = sh.execute(f"pagewalk {s:#x}").out
    assert "load_module+0xbb7/0x21a0" in out and "frame pfn" in out
    out = sh.execute(f"pagewalk {k:#x}").out
    assert "direct (linear) map" in out and f"pfn {hex(sh.kernel.virt_to_pfn(k))}" in out
    out = sh.execute(f"pagewalk {h:#x}").out
    if machine == "i386":           # a HighMem page, mapped in the pkmap window
        assert out.startswith(f"{h:08x}: pkmap window (kmap)") and "zone HighMem" in out
    else:                           # lowmem: kmap is page_address
        assert "direct (linear) map" in out
    out = sh.execute(f"pagewalk {v + 3 * 4096:#x}").out
    assert "guard page of vmalloc area" in out and "not mapped: an access Oopses with" in out
    out = sh.execute("pagewalk 0x100").out
    assert "no mapped range" in out and "not mapped" in out
    assert sh.execute("rmmod t").status == 0


def test_i386_oops_prints_pde_and_pte_as_the_32bit_kernel():
    sh = make_shell("i386")
    v = sh.kernel.vmalloc
    a = v.vmalloc(4096)
    assert re.fullmatch(r"\*pde = [0-9a-f]{8} \*pte = 00000000 ", v.pt.pgd_line(a + 4096))
    assert v.pt.pgd_line(0x100) == "*pde = 00000000 "
    out = sh.execute(f"pagewalk {a + 4096:#x}").out
    assert "Oopses with '*pde = " in out


NULL_I386 = """
def t_init():
    return int_.at(0x104).value
def t_exit():
    pass
"""


def test_i386_null_dereference_report(tmp_path):
    sh, st = load(tmp_path, NULL_I386, "i386")
    assert st != 0
    lines = texts(sh)
    i = lines.index("BUG: kernel NULL pointer dereference, address: 00000104")
    assert lines[i + 3] == "*pde = 00000000 "


DOUBLE_DEL = """
class node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]
head = LIST_HEAD()
def t_init():
    n = node.at(kzalloc(sizeof(node), GFP_KERNEL))
    list_add(addressof(n, "list"), head)
    list_del(addressof(n, "list"))
    list_del(addressof(n, "list"))
    return 0
def t_exit():
    pass
"""


USE_AFTER_DEL = DOUBLE_DEL.replace("    list_del(addressof(n, \"list\"))\n    return 0",
                                   "    list_head.at(n.list.next).next = 0\n    return 0")


def test_double_list_del_is_the_list_debug_bug(tmp_path):
    sh, st = load(tmp_path, DOUBLE_DEL)
    assert st != 0
    lines = texts(sh)
    assert any(ln.startswith("list_del corruption, ") and
               ln.endswith("->next is LIST_POISON1 (dead000000000100)") for ln in lines)
    assert "kernel BUG at lib/list_debug.c:53!" in lines


def test_deleted_list_entry_on_x86_64_is_a_general_protection_fault(tmp_path):
    assert USE_AFTER_DEL != DOUBLE_DEL
    sh, st = load(tmp_path, USE_AFTER_DEL)
    assert st != 0
    lines = texts(sh)
    assert ("general protection fault, probably for non-canonical address "
            "0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI") in lines
    assert not any(ln.startswith(("#PF:", "BUG: unable")) or ln.startswith("CR2:") and "CR3:" not in ln
                   for ln in lines)


def test_deleted_list_entry_on_i386_is_a_null_dereference(tmp_path):
    sh, st = load(tmp_path, USE_AFTER_DEL, "i386")
    assert st != 0
    assert "BUG: kernel NULL pointer dereference, address: 00000100" in texts(sh)


VFREE_MIDDLE = """
def t_init():
    d = vmalloc(3 * 4096)
    vfree(d + 4096)
    pr_info("mapped %d\\n", vmalloc_to_page(d) is not None)
    e = vmalloc(4096)
    vfree(e + 4096)             # its guard page: still inside the area
    f = vmalloc(4096)
    vfree(f + 16)
    vfree(f)
    return 0
def t_exit():
    pass
"""


def test_vfree_inside_an_area_frees_it_all_as_6_1_does(tmp_path):
    sh, st = load(tmp_path, VFREE_MIDDLE)
    lines = texts(sh)
    assert st == 0
    assert sum("is inside the vmalloc area" in ln for ln in lines) == 2
    assert "mapped 0" in lines
    assert sum(ln.startswith("Trying to vfree() bad address (") for ln in lines) == 1
    assert not any("nonexistent vm area" in ln for ln in lines)
    assert "t_init" not in sh.execute("cat /proc/vmallocinfo").out
    assert sh.kernel.vmalloc.debug_check() == []


SIZES = """
def t_init():
    pr_info("zero %d\\n", vmalloc(0))
    pr_info("zero again %d\\n", vmalloc(0))
    pr_info("huge %d\\n", vmalloc(1 << 40))
    pr_info("minus %d\\n", vzalloc(-1))
    small = kvmalloc(100, GFP_KERNEL)
    large = kvmalloc(4 << 20, GFP_KERNEL)
    nowait = kvmalloc(64 << 20, GFP_NOWAIT)
    pr_info("small %d large %d\\n", is_vmalloc_addr(small), is_vmalloc_addr(large))
    kvfree(small)
    kvfree(large)
    kvfree(nowait)
    kvfree(0)
    return 0
def t_exit():
    pass
"""


def test_vmalloc_sizes_and_kvmalloc(tmp_path):
    sh, st = load(tmp_path, SIZES)
    assert st == 0
    lines = texts(sh)
    assert "zero 0" in lines and "zero again 0" in lines and "huge 0" in lines
    assert sum(ln.startswith("WARNING: CPU: 0 PID:") and "__vmalloc_node_range" in ln
               for ln in lines) == 1                  # WARN_ON_ONCE(!size)
    assert any(ln.startswith("insmod: vmalloc error: size 1099511627776, exceeds total pages, "
                             "mode:0xcc0(GFP_KERNEL), nodemask=(null)") for ln in lines)
    assert any("vmalloc error: size 18446744073709551615, exceeds total pages" in ln
               for ln in lines)
    assert "small 0 large 0" in lines or "small 0 large 1" in lines
    assert sh.execute("rmmod t").status == 0
    assert sh.kernel.vmalloc.debug_check() == []


def test_kvmalloc_falls_back_to_vmalloc_when_kmalloc_fails(tmp_path):
    body = """
def t_init():
    a = kvmalloc(1 << 20, GFP_KERNEL)
    pr_info("vmalloc %d\\n", is_vmalloc_addr(a))
    kvfree(a)
    return 0
def t_exit():
    pass
"""
    src = HEADER + body + FOOTER
    (tmp_path / "t.py").write_text(src)
    sh = make_shell()
    k = sh.kernel
    slab = k.slab
    old = slab.fail_hook
    slab.fail_hook = lambda *a, **kw: True
    buddy_old = k.buddy.fail_hook
    k.buddy.fail_hook = lambda gfp, order: order > 0
    try:
        assert sh.execute(f"insmod {tmp_path / 't.py'}").status == 0
    finally:
        slab.fail_hook, k.buddy.fail_hook = old, buddy_old
    assert "vmalloc 1" in texts(sh)
    assert k.vmalloc.debug_check() == []


RESIZE = """
cache = pool = None
def t_init():
    global cache, pool
    cache = kmem_cache_create("t_cache", 40, 0, 0, None)
    pool = mempool_create(4, mempool_alloc_slab, mempool_free_slab, cache)
    pr_info("created %d %d\\n", pool.min_nr, pool.curr_nr)
    pr_info("up %d %d %d\\n", mempool_resize(pool, 9), pool.min_nr, pool.curr_nr)
    pr_info("down %d %d %d\\n", mempool_resize(pool, 2), pool.min_nr, pool.curr_nr)
    a = mempool_alloc(pool, GFP_KERNEL)
    b = mempool_alloc(pool, GFP_KERNEL)
    mempool_free(a, pool)
    mempool_destroy(pool)
    kmem_cache_free(cache, b)
    kmem_cache_destroy(cache)
    return 0
def t_exit():
    pass
"""


def test_mempool_resize_up_and_down_and_destroy_with_an_element_out(tmp_path):
    sh, st = load(tmp_path, RESIZE, append="slab_nomerge")
    lines = texts(sh)
    assert st == 0
    assert "created 4 4" in lines and "up 0 9 9" in lines and "down 0 2 2" in lines
    assert any("mempool_destroy(): 1 element taken with mempool_alloc() was never given back"
               in ln for ln in lines)
    assert not re.search(r"^t_cache ", sh.execute("cat /proc/slabinfo").out, re.M)


KMAP_AFTER_KUNMAP = """
def t_init():
    page = alloc_pages(GFP_HIGHUSER, 0)
    a = kmap(page)
    pr_info("same %d\\n", kmap(page) == a)
    kunmap(page)
    u8.at(a).value = 1              # still kmapped once
    kunmap(page)
    pr_info("page_address %d\\n", page_address(page))
    u8.at(a).value = 1              # not any more
    return 0
def t_exit():
    pass
"""


def test_pkmap_address_after_the_last_kunmap_still_maps_the_page(tmp_path):
    """kunmap_high leaves the slot mapped (pkmap_count 1) until flush_all_zero_pkmaps:
    page_address() still answers and the stale write lands, as on 6.1."""
    sh, st = load(tmp_path, KMAP_AFTER_KUNMAP, "i386")
    assert st == 0
    lines = texts(sh)
    assert "same 1" in lines
    assert any(ln.startswith("page_address ") and ln != "page_address 0" for ln in lines)
    assert not any(ln.startswith("BUG: unable to handle page fault") for ln in lines)
