# BAD: a float order at allocation: alloc_pages(GFP_KERNEL, 1.5).
# EXPECT: kernel BUG at float_alloc_order\.py:9![\s\S]*kmsim: alloc_pages\(\): TypeError: order must be an int, not float
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def falloc_init():
    page = alloc_pages(GFP_KERNEL, 1.5)
    return 0 if page else -12


MODULE_LICENSE("GPL")
