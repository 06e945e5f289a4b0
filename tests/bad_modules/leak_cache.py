# BAD: a slab cache created in init and never destroyed (with an object still in it).
# REQUIRES: slab
# EXPECT: leak_cache: cache created
# RUN: rmmod leak_cache; cat /proc/slabinfo | grep leaky_cache
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.printk import *


@module_init
def leak_cache_init():
    cache = kmem_cache_create("leaky_cache", 200, 0, 0, None)
    if not cache:
        return -12
    kmem_cache_alloc(cache, GFP_KERNEL)
    pr_info("leak_cache: cache created\n")
    return 0


@module_exit
def leak_cache_exit():
    pass


MODULE_LICENSE("GPL")
