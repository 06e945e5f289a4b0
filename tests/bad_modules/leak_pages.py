# BAD: pages allocated in init and never freed: rmmod succeeds, the 4 pages leak
# (they stay owned by the unloaded module; the allocator itself stays consistent).
# EXPECT: leak_pages: got 4 pages at [0-9a-f]+
# RUN: rmmod leak_pages
# LEAKS: pages
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.printk import *

addr = 0


@module_init
def leak_init():
    global addr
    addr = __get_free_pages(GFP_KERNEL, 2)
    pr_info("leak_pages: got 4 pages at %lx\n", addr)
    return 0


@module_exit
def leak_exit():
    pr_info("leak_pages: forgetting to free them\n")


MODULE_LICENSE("GPL")
