# BAD: allocates from a slab cache after kmem_cache_destroy() freed it (use after free of the cache).
# REQUIRES: slab
# EXPECT: kmsim: kmem_cache_alloc\(\) on 'gone_cache' after kmem_cache_destroy\(\) freed it
from kmsim.linux.module import *
from kmsim.linux.slab import *


@module_init
def gone_init():
    cache = kmem_cache_create("gone_cache", 4096, 0, 0, None)
    kmem_cache_destroy(cache)
    obj = kmem_cache_alloc(cache, GFP_KERNEL)
    return 0 if obj else -12


MODULE_LICENSE("GPL")
