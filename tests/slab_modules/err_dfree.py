"""Free an object twice (checks, keep: another object stays allocated, plain: no debug flags)."""
from kmsim.linux import *

checks = 0
keep = 0
plain = 0
module_param("checks", "int", 0o644)
module_param("keep", "int", 0o644)
module_param("plain", "int", 0o644)
cachep = None
kept = 0
def dfree_init():
    global cachep, kept
    flags = 0 if plain else SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE
    if checks: flags |= SLAB_CONSISTENCY_CHECKS
    cachep = kmem_cache_create("dfree_cache", 16, 0, flags, None)
    if keep: kept = kmem_cache_alloc(cachep, GFP_KERNEL)
    obj = kmem_cache_alloc(cachep, GFP_KERNEL)
    kmem_cache_free(cachep, obj)
    pr_info("err_doublefree: second free\n")
    kmem_cache_free(cachep, obj)
    return 0
def dfree_exit():
    if kept: kmem_cache_free(cachep, kept)
    kmem_cache_destroy(cachep)
    pr_info("err_doublefree: cache destroyed\n")
module_init(dfree_init); module_exit(dfree_exit)
MODULE_LICENSE("GPL")
