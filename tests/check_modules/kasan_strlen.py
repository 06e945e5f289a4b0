"""strlen of a freed kmalloc object: KASAN names strlen, the instrumented function."""
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.string import *


def sl_init():
    p = kmalloc(16, GFP_KERNEL)
    strcpy(p, "abc")
    kfree(p)
    return 0 if strlen(p) >= 0 else -22


def sl_exit():
    pass


module_init(sl_init)
module_exit(sl_exit)
MODULE_LICENSE("GPL")
