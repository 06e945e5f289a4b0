# BAD: free_page() of an address that never came from the page allocator.
# EXPECT: BUG: unable to handle page fault for address: [0-9a-f]+[\s\S]*not an address from the page allocator
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def garbage_init():
    free_page(0xdeadbeef)
    return 0


MODULE_LICENSE("GPL")
