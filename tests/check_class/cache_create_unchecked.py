"""Never tests kmem_cache_create's result: a failed create is used as a cache."""
from kmsim.linux import *

cachep = None
obj = 0


@module_init
def cc_init():
    global cachep, obj
    cachep = kmem_cache_create("unchecked cache", 64, 0, 0, None)
    obj = kmem_cache_alloc(cachep, GFP_KERNEL)
    if not obj:
        kmem_cache_destroy(cachep)
        return -ENOMEM
    return 0


@module_exit
def cc_exit():
    kmem_cache_free(cachep, obj)
    kmem_cache_destroy(cachep)


MODULE_LICENSE("GPL")
