# BAD: free_pages() twice on an order-4 block (merged straight into the buddy lists).
# EXPECT: BUG: Bad page state in process insmod[\s\S]*page dumped because: page already free
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def double_free4_init():
    addr = __get_free_pages(GFP_KERNEL, 4)
    free_pages(addr, 4)
    free_pages(addr, 4)
    return 0


@module_exit
def double_free4_exit():
    pass


MODULE_LICENSE("GPL")
