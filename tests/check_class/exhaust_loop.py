"""Allocates 4 MiB blocks in a loop until the kernel runs out, then frees them all."""
from kmsim.linux import *


@module_init
def exhaust_init():
    blocks = []
    while True:
        addr = __get_free_pages(GFP_KERNEL | __GFP_NOWARN, 10)
        if not addr:
            break
        blocks.append(addr)
    pr_info("exhaust_loop: got %d blocks\n", len(blocks))
    for addr in blocks:
        free_pages(addr, 10)
    return 0


@module_exit
def exhaust_exit():
    pass


MODULE_LICENSE("GPL")
