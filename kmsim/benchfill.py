"""The benchmark's allocate-until-failure module: ``python -m kmsim.bench --big`` runs
``kmsim --mem SIZE -c 'insmod .../benchfill.py'`` and times it.

Its init allocates order-0 pages with GFP_KERNEL until alloc_pages returns NULL (the
OOM killer runs first and chooses insmod, which then uses the reserves and fails:
insmod ends Killed, as on Linux) and keeps every page in a list, then says how many
it got.  Its exit frees them, scheduling now and then as kernel code does.
"""
from kmsim.linux.gfp import __free_pages, alloc_pages
from kmsim.linux.module import MODULE_DESCRIPTION, MODULE_LICENSE, module_exit, module_init
from kmsim.linux.printk import pr_info
from kmsim.linux.sched import cond_resched
from kmsim.mm.gfp import GFP_KERNEL

pages: list = []


def benchfill_init():
    while True:
        page = alloc_pages(GFP_KERNEL, 0)
        if page is None:
            break
        pages.append(page)
    pr_info("benchfill: %d pages\n", len(pages))
    return 0


def benchfill_exit():
    for i, page in enumerate(pages):
        __free_pages(page, 0)
        if i % 4096 == 4095:
            cond_resched()
    pages.clear()


module_init(benchfill_init)
module_exit(benchfill_exit)

MODULE_LICENSE("GPL")
MODULE_DESCRIPTION("kmsim's benchmark: order-0 pages until alloc_pages fails")
