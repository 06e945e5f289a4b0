# BAD: a str where a size goes: kmalloc("64", GFP_KERNEL).
# REQUIRES: slab
# EXPECT: kernel BUG at str_as_size\.py:10![\s\S]*kmsim: kmalloc\(\)
from kmsim.linux.module import *
from kmsim.linux.slab import *


@module_init
def str_size_init():
    p = kmalloc("64", GFP_KERNEL)
    kfree(p)
    return 0


MODULE_LICENSE("GPL")
