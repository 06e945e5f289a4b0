"""HighMem on i386: page_address is 0 until kmap maps the page in the pkmap window."""
from __future__ import annotations

import re

import pytest
from inline_modules import load, log_text, source_file, texts

from kmsim.errors import KernelBUG
from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SHIFT, PAGE_SIZE
from kmsim.mm import gfp as G
from kmsim.mm.page import Page, page_address
from kmsim.mm.physmem import PG_highmem_mapped
from tests.conftest import make_shell


@pytest.fixture
def k32():
    return Kernel("i386", "1G", "", seed=2)


def _highmem_page(k):
    pfn = k.buddy.alloc(G.GFP_HIGHUSER, 0)
    assert k.buddy.zone_of(pfn).name == "HighMem"
    return Page(k, pfn)


def test_kmap_maps_through_the_page_tables(k32):
    k = k32
    v = k.vmalloc
    page = _highmem_page(k)
    assert page_address(k, page) == 0 and k.kmap_address(page.pfn) == 0
    addr = k.kmap(page)
    assert 0xff800000 <= addr < 0xff800000 + 1024 * 4096
    assert page_address(k, page) == addr
    assert v.pt.lookup(addr) == page.pfn
    assert v.pt.walk(addr)[-1].entry == (page.pfn << PAGE_SHIFT) | 0x163
    assert k.phys.flags[page.pfn] & PG_highmem_mapped
    assert k.kmap(page) == addr                      # a second reference, same slot
    k.vm.write(addr + 10, b"high")
    assert k.phys.mm[(page.pfn << PAGE_SHIFT) + 10:(page.pfn << PAGE_SHIFT) + 14] == b"high"
    assert v.debug_check() == []
    k.kunmap(page)
    assert page_address(k, page) == addr
    k.kunmap(page)               # kunmap_high: pkmap_count drops to 1, the mapping stays
    assert page_address(k, page) == addr                    # until flush_all_zero_pkmaps
    assert k.vm.read(addr + 10, 4) == b"high"
    with pytest.raises(KernelBUG):
        k.kunmap(page)
    assert v.debug_check() == []


def test_lowmem_kmap_is_page_address(k32):
    k = k32
    pfn = k.buddy.alloc(G.GFP_KERNEL, 0)
    page = Page(k, pfn)
    assert k.kmap(page) == k.pfn_to_virt(pfn) == 0xC0000000 + (pfn << PAGE_SHIFT)
    k.kunmap(page)
    assert page_address(k, page) == k.pfn_to_virt(pfn)


def test_kunmap_addr_and_slots_reused(k32):
    k = k32
    a, b = _highmem_page(k), _highmem_page(k)
    va, vb = k.kmap(a), k.kmap(b)
    assert vb == va + 4096
    k.kunmap_addr(va)
    assert k.kmap_address(a.pfn) == 0 and k.kmap_address(b.pfn) == vb
    k.kunmap_addr(vb)
    assert k.vmalloc.pkmap.mappings() == {}


def test_vmalloc_uses_highmem_frames(k32):
    k = k32
    v = k.vmalloc
    zones = set()
    for _ in range(40):
        a = v.vmalloc(4096)
        zones.add(k.buddy.zone_of(v.find_area(a).pages[0]).name)
    assert "HighMem" in zones


def test_x86_64_kmap_is_page_address(kernel):
    pfn = kernel.buddy.alloc(G.GFP_HIGHUSER, 0)
    assert kernel.kmap(Page(kernel, pfn)) == kernel.pfn_to_virt(pfn)
    assert kernel.kmap_address(pfn) == 0


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


def test_vmalloc_page_failure_reports_pages_obtained_and_highmem_mask(kernel):
    """warn_alloc(gfp_mask | __GFP_HIGHMEM, 'size %lu', area->nr_pages * PAGE_SIZE)."""
    v = kernel.vmalloc
    calls = []

    def fail_after_two(gfp, order):
        calls.append(gfp)
        return len(calls) > 2
    kernel.buddy.fail_hook = fail_after_two
    kernel.printk.clear()
    assert v.vmalloc(5 * PAGE_SIZE) == 0
    kernel.buddy.fail_hook = None
    text = log_text(kernel)
    assert ("kmsim: vmalloc error: size 8192, failed to allocate pages, "
            "mode:0xcc2(GFP_KERNEL|__GFP_HIGHMEM), nodemask=(null),cpuset=/,mems_allowed=0") in text
    assert "page allocation failure" not in text            # the pages are asked with __GFP_NOWARN
    assert all(g & G.__GFP_NOWARN and g & G.__GFP_HIGHMEM for g in calls)
    assert v.debug_check() == []


def test_kunmap_leaves_the_page_mapped_until_the_flush():
    """kunmap_high only drops pkmap_count to 1: page_address() keeps the address."""
    k = Kernel("i386", "1G", "", seed=1)
    page = _highmem_page(k)
    addr = k.kmap(page)
    assert addr == 0xff801000                      # last_pkmap_nr starts at 0: slot 1
    k.kunmap(page)
    assert page_address(k, page) == addr
    assert k.kmap(page) == addr                     # the same slot again
    k.kunmap(page)
    k.vm.write(addr, b"still")                      # mapped: no fault
    assert k.vmalloc.debug_check() == []


def test_pkmap_flush_on_wrap_frees_unused_slots():
    k = Kernel("i386", "1G", "", seed=1)
    pk = k.vmalloc.pkmap
    page = _highmem_page(k)
    addr = k.kmap(page)
    k.kunmap(page)
    pk.last_nr = pk.n - 1                           # the next search wraps to slot 0
    other = _highmem_page(k)
    assert k.kmap(other) == 0xff800000              # wrapped to slot 0, after the flush
    assert page_address(k, page) == 0               # its unused slot 1 was flushed
    assert k.vmalloc.pt.lookup(addr) < 0


def test_kunmap_once_too_often_is_a_bug(tmp_path):
    path = source_file(tmp_path, "kdouble", """
@module_init
def kdouble_init():
    page = alloc_pages(GFP_HIGHUSER, 0)
    kmap(page)
    kunmap(page)
    kunmap(page)
    return 0
""")
    out = make_shell(machine="i386").execute(f"insmod {path}; dmesg").out
    assert "kernel BUG at mm/highmem.c:355!" in out
    assert "Traceback" not in out


def test_highmem_module_page_address_after_kunmap():
    sh = make_shell(machine="i386")
    from tests.conftest import MODULES
    sh.execute(f"insmod {MODULES / 'highmem.py'}")
    out = sh.execute("dmesg").out
    m = re.search(r"kmap returned (ff8[0-9a-f]{5}), page_address is now \1", out)
    assert m and f"page_address after kunmap: {m.group(1)}" in out
