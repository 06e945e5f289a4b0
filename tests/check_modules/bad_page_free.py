"""Frees the page under a kmalloc'd object with free_pages: Bad page state."""
from kmsim.linux import *


def bp_init():
    p = kmalloc(64, GFP_KERNEL)
    if not p:
        return -ENOMEM
    free_pages(p & ~(PAGE_SIZE - 1), 0)
    return 0


def bp_exit():
    pass


module_init(bp_init)
module_exit(bp_exit)
MODULE_LICENSE("GPL")
