"""A module whose error paths are right: check must find every run clean."""
from kmsim.linux.errno import *
from kmsim.linux.gfp import *
from kmsim.linux.module import *
from kmsim.linux.slab import *

page = 0
obj = 0


def clean_init():
    global page, obj
    page = __get_free_page(GFP_KERNEL)
    if not page:
        return -ENOMEM
    obj = kmalloc(100, GFP_KERNEL)
    if not obj:
        free_page(page)
        return -ENOMEM
    return 0


def clean_exit():
    kfree(obj)
    free_page(page)


module_init(clean_init)
module_exit(clean_exit)
MODULE_LICENSE("GPL")
