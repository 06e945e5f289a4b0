"""Writes one byte past a kmalloc(100) object: KASAN's slab-out-of-bounds."""
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *

where = 100
module_param("where", "int", 0o444)


def oob_init():
    p = kmalloc(100, GFP_KERNEL)
    if not p:
        return -12
    u8.array_at(p, 256)[where] = 0x2a
    kfree(p)
    return 0


def oob_exit():
    pass


module_init(oob_init)
module_exit(oob_exit)
MODULE_LICENSE("GPL")
