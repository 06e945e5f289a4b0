"""Asks for an order-11 block: the page allocator's WARN_ON_ONCE, then NULL."""
from kmsim.linux import *


def o_init():
    page = alloc_pages(GFP_KERNEL, 11)
    if not page:
        return -ENOMEM
    __free_pages(page, 11)
    return 0


def o_exit():
    pass


module_init(o_init)
module_exit(o_exit)
MODULE_LICENSE("GPL")
