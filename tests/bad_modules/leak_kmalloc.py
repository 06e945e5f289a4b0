# BAD: kmalloc in init, never kfree'd: the object leaks after rmmod.
# REQUIRES: slab
# EXPECT: leak_kmalloc: object at [0-9a-f]+
# RUN: rmmod leak_kmalloc
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.printk import *


@module_init
def leak_kmalloc_init():
    p = kmalloc(100, GFP_KERNEL)
    pr_info("leak_kmalloc: object at %px\n", p)
    return 0


@module_exit
def leak_kmalloc_exit():
    pass


MODULE_LICENSE("GPL")
