"""struct page handles and the page-level API (alloc_pages, free_pages, page_address ...).

A ``Page`` is a light handle on one frame of the struct page array: two Page
objects for the same pfn compare equal.  There is one per frame (``page_of``), made
the first time the frame is asked for and kept in ``PageAllocator.pages``, as the
kernel's struct page sits at a fixed place in the vmemmap: allocating a page costs a
list index, not an object.  The functions here hold the checks the kernel makes;
kmsim.linux.gfp and kmsim.linux.mm only forward to them.
"""
from __future__ import annotations

from ..errors import PageFault
from ..machine import PAGE_SHIFT, PAGE_SIZE
from . import gfp as G

__all__ = ["Page", "page_of", "alloc_pages", "get_free_pages", "free_pages", "free_page_struct",
           "page_address", "virt_to_page", "pfn_to_page", "pa", "va", "get_order"]


class Page:
    """struct page *: a handle on frame ``pfn``."""
    __slots__ = ("k", "pfn")

    def __init__(self, kernel, pfn: int):
        self.k = kernel
        self.pfn = pfn

    def __eq__(self, other):
        return isinstance(other, Page) and other.pfn == self.pfn

    def __hash__(self):
        return hash(self.pfn)

    def __repr__(self):
        return f"<struct page pfn={self.pfn:#x}>"

    @property
    def addr(self) -> int:
        """The struct page's own address (what %px of a page prints)."""
        return self.k.page_struct_addr(self.pfn)

    @property
    def flags(self) -> int:
        """page->flags (kmsim's bits)."""
        return int(self.k.phys.flags[self.pfn])

    @property
    def refcount(self) -> int:
        """page_ref_count(page)."""
        return int(self.k.phys.refcount[self.pfn])

    @property
    def order(self) -> int:
        """The order the block was allocated (or is free) with."""
        return int(self.k.phys.order[self.pfn])

    @property
    def zone(self):
        """page_zone(page)."""
        return self.k.buddy.zone_of(self.pfn)


def page_of(k, pfn: int) -> Page:
    """The struct page of frame pfn: the frame's one Page (made on first use); a Page of
    its own for a pfn outside the machine (pfn_to_page of a wild number)."""
    if 0 <= pfn < k.buddy.nr_pages:
        p = k.buddy.pages[pfn]
        return p if p is not None else k.buddy.new_page(pfn)
    return Page(k, pfn)


def _check_gfp_order(gfp, order, fn: str) -> None:
    if not isinstance(gfp, int) or isinstance(gfp, bool):
        raise TypeError(f"gfp_mask must be a GFP_* int, not {type(gfp).__name__}")
    if not isinstance(order, int) or isinstance(order, bool):
        raise TypeError(f"order must be an int, not {type(order).__name__}")


def alloc_pages(k, gfp: int, order: int) -> Page | None:
    """alloc_pages: a Page, or None on failure (never an error pointer)."""
    _check_gfp_order(gfp, order, "alloc_pages")
    pfn = k.buddy.alloc(gfp, order)
    return page_of(k, pfn) if pfn >= 0 else None


def get_free_pages(k, gfp: int, order: int) -> int:
    """__get_free_pages: a direct-map address, 0 on failure (__GFP_HIGHMEM is masked)."""
    _check_gfp_order(gfp, order, "__get_free_pages")
    pfn = k.buddy.alloc(gfp & ~G.__GFP_HIGHMEM, order)
    return k.pfn_to_virt(pfn) if pfn >= 0 else 0


def _addr_to_pfn(k, addr: int, fn: str) -> int:
    if not isinstance(addr, int) or isinstance(addr, bool):
        raise TypeError(f"{fn}() takes an address (int), not {type(addr).__name__}")
    pfn = k.virt_to_pfn(addr)
    if pfn < 0 or pfn >= k.nr_pages:
        # virt_to_page of an address outside the direct map reads a struct page that
        # does not exist: the kernel faults in the vmemmap area.
        bogus = (k.page_struct_addr(((addr - k.machine.page_offset) & k.machine.addr_mask) >> PAGE_SHIFT)
                 & k.machine.addr_mask)
        raise PageFault(bogus, False, hint=f"{fn}() was given {addr:#x}, which is not an address "
                                          f"from the page allocator (not in the direct map)")
    return pfn


def free_pages(k, addr: int, order: int) -> None:
    """free_pages: free 2^order pages at addr; free_pages(0, order) does nothing."""
    if addr == 0:
        return
    pfn = _addr_to_pfn(k, addr, "free_pages")
    if addr & (PAGE_SIZE - 1):
        k.printk.emit(4, f"kmsim: free_pages({addr:#x}) is not page aligned: freeing the page it is in")
    k.buddy.free(pfn, order)


def free_page_struct(k, page, order: int) -> None:
    """__free_pages: free the block of a struct page."""
    if page is None or page == 0:
        raise PageFault(0, False, hint="__free_pages() was given NULL")
    if not isinstance(page, Page):
        raise TypeError(f"__free_pages() takes a struct page (from alloc_pages), not {type(page).__name__}")
    k.buddy.free(page.pfn, order)


def page_address(k, page) -> int:
    """page_address: the page's kernel address; 0 for a HighMem page that is not kmapped."""
    if page is None:
        raise PageFault(0, False, hint="page_address() was given NULL")
    if not isinstance(page, Page):
        raise TypeError(f"page_address() takes a struct page, not {type(page).__name__}")
    addr = k.pfn_to_virt(page.pfn)
    if addr:
        return addr
    return k.kmap_address(page.pfn)


def virt_to_page(k, addr: int) -> Page:
    """virt_to_page: the struct page of a direct-map address."""
    return page_of(k, _addr_to_pfn(k, addr, "virt_to_page"))


def pfn_to_page(k, pfn: int) -> Page:
    """pfn_to_page."""
    return page_of(k, int(pfn))


def pa(k, addr: int) -> int:
    """__pa: physical address of a direct-map address."""
    return addr - k.machine.page_offset


def va(k, phys: int) -> int:
    """__va: direct-map address of a physical address."""
    return phys + k.machine.page_offset


def get_order(size: int) -> int:
    """get_order: the smallest order whose block holds size bytes."""
    size = int(size)
    if size <= PAGE_SIZE:
        return 0
    return ((size - 1) >> PAGE_SHIFT).bit_length()
