# BAD: writes past the end of a kmalloc object; slub_debug=FZ finds the overwritten redzone at kfree.
# REQUIRES: slab, string
# APPEND: slub_debug=FZ
# EXPECT: (?i)redzone|overwritten
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.string import *


@module_init
def redzone_init():
    p = kmalloc(56, GFP_KERNEL)
    memset(p, 0x42, 64)
    kfree(p)
    return 0


MODULE_LICENSE("GPL")
