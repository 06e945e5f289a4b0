"""linux/mm.h, highmem.h, asm/page.h: pages and addresses."""
from ..kernel import current_kernel
from ..machine import PAGE_SHIFT, PAGE_SIZE
from ..mm import page as _p
from .mmzone import MAX_ORDER

PAGE_MASK = ~(PAGE_SIZE - 1)

__all__ = ["page_address", "virt_to_page", "page_to_pfn", "pfn_to_page", "__pa", "__va",
           "PAGE_SIZE", "PAGE_SHIFT", "PAGE_MASK", "get_order", "kmap", "kunmap", "PageHighMem",
           "page_zone", "virt_to_phys", "phys_to_virt", "page_to_virt", "virt_addr_valid",
           "kmap_local_page", "kunmap_local", "page_count", "MAX_ORDER"]


def page_address(page):
    """void *page_address(const struct page *page): 0 for an unmapped HighMem page."""
    return _p.page_address(current_kernel(), page)


def virt_to_page(addr):
    """struct page *virt_to_page(const void *addr)."""
    return _p.virt_to_page(current_kernel(), addr)


page_to_virt = page_address


def page_to_pfn(page):
    """unsigned long page_to_pfn(const struct page *page)."""
    return page.pfn


def pfn_to_page(pfn):
    """struct page *pfn_to_page(unsigned long pfn)."""
    return _p.pfn_to_page(current_kernel(), pfn)


def __pa(addr):
    """Physical address of a direct-map address."""
    return _p.pa(current_kernel(), addr)


def __va(phys):
    """Direct-map address of a physical address."""
    return _p.va(current_kernel(), phys)


virt_to_phys = __pa
phys_to_virt = __va


def virt_addr_valid(addr):
    """True if addr is in the direct map of existing memory."""
    k = current_kernel()
    pfn = k.virt_to_pfn(addr)
    return 0 <= pfn < k.nr_pages


def get_order(size):
    """int get_order(unsigned long size)."""
    return _p.get_order(size)


def kmap(page):
    """void *kmap(struct page *page): map a HighMem page into the pkmap window."""
    return current_kernel().kmap(page)


def kunmap(page):
    """void kunmap(struct page *page)."""
    current_kernel().kunmap(page)


kmap_local_page = kmap


def kunmap_local(addr):
    """kunmap_local(addr): unmap by address."""
    current_kernel().kunmap_addr(addr)


def PageHighMem(page):
    """True if the page is in ZONE_HIGHMEM."""
    z = page.zone
    return bool(z is not None and z.is_highmem)


def page_zone(page):
    """struct zone *page_zone(const struct page *page)."""
    return page.zone


def page_count(page):
    """The page's reference count."""
    return page.refcount
