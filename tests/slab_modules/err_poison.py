"""Write into a freed SLAB_POISON object, then allocate again (checks=1: consistency checks)."""
from kmsim.linux import *

checks = 0
module_param("checks", "int", 0o644)
cachep = None
def poison_init():
    global cachep
    cachep = kmem_cache_create("poison_cache", 16, 0, SLAB_POISON | (SLAB_CONSISTENCY_CHECKS if checks else 0), None)
    obj = kmem_cache_alloc(cachep, GFP_KERNEL)
    kmem_cache_free(cachep, obj)
    u32.array_at(obj, 1)[0] = 42
    obj2 = kmem_cache_alloc(cachep, GFP_KERNEL)
    pr_info("err_poison: %s\n", "same" if obj2 == obj else "different")
    kmem_cache_free(cachep, obj2)
    return 0
def poison_exit():
    kmem_cache_destroy(cachep)
module_init(poison_init); module_exit(poison_exit)
MODULE_LICENSE("GPL")
