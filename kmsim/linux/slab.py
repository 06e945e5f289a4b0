"""linux/slab.h: slab caches and kmalloc.  Forwards to kmsim.mm.slub and kmsim.mm.kmalloc."""
from ..kernel import current_kernel
from ..mm import kmalloc as _km
from ..mm import slub as _slub
from ..mm.gfp import *  # noqa: F403  (slab.h includes gfp.h)
from ..mm.gfp import __GFP_ZERO
from ..mm.gfp import __all__ as _gfp_all
from ..mm.slub import (  # the fast paths themselves
    SLAB_ACCOUNT,
    SLAB_CACHE_DMA,
    SLAB_CACHE_DMA32,
    SLAB_CONSISTENCY_CHECKS,
    SLAB_DEBUG_OBJECTS,
    SLAB_FAILSLAB,
    SLAB_HWCACHE_ALIGN,
    SLAB_KASAN,
    SLAB_MEM_SPREAD,
    SLAB_NO_USER_FLAGS,
    SLAB_NOLEAKTRACE,
    SLAB_PANIC,
    SLAB_POISON,
    SLAB_RECLAIM_ACCOUNT,
    SLAB_RED_ZONE,
    SLAB_SKIP_KFENCE,
    SLAB_STORE_USER,
    SLAB_TEMPORARY,
    SLAB_TRACE,
    SLAB_TYPESAFE_BY_RCU,
    kmem_cache_alloc,
    kmem_cache_free,
)
from ..report import API_CODES

ZERO_SIZE_PTR = _km.ZERO_SIZE_PTR
KMALLOC_MAX_SIZE = _km.KMALLOC_MAX_SIZE
KMALLOC_MAX_CACHE_SIZE = _km.KMALLOC_MAX_CACHE_SIZE

__all__ = [n for n in _gfp_all if n.startswith(("GFP_", "__GFP_"))] + [
    "kmem_cache_create", "KMEM_CACHE", "kmem_cache_alloc", "kmem_cache_zalloc", "kmem_cache_free",
    "kmem_cache_destroy", "kmem_cache_size", "kmem_cache_shrink", "kmalloc", "kzalloc", "kcalloc",
    "kmalloc_array",
    "krealloc", "kfree", "ksize", "kstrdup", "kmemdup", "kmalloc_size_roundup", "kzfree",
    "kfree_sensitive", "ZERO_SIZE_PTR", "ZERO_OR_NULL_PTR", "KMALLOC_MAX_SIZE",
    "KMALLOC_MAX_CACHE_SIZE",
    "SLAB_CONSISTENCY_CHECKS", "SLAB_RED_ZONE", "SLAB_POISON", "SLAB_HWCACHE_ALIGN",
    "SLAB_CACHE_DMA", "SLAB_CACHE_DMA32", "SLAB_STORE_USER", "SLAB_RECLAIM_ACCOUNT", "SLAB_PANIC",
    "SLAB_TYPESAFE_BY_RCU", "SLAB_MEM_SPREAD", "SLAB_TRACE", "SLAB_DEBUG_OBJECTS",
    "SLAB_NOLEAKTRACE", "SLAB_FAILSLAB", "SLAB_ACCOUNT", "SLAB_KASAN", "SLAB_NO_USER_FLAGS",
    "SLAB_SKIP_KFENCE", "SLAB_TEMPORARY"]


def kmem_cache_create(name, size, align, flags, ctor):
    """struct kmem_cache *kmem_cache_create(name, size, align, flags, ctor); None on failure."""
    return _slub.kmem_cache_create(current_kernel(), name, size, align, flags, ctor)


def KMEM_CACHE(struct, flags):
    """KMEM_CACHE(struct, flags): a cache named after the struct, with its size and alignment."""
    return _slub.KMEM_CACHE(current_kernel(), struct, flags)


def kmem_cache_zalloc(cachep, flags):
    """kmem_cache_alloc(cachep, flags | __GFP_ZERO)."""
    return kmem_cache_alloc(cachep, flags | __GFP_ZERO)


def kmem_cache_destroy(cachep):
    """void kmem_cache_destroy(struct kmem_cache *s); NULL is a no-op."""
    _slub.kmem_cache_destroy(current_kernel(), cachep)


def kmem_cache_size(cachep):
    """unsigned int kmem_cache_size(struct kmem_cache *s): the object size."""
    return _slub.kmem_cache_size(cachep)


def kmem_cache_shrink(cachep):
    """int kmem_cache_shrink(struct kmem_cache *s): release the empty slabs; 0."""
    return _slub.kmem_cache_shrink(current_kernel(), cachep)


kmalloc = _km.kmalloc         # void *kmalloc(size_t size, gfp_t flags): the fast path itself


def kzalloc(size, flags):
    """kmalloc(size, flags | __GFP_ZERO)."""
    return _km.do_kmalloc(current_kernel(), size, flags | __GFP_ZERO)


def kcalloc(n, size, flags):
    """void *kcalloc(size_t n, size_t size, gfp_t flags): zeroed; NULL on overflow."""
    return _km.kcalloc(current_kernel(), n, size, flags)


def kmalloc_array(n, size, flags):
    """void *kmalloc_array(size_t n, size_t size, gfp_t flags): NULL on overflow."""
    return _km.kmalloc_array(current_kernel(), n, size, flags)


def krealloc(p, new_size, flags):
    """void *krealloc(const void *p, size_t new_size, gfp_t flags)."""
    return _km.krealloc(current_kernel(), p, new_size, flags)


kfree = _km.kfree             # void kfree(const void *objp)


kfree_sensitive = kzfree = kfree


def ksize(objp):
    """size_t ksize(const void *objp)."""
    return _km.ksize(current_kernel(), objp)


def kstrdup(s, gfp):
    """char *kstrdup(const char *s, gfp_t gfp)."""
    return _km.kstrdup(current_kernel(), s, gfp)


def kmemdup(src, length, gfp):
    """void *kmemdup(const void *src, size_t len, gfp_t gfp)."""
    return _km.kmemdup(current_kernel(), src, length, gfp)


def kmalloc_size_roundup(size):
    """size_t kmalloc_size_roundup(size_t size)."""
    return _km.kmalloc_size_roundup(current_kernel(), size)


def ZERO_OR_NULL_PTR(x):
    """True for NULL and ZERO_SIZE_PTR."""
    return not x or x <= ZERO_SIZE_PTR


# The fast paths live in mm/: name them as API functions for the loader's error hints.
API_CODES.update(f.__code__ for f in (kmalloc, kfree, kmem_cache_alloc, kmem_cache_free))
