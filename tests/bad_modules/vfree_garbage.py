# BAD: vfree() of an address that vmalloc never returned (a kmalloc'd object).
# REQUIRES: vmalloc, slab
# EXPECT: Trying to vfree\(\) (nonexistent vm area|bad address)
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.vmalloc import *


@module_init
def vfree_init():
    p = kmalloc(128, GFP_KERNEL)
    vfree(p)
    kfree(p)
    return 0


MODULE_LICENSE("GPL")
