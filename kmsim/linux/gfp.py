"""linux/gfp.h, gfp_types.h: GFP flags and the zone allocator's interface."""
from ..kernel import current_kernel
from ..mm import page as _p
from ..mm.gfp import *  # noqa: F401,F403  (the GFP_* and __GFP_* constants)
from ..mm.gfp import __all__ as _gfp_all

__all__ = [n for n in _gfp_all if n.startswith(("GFP_", "__GFP_"))] + [
    "alloc_pages", "alloc_page", "__get_free_pages", "__get_free_page", "get_zeroed_page",
    "free_pages", "free_page", "__free_pages", "__free_page"]


def alloc_pages(gfp_mask, order):
    """struct page *alloc_pages(gfp_t gfp_mask, unsigned int order); None on failure."""
    return _p.alloc_pages(current_kernel(), gfp_mask, order)


def alloc_page(gfp_mask):
    """alloc_pages(gfp_mask, 0)."""
    return _p.alloc_pages(current_kernel(), gfp_mask, 0)


def __get_free_pages(gfp_mask, order):
    """unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order); 0 on failure."""
    return _p.get_free_pages(current_kernel(), gfp_mask, order)


def __get_free_page(gfp_mask):
    """__get_free_pages(gfp_mask, 0)."""
    return _p.get_free_pages(current_kernel(), gfp_mask, 0)


def get_zeroed_page(gfp_mask):
    """__get_free_pages(gfp_mask | __GFP_ZERO, 0)."""
    return _p.get_free_pages(current_kernel(), gfp_mask | __GFP_ZERO, 0)  # noqa: F405


def free_pages(addr, order):
    """void free_pages(unsigned long addr, unsigned int order)."""
    _p.free_pages(current_kernel(), addr, order)


def free_page(addr):
    """free_pages(addr, 0)."""
    _p.free_pages(current_kernel(), addr, 0)


def __free_pages(page, order):
    """void __free_pages(struct page *page, unsigned int order)."""
    _p.free_page_struct(current_kernel(), page, order)


def __free_page(page):
    """__free_pages(page, 0)."""
    _p.free_page_struct(current_kernel(), page, 0)
