"""Allocates three objects and frees none of them in exit."""
from kmsim.linux.module import *
from kmsim.linux.slab import *

ptrs = []


def leak_init():
    for _ in range(3):
        ptrs.append(kmalloc(80, GFP_KERNEL))
    return 0


def leak_exit():
    ptrs.clear()


module_init(leak_init)
module_exit(leak_exit)
MODULE_LICENSE("GPL")
