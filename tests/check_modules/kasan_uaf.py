"""Reads a kmalloc'ed object after kfree: KASAN's use-after-free."""
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *


def uaf_init():
    p = kmalloc(64, GFP_KERNEL)
    if not p:
        return -12
    u32.array_at(p, 1)[0] = 7
    kfree(p)
    return u32.array_at(p, 1)[0] - 7


def uaf_exit():
    pass


module_init(uaf_init)
module_exit(uaf_exit)
MODULE_LICENSE("GPL")
