# BAD: kfree() twice on the same object.
# REQUIRES: slab
# EXPECT: (?i)double free|already free|kernel BUG at mm/slub\.c|BUG kmalloc
from kmsim.linux.module import *
from kmsim.linux.slab import *


@module_init
def double_kfree_init():
    p = kmalloc(64, GFP_KERNEL)
    kfree(p)
    kfree(p)
    return 0


@module_exit
def double_kfree_exit():
    pass


MODULE_LICENSE("GPL")
