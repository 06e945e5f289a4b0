# BAD: frees the second page of an order-2 block as if it were a block of its own.
# EXPECT: BUG: Bad page state in process insmod[\s\S]*page dumped because:
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.mm import *

addr = 0


@module_init
def tail_init():
    global addr
    addr = __get_free_pages(GFP_KERNEL, 2)
    free_page(addr + PAGE_SIZE)
    return 0


@module_exit
def tail_exit():
    free_pages(addr, 2)


MODULE_LICENSE("GPL")
