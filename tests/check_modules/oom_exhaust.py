"""Allocates pages until one fails, frees them all and returns -ENOMEM (the OOM killer picks insmod)."""
from kmsim.linux.gfp import *
from kmsim.linux.module import *
from kmsim.linux.printk import *

pages = []
def ex_init():
    while True:
        p = __get_free_page(GFP_KERNEL)
        if not p:
            break
        pages.append(p)
    pr_info("oom_exhaust: got %d pages\n", len(pages))
    for p in pages:
        free_page(p)
    pages.clear()
    return -12
module_init(ex_init)
MODULE_LICENSE("GPL")
