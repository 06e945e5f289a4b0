"""exit frees the object but never destroys the cache."""
from kmsim.linux import *

cachep = None
obj = 0


@module_init
def cache_init():
    global cachep, obj
    cachep = kmem_cache_create("class cache", 96, 0, SLAB_HWCACHE_ALIGN, None)
    if not cachep:
        return -ENOMEM
    obj = kmem_cache_alloc(cachep, GFP_KERNEL)
    if not obj:
        kmem_cache_destroy(cachep)
        return -ENOMEM
    return 0


@module_exit
def cache_exit():
    kmem_cache_free(cachep, obj)        # forgets kmem_cache_destroy(cachep)


MODULE_LICENSE("GPL")
