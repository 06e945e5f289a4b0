"""err_exhaust.c - (c') allocate order-10 blocks with GFP_KERNEL until one fails, to see the
real "page allocation failure" report; then free everything.

A line-by-line port of ../shared/reference/modules/err_exhaust.c."""
from kmsim.linux import *

MAXBLK = 1024
order = 10
module_param("order", "int", 0o444)
blocks = [0] * MAXBLK


def exhaust_init():
    n = 0
    while n < MAXBLK:
        blocks[n] = __get_free_pages(GFP_KERNEL, order)
        if not blocks[n]:
            break
        n += 1
    pr_notice("err_exhaust: got %d blocks of order %d before failure\n", n, order)
    for i in range(n):
        free_pages(blocks[i], order)
    pr_notice("err_exhaust: freed %d blocks\n", n)
    return -ENOMEM


module_init(exhaust_init)
MODULE_LICENSE("GPL")
