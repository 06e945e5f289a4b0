# BAD: kmalloc(1 << 40): far past KMALLOC_MAX_SIZE; the page allocator WARNs and kmalloc returns NULL.
# REQUIRES: slab
# EXPECT: WARNING: CPU: 0 PID: \d+ at mm/[a-z_]+\.c:\d+[\s\S]*Cannot allocate memory
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.errno import *


@module_init
def huge_kmalloc_init():
    p = kmalloc(1 << 40, GFP_KERNEL)
    if not p:
        return -ENOMEM
    kfree(p)
    return 0


MODULE_LICENSE("GPL")
