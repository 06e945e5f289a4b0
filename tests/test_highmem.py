"""HighMem on i386: page_address is 0 until kmap maps the page in the pkmap window."""
from __future__ import annotations

import pytest

from kmsim.errors import KernelBUG
from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SHIFT
from kmsim.mm import gfp as G
from kmsim.mm.page import Page, page_address
from kmsim.mm.physmem import PG_highmem_mapped


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
