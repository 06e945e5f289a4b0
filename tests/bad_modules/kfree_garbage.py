# BAD: kfree() of an address no allocator returned (the middle of the kernel image).
# REQUIRES: slab
# EXPECT: WARNING: CPU: 0 PID: \d+ at mm/slab_common\.c:\d+ free_large_kmalloc[\s\S]*BUG: Bad page state in process insmod  pfn:01000
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.mm import *


@module_init
def kfree_garbage_init():
    kfree(__va(0x1000040))
    return 0


MODULE_LICENSE("GPL")
