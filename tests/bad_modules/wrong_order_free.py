# BAD: an order-2 block freed with order 0.
# EXPECT: BUG: Bad page state in process insmod[\s\S]*freed with order 0, allocated with order 2
from kmsim.linux.module import *
from kmsim.linux.gfp import *

addr = 0


@module_init
def wof_init():
    global addr
    addr = __get_free_pages(GFP_KERNEL, 2)
    free_pages(addr, 0)
    return 0


@module_exit
def wof_exit():
    free_pages(addr, 2)


MODULE_LICENSE("GPL")
