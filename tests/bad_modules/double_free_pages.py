# BAD: free_page() twice on the same page: the second free finds the page already free.
# The allocator must report it and stay consistent (the page is on the free lists once).
# EXPECT: BUG: Bad page state in process insmod  pfn:[0-9a-f]+[\s\S]*page dumped because: page already free
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def double_free_init():
    addr = __get_free_page(GFP_KERNEL)
    free_page(addr)
    free_page(addr)
    return 0


@module_exit
def double_free_exit():
    pass


MODULE_LICENSE("GPL")
