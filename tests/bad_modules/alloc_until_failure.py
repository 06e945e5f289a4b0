# BAD: allocates order-10 blocks until the allocator gives up, then frees them all:
# warn_alloc's page allocation failure report, no OOM kill (order > PAGE_ALLOC_COSTLY_ORDER).
# EXPECT: insmod: page allocation failure: order:10, mode:0xcc0\(GFP_KERNEL\)[\s\S]*Mem-Info:[\s\S]*alloc_until_failure: got \d+ blocks
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.printk import *


@module_init
def greedy_init():
    blocks = []
    while True:
        addr = __get_free_pages(GFP_KERNEL, 10)
        if not addr:
            break
        blocks.append(addr)
    pr_info("alloc_until_failure: got %d blocks\n", len(blocks))
    for addr in blocks:
        free_pages(addr, 10)
    return 0


MODULE_LICENSE("GPL")
