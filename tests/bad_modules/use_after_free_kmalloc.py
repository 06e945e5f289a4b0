# BAD: writes to a kmalloc object after kfree: KASAN reports the use after free.
# REQUIRES: slab, string, kasan
# APPEND: kasan
# EXPECT: BUG: KASAN: (slab-)?use-after-free in
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.string import *


@module_init
def uaf_init():
    p = kmalloc(32, GFP_KERNEL)
    kfree(p)
    memset(p, 0, 8)
    return 0


MODULE_LICENSE("GPL")
