# BAD: an object of one cache given back to another cache (with slub_debug=F the kernel checks it).
# REQUIRES: slab
# APPEND: slub_debug=F
# EXPECT: (?i)wrong slab cache|kernel BUG|not from|Oops
from kmsim.linux.module import *
from kmsim.linux.slab import *

a = b = None


@module_init
def wcf_init():
    global a, b
    a = kmem_cache_create("cache_a", 64, 0, 0, None)
    b = kmem_cache_create("cache_b", 256, 0, 0, None)
    obj = kmem_cache_alloc(a, GFP_KERNEL)
    kmem_cache_free(b, obj)
    return 0


@module_exit
def wcf_exit():
    kmem_cache_destroy(b)
    kmem_cache_destroy(a)


MODULE_LICENSE("GPL")
