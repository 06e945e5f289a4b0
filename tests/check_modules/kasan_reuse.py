"""Frees an object, allocates another of the same size, then writes through the stale
pointer: without a quarantine the new object would be silently corrupted."""
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *


def reuse_init():
    p = kmalloc(64, GFP_KERNEL)
    kfree(p)
    q = kmalloc(64, GFP_KERNEL)
    u8.array_at(p, 1)[0] = 1
    kfree(q)
    return 0


module_init(reuse_init)
MODULE_LICENSE("GPL")
