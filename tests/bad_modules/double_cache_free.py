# BAD: kmem_cache_free() twice on the same object, then the cache is destroyed.
# REQUIRES: slab
# EXPECT: (?i)double free|already free|kernel BUG at mm/slub\.c|BUG dbl_cache
from kmsim.linux.module import *
from kmsim.linux.slab import *

cache = None


@module_init
def dcf_init():
    global cache
    cache = kmem_cache_create("dbl_cache", 48, 0, 0, None)
    obj = kmem_cache_alloc(cache, GFP_KERNEL)
    kmem_cache_free(cache, obj)
    kmem_cache_free(cache, obj)
    return 0


@module_exit
def dcf_exit():
    kmem_cache_destroy(cache)


MODULE_LICENSE("GPL")
