"""Page tables in simulated memory: entry formats, walks, table frames."""
from __future__ import annotations

import re

import pytest
from inline_modules import load, texts

from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SHIFT
from kmsim.mm.pagetable import decode_flags
from kmsim.mm.physmem import PG_pgtable
from tests.conftest import make_shell


@pytest.fixture(scope="module", params=["x86_64", "i386", "rpi2"])
def mk(request):
    return Kernel(request.param, "256M", "", seed=3)


def _entry(k, phys, size):
    return int.from_bytes(k.phys.mm[phys:phys + size], "little")


def test_walk_reads_the_entries_in_memory(mk):
    v = mk.vmalloc
    addr = v.vmalloc(3 * 4096)
    area = v.find_area(addr)
    for i, pfn in enumerate(area.pages):
        steps = v.pt.walk(addr + (i << PAGE_SHIFT))
        leaf = steps[-1]
        assert leaf.level == "PTE"
        assert _entry(mk, leaf.entry_phys, mk.machine.pte_size) == leaf.entry
        assert (leaf.entry & v.pt.addr_mask) >> PAGE_SHIFT == pfn
        assert leaf.entry & ~v.pt.addr_mask == v.pt.pte_kernel
    v.vfree(addr)


def test_entry_formats():
    k = Kernel("x86_64", "256M", "", seed=1)
    v = k.vmalloc
    addr = v.vmalloc(4096)
    steps = v.pt.walk(addr)
    assert [s.level for s in steps] == ["PGD", "P4D", "PUD", "PMD", "PTE"]
    assert steps[0].index == (addr >> 39) & 511 == 402
    assert steps[1].folded and steps[1].entry == steps[0].entry
    assert all(s.entry & 0xfff == 0x067 for s in steps[:4])
    assert steps[4].entry >> 63 == 1 and steps[4].entry & 0xfff == 0x163
    assert decode_flags("x86_64", steps[4].entry, True) == "P RW A D G NX"
    assert decode_flags("x86_64", steps[0].entry, False) == "P RW US A D"
    line = v.pt.pgd_line(addr + 4096)
    assert line.startswith(f"PGD {steps[0].entry:x} P4D {steps[0].entry:x} PUD ")
    assert line.endswith("PTE 0 ")


def test_i386_two_levels_of_4_byte_entries():
    k = Kernel("i386", "1G", "", seed=1)
    v = k.vmalloc
    addr = v.vmalloc(4096)
    steps = v.pt.walk(addr)
    assert [s.level for s in steps] == ["PGD", "PTE"]
    assert steps[0].index == addr >> 22 and steps[1].index == (addr >> 12) & 1023
    assert steps[1].entry & 0xfff == 0x163 and steps[1].entry < 1 << 32


def test_rpi2_short_descriptors():
    k = Kernel("rpi2", "256M", "", seed=1)
    v = k.vmalloc
    addr = v.vmalloc(4096)
    l1, l2 = v.pt.walk(addr)
    assert l1.index == addr >> 20 and l1.entry & 3 == 1          # coarse page table
    assert l2.index == (addr >> 12) & 255 and l2.entry & 2        # small page
    assert k.phys.order[v.pt.root] == 2                           # 16 KiB L1 table


def test_table_frames_are_pgtable_and_freed(mk):
    v = mk.vmalloc
    before = set(v.pt.used)
    kinds = {mk.owners[int(mk.phys.owner[p])].kind for p in before}
    assert kinds == {"pgtable"}
    assert all(mk.phys.flags[p] & PG_pgtable for p in before)
    far = v.vmalloc_start + (64 << 30 if mk.machine.ptr_size == 8 else 0x4000000)
    assert v.pt.map(far, v.find_area(v.vmalloc(4096)).pages[0]) is True
    assert len(v.pt.used) > len(before)
    v.pt.unmap(far)
    v.vfree(max(a.start for a in v.vmalloc_space.areas.values()))
    assert set(v.pt.used) == before
    assert v.debug_check() == []


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
