"""linux/vmalloc.h (and kvmalloc from linux/mm.h): virtually contiguous memory."""
from ..kernel import current_kernel
from ..mm import gfp as _G
from ..mm.page import page_of as _page_of

__all__ = ["vmalloc", "vzalloc", "vfree", "vmalloc_to_page", "vmalloc_to_pfn", "is_vmalloc_addr",
           "kvmalloc", "kvzalloc", "kvfree", "kvcalloc", "kvmalloc_array",
           "vmalloc_user", "vmalloc_32"]


def _vm():
    return current_kernel().vmalloc


def vmalloc(size):
    """void *vmalloc(unsigned long size): page-aligned address, 0 on failure."""
    v = _vm()
    return v.vmalloc(size, _G.GFP_KERNEL, caller=v.caller_info("vmalloc+0x4b/0x60"))


def vzalloc(size):
    """void *vzalloc(unsigned long size): vmalloc, zeroed."""
    v = _vm()
    return v.vmalloc(size, _G.GFP_KERNEL | _G.__GFP_ZERO, caller=v.caller_info("vzalloc+0x4b/0x60"))


vmalloc_user = vzalloc


def vmalloc_32(size):
    """void *vmalloc_32(unsigned long size): frames below 4 GiB."""
    v = _vm()
    return v.vmalloc(size, _G.GFP_KERNEL | _G.__GFP_DMA32, caller=v.caller_info("vmalloc_32+0x4b/0x60"))


def vfree(addr):
    """void vfree(const void *addr): vfree(NULL) does nothing."""
    _vm().vfree(addr)


def vmalloc_to_page(addr):
    """struct page *vmalloc_to_page(const void *addr): None if nothing is mapped there."""
    k = current_kernel()
    pfn = k.vmalloc.vmalloc_to_pfn(addr)
    return _page_of(k, pfn) if pfn >= 0 else None


def vmalloc_to_pfn(addr):
    """unsigned long vmalloc_to_pfn(const void *addr): 0 if nothing is mapped there."""
    return max(0, _vm().vmalloc_to_pfn(addr))


def is_vmalloc_addr(x):
    """bool is_vmalloc_addr(const void *x): VMALLOC_START <= x < VMALLOC_END."""
    return _vm().is_vmalloc_addr(x)


def kvmalloc(size, flags):
    """void *kvmalloc(size_t size, gfp_t flags): kmalloc, falling back to vmalloc."""
    return _vm().kvmalloc(size, flags)


def kvzalloc(size, flags):
    """kvmalloc(size, flags | __GFP_ZERO)."""
    return _vm().kvmalloc(size, flags | _G.__GFP_ZERO)


def kvmalloc_array(n, size, flags):
    """kvmalloc(n * size), 0 if the product overflows."""
    total = n * size
    return 0 if total >= 1 << 63 else _vm().kvmalloc(total, flags)


def kvcalloc(n, size, flags):
    """kvmalloc_array(n, size, flags | __GFP_ZERO)."""
    return kvmalloc_array(n, size, flags | _G.__GFP_ZERO)


def kvfree(addr):
    """void kvfree(const void *addr)."""
    _vm().kvfree(addr)


def __getattr__(name):
    if name == "VMALLOC_START":
        return current_kernel().vmalloc_start
    if name == "VMALLOC_END":
        return current_kernel().vmalloc_end
    raise AttributeError(name)

