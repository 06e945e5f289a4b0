"""kfree of pointers kmalloc did not return (mode 0: a page + 64; 1: a module address), and
kmem_cache_free to the wrong cache (mode 2)."""
from kmsim.linux import *

mode = 0
module_param("mode", "int", 0o644)


def kf_init():
    if mode == 0:
        p = __get_free_page(GFP_KERNEL)
        kfree(p + 64)
    elif mode == 1:
        kfree(0xffffffffc0001000)
    elif mode == 2:
        a = kmem_cache_create("cache_a", 32, 0, SLAB_HWCACHE_ALIGN, None)
        b = kmem_cache_create("cache_b", 64, 0, SLAB_RED_ZONE, None)
        x = kmem_cache_alloc(a, GFP_KERNEL)
        kmem_cache_free(b, x)
        kmem_cache_destroy(a)
        kmem_cache_destroy(b)
    return -EINVAL


module_init(kf_init)
MODULE_LICENSE("GPL")
