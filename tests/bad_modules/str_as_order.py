# BAD: a str where the order goes: __get_free_pages(GFP_KERNEL, "2").
# EXPECT: kernel BUG at str_as_order\.py:10![\s\S]*kmsim: __get_free_pages\(\): TypeError: order must be an int, not str
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def str_init():
    order = "2"
    addr = __get_free_pages(GFP_KERNEL, order)
    free_pages(addr, 2)
    return 0


MODULE_LICENSE("GPL")
