# BAD: alloc_pages with order 11 (>= MAX_ORDER): the kernel WARNs once and returns NULL.
# EXPECT: WARNING: CPU: 0 PID: \d+ at mm/page_alloc\.c:\d+ __alloc_pages[\s\S]*Cannot allocate memory
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.errno import *


@module_init
def huge_init():
    page = alloc_pages(GFP_KERNEL, 11)
    if not page:
        return -ENOMEM
    __free_pages(page, 11)
    return 0


MODULE_LICENSE("GPL")
