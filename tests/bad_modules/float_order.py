# BAD: a float order: the block is allocated with order 2 and freed with order 2.0.
# The free must be refused before it touches the page (no frame lost, no corruption).
# EXPECT: kernel BUG at float_order\.py:11![\s\S]*kmsim: free_pages\(\): TypeError: order must be an int, not float
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def float_init():
    addr = __get_free_pages(GFP_KERNEL, 2)
    free_pages(addr, 4 / 2)
    return 0


MODULE_LICENSE("GPL")
