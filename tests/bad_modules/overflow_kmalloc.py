# BAD: writes 100 bytes into a 64-byte kmalloc object: KASAN reports the out-of-bounds write.
# REQUIRES: slab, string, kasan
# APPEND: kasan
# EXPECT: BUG: KASAN: slab-out-of-bounds in
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.string import *


@module_init
def overflow_init():
    p = kmalloc(64, GFP_KERNEL)
    memset(p, 0x41, 100)
    kfree(p)
    return 0


MODULE_LICENSE("GPL")
