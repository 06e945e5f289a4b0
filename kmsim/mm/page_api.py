"""The page allocator's module API (linux/gfp.h), as kmsim.linux.gfp exports it.

The common call (int arguments, an address of the direct map) is written out
here, one Python call deep; anything else goes to the checks of kmsim.mm.page,
which raise the errors a module should see.
"""
from __future__ import annotations

from .. import current as _cpu
from ..current import current_kernel
from ..machine import PAGE_SHIFT, PAGE_SIZE
from ..report import API_CODES
from . import page as _p
from .gfp import __GFP_HIGHMEM as _GFP_HIGHMEM
from .gfp import __GFP_ZERO as _GFP_ZERO

__all__ = ["alloc_pages", "alloc_page", "__get_free_pages", "__get_free_page", "get_zeroed_page",
           "free_pages", "free_page", "__free_pages", "__free_page"]

_LOWMEM_ONLY = ~_GFP_HIGHMEM
_Page = _p.Page


def alloc_pages(gfp_mask, order):
    """struct page *alloc_pages(gfp_t gfp_mask, unsigned int order); None on failure."""
    k = _cpu.running
    if k is not None and type(gfp_mask) is int and type(order) is int:
        b = k.buddy
        pfn = b.alloc(gfp_mask, order)
        if pfn < 0:
            return None
        page = b.pages[pfn]
        return page if page is not None else b.new_page(pfn)
    return _p.alloc_pages(current_kernel(), gfp_mask, order)


def alloc_page(gfp_mask):
    """alloc_pages(gfp_mask, 0)."""
    return alloc_pages(gfp_mask, 0)


def __get_free_pages(gfp_mask, order):
    """unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order); 0 on failure."""
    k = _cpu.running
    if k is not None and type(gfp_mask) is int and type(order) is int:
        pfn = k.buddy.alloc(gfp_mask & _LOWMEM_ONLY, order)    # lowmem: in the direct map
        return k.vm.page_offset + (pfn << PAGE_SHIFT) if pfn >= 0 else 0
    return _p.get_free_pages(current_kernel(), gfp_mask, order)


def __get_free_page(gfp_mask):
    """__get_free_pages(gfp_mask, 0)."""
    return __get_free_pages(gfp_mask, 0)


def get_zeroed_page(gfp_mask):
    """__get_free_pages(gfp_mask | __GFP_ZERO, 0)."""
    return __get_free_pages(gfp_mask | _GFP_ZERO, 0)


def free_pages(addr, order):
    """void free_pages(unsigned long addr, unsigned int order)."""
    k = _cpu.running
    if k is not None and type(addr) is int and type(order) is int and not addr & (PAGE_SIZE - 1):
        vm = k.vm
        if vm.page_offset < addr < vm.direct_end:
            k.buddy.free((addr - vm.page_offset) >> PAGE_SHIFT, order)
            return
    _p.free_pages(current_kernel(), addr, order)


def free_page(addr):
    """free_pages(addr, 0)."""
    free_pages(addr, 0)


def __free_pages(page, order):
    """void __free_pages(struct page *page, unsigned int order)."""
    k = _cpu.running
    if k is not None and type(page) is _Page and type(order) is int:
        k.buddy.free(page.pfn, order)
        return
    _p.free_page_struct(current_kernel(), page, order)


def __free_page(page):
    """__free_pages(page, 0)."""
    __free_pages(page, 0)


def _register_api_codes() -> None:
    """Name these as API functions for the loader's error hints (they live outside linux/)."""
    API_CODES.update(f.__code__ for f in (alloc_pages, alloc_page, __get_free_pages, __get_free_page,
                                          get_zeroed_page, free_pages, free_page, __free_pages,
                                          __free_page))


_register_api_codes()
