"""Tests kmalloc's result with IS_ERR only, then writes through the NULL."""
from kmsim.linux.err import *
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *

buf = 0


def iserr_init():
    global buf
    buf = kmalloc(64, GFP_KERNEL)
    if IS_ERR(buf):
        return PTR_ERR(buf)
    u32.array_at(buf, 1)[0] = 5
    return 0


def iserr_exit():
    kfree(buf)


module_init(iserr_init)
module_exit(iserr_exit)
MODULE_LICENSE("GPL")
