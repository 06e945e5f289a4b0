"""Destroy a cache (lab flags + SLAB_STORE_USER) while one object is still allocated."""
from kmsim.linux import *

cachep = None
def busy_init():
    global cachep
    cachep = kmem_cache_create("busy_cache", 16, 0, SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER, None)
    kmem_cache_alloc(cachep, GFP_KERNEL)
    return 0
def busy_exit():
    kmem_cache_destroy(cachep)
module_init(busy_init); module_exit(busy_exit)
MODULE_LICENSE("GPL")
