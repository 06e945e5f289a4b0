"""err_doublefree.c - (f) kmem_cache_free the same object twice.

A line-by-line port of ../shared/reference/modules/err_doublefree.c.
flags: lab flags SLAB_HWCACHE_ALIGN|SLAB_POISON|SLAB_RED_ZONE;
checks=1 adds SLAB_CONSISTENCY_CHECKS; plain=1 uses no debug flags at all;
keep=1 keeps a second object allocated from the same slab (so the slab is
not empty when the second free happens)."""
from kmsim.linux import *


class example_struct(Struct):
    _fields_ = [("id", unsigned_int), ("example_string", char * 10)]


checks = 0
module_param("checks", "int", 0o444)
plain = 0
module_param("plain", "int", 0o444)
keep = 0
module_param("keep", "int", 0o444)
cachep = None
kept = NULL


def dfree_init():
    global cachep, kept
    flags = 0 if plain else (SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE |
                             (SLAB_CONSISTENCY_CHECKS if checks else 0))

    cachep = kmem_cache_create("dfree_cache", sizeof(example_struct), 0, flags, None)
    if not cachep:
        return -ENOMEM
    obj = kmem_cache_alloc(cachep, GFP_KERNEL)
    if not obj:
        kmem_cache_destroy(cachep)
        return -ENOMEM
    if keep:
        kept = kmem_cache_alloc(cachep, GFP_KERNEL)
        pr_notice("err_doublefree: kept object at %px\n", kept)
    pr_notice("err_doublefree: checks=%d plain=%d keep=%d object at %px, first free\n",
              checks, plain, keep, obj)
    kmem_cache_free(cachep, obj)
    pr_notice("err_doublefree: second free\n")
    kmem_cache_free(cachep, obj)
    pr_notice("err_doublefree: second free returned\n")
    return 0


def dfree_exit():
    if kept:
        kmem_cache_free(cachep, kept)
    kmem_cache_destroy(cachep)
    pr_notice("err_doublefree: cache destroyed\n")


module_init(dfree_init)
module_exit(dfree_exit)
MODULE_LICENSE("GPL")
