# BAD: an allocation that fails (order 11) checked only with IS_ERR: IS_ERR(NULL) is false,
# so page_address(NULL) dereferences NULL.
# EXPECT: BUG: kernel NULL pointer dereference, address: 0000000000000000[\s\S]*IS_ERR\(NULL\) is false
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.mm import *
from kmsim.linux.err import *
from kmsim.linux.printk import *


@module_init
def null_init():
    page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 11)
    if IS_ERR(page):
        return PTR_ERR(page)
    pr_info("page at %p\n", page_address(page))
    return 0


MODULE_LICENSE("GPL")
