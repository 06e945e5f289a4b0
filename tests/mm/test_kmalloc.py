"""kmalloc: size classes, large allocations, ksize, the zeroing and overflow-checked variants."""
from __future__ import annotations

import pytest

from kmsim.errors import PageFault
from kmsim.mm import gfp as G
from kmsim.mm import kmalloc as KM

GFP = G.GFP_KERNEL


def cache_of(k, x):
    return k.slab.find_slab(x).cache.name


@pytest.mark.parametrize("size,name", [(1, "kmalloc-8"), (8, "kmalloc-8"), (9, "kmalloc-16"),
                                       (33, "kmalloc-64"), (65, "kmalloc-96"), (80, "kmalloc-96"),
                                       (97, "kmalloc-128"), (129, "kmalloc-192"),
                                       (193, "kmalloc-256"), (1000, "kmalloc-1k"),
                                       (4097, "kmalloc-8k"), (8192, "kmalloc-8k")])
def test_size_classes(kernel, size, name):
    x = KM.do_kmalloc(kernel, size, GFP)
    assert cache_of(kernel, x) == name
    assert KM.ksize(kernel, x) == int(name.split("-")[1].replace("k", "")) * (
        1024 if name.endswith("k") else 1)
    KM.do_kfree(kernel, x)


def test_families_by_gfp(kernel):
    assert cache_of(kernel, KM.do_kmalloc(kernel, 100, GFP | G.__GFP_DMA)) == "dma-kmalloc-128"
    assert cache_of(kernel, KM.do_kmalloc(kernel, 100, GFP | G.__GFP_RECLAIMABLE)) == "kmalloc-rcl-128"
    assert cache_of(kernel, KM.do_kmalloc(kernel, 100, GFP | G.__GFP_ACCOUNT)) == "kmalloc-cg-128"


def test_zero_size_and_null(kernel):
    assert KM.do_kmalloc(kernel, 0, GFP) == KM.ZERO_SIZE_PTR == 16
    KM.do_kfree(kernel, 0)
    KM.do_kfree(kernel, None)
    KM.do_kfree(kernel, 16)
    assert KM.ksize(kernel, 16) == 0 and KM.ksize(kernel, 0) == 0


def test_kmalloc_80_is_96_and_zeroed(kernel):
    x = KM.do_kmalloc(kernel, 80, GFP)
    assert KM.ksize(kernel, x) == 96
    assert kernel.vm.read(x, 80) == bytes(80)


def test_large_goes_to_page_allocator(kernel):
    free0 = kernel.buddy.nr_free_pages()
    x = KM.do_kmalloc(kernel, 3 * 4096 + 1, GFP)
    slub = kernel.slab
    assert x and slub.find_slab(x) is None
    assert KM.ksize(kernel, x) == 16384
    assert kernel.buddy.nr_free_pages() <= free0 - 4
    KM.do_kfree(kernel, x)
    assert (kernel.virt_to_pfn(x)) not in slub.large
    assert kernel.buddy.nr_free_pages() >= free0 - 1


def test_too_large_warns_and_fails(kernel):
    assert KM.do_kmalloc(kernel, KM.KMALLOC_MAX_SIZE + 1, GFP) == 0
    assert any("WARNING" in r.text for r in kernel.printk.visible())


def test_kcalloc_overflow_and_zeroing(kernel):
    assert KM.kcalloc(kernel, 1 << 62, 8, GFP) == 0
    assert KM.kmalloc_array(kernel, 1 << 40, 1 << 30, GFP) == 0
    x = KM.kcalloc(kernel, 10, 12, GFP)
    assert kernel.vm.read(x, 120) == bytes(120) and KM.ksize(kernel, x) == 128


def test_krealloc(kernel):
    x = KM.do_kmalloc(kernel, 20, GFP)
    kernel.vm.write(x, b"0123456789abcdefghij")
    assert KM.krealloc(kernel, x, 30, GFP) == x          # fits in kmalloc-32
    y = KM.krealloc(kernel, x, 200, GFP)
    assert y != x and kernel.vm.read(y, 20) == b"0123456789abcdefghij"
    assert KM.krealloc(kernel, y, 0, GFP) == KM.ZERO_SIZE_PTR
    z = KM.krealloc(kernel, 0, 50, GFP)
    assert KM.ksize(kernel, z) == 64


def test_kstrdup_kmemdup(kernel):
    x = KM.kstrdup(kernel, "Test", GFP)
    assert kernel.vm.read(x, 5) == b"Test\0"
    y = KM.kstrdup(kernel, x, GFP)
    assert y != x and kernel.vm.read_cstring(y) == b"Test"
    z = KM.kmemdup(kernel, x, 3, GFP)
    assert kernel.vm.read(z, 3) == b"Tes"
    assert KM.kstrdup(kernel, 0, GFP) == 0


def test_kfree_page_pointer_warns_then_frees(kernel):
    pfn = kernel.buddy.alloc(GFP, 0)
    addr = kernel.pfn_to_virt(pfn)
    KM.do_kfree(kernel, addr + 64)
    text = "\n".join(r.text for r in kernel.printk.visible())
    assert "at mm/slab_common.c:904 free_large_kmalloc+0x3c/0x70" in text
    assert "object pointer: 0x" in text
    assert int(kernel.phys.refcount[pfn]) == 0


def test_kfree_module_address_faults(kernel):
    with pytest.raises(PageFault):
        KM.do_kfree(kernel, 0xffffffffc0001000)


def test_kfree_of_slab_object_goes_back(kernel):
    slub = kernel.slab
    x = KM.do_kmalloc(kernel, 64, GFP)
    KM.do_kfree(kernel, x)
    assert slub.is_free(slub.find_slab(x).cache, x)
    assert slub.debug_check() == []
