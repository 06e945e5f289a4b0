"""Write one byte past a RED_ZONE object, then free it (checks=1 adds SLAB_CONSISTENCY_CHECKS)."""
from kmsim.linux import *

checks = 0
module_param("checks", "int", 0o644)
cachep = None
def redzone_init():
    global cachep
    cachep = kmem_cache_create("redzone_cache", 16, 0, SLAB_RED_ZONE | (SLAB_CONSISTENCY_CHECKS if checks else 0), None)
    obj = kmem_cache_alloc(cachep, GFP_KERNEL)
    pr_info("err_redzone: object at %px\n", obj)
    u8.array_at(obj, 17)[16] = 0x41
    kmem_cache_free(cachep, obj)
    pr_info("err_redzone: kmem_cache_free returned\n")
    return 0
def redzone_exit():
    kmem_cache_destroy(cachep)
module_init(redzone_init); module_exit(redzone_exit)
MODULE_LICENSE("GPL")
