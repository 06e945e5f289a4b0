"""A buggy module for kmsim check: when the second allocation fails, the first is not freed."""
from kmsim.linux.errno import *
from kmsim.linux.gfp import *
from kmsim.linux.module import *
from kmsim.linux.printk import *

first = second = 0


def forget_init():
    global first, second
    first = __get_free_page(GFP_KERNEL)
    if not first:
        return -ENOMEM
    second = __get_free_pages(GFP_KERNEL, 1)
    if not second:
        pr_err("forget_free: second allocation failed\n")
        return -ENOMEM          # BUG: first is never freed on this path
    return 0


def forget_exit():
    free_pages(second, 1)
    free_page(first)


module_init(forget_init)
module_exit(forget_exit)
MODULE_LICENSE("GPL")
