"""kfree twice: KASAN's double-free."""
from kmsim.linux.module import *
from kmsim.linux.slab import *


def dfree_init():
    p = kmalloc(32, GFP_KERNEL)
    kfree(p)
    kfree(p)
    return 0


module_init(dfree_init)
MODULE_LICENSE("GPL")
