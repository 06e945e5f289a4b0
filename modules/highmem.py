"""HighMem and kmap (run with --machine i386): a page without a permanent kernel address.

On a 32-bit PC the kernel maps only the first 896 MiB of RAM (ZONE_DMA and
ZONE_NORMAL) into its address space.  A page from ZONE_HIGHMEM has no address
until kmap() maps it into the pkmap window; after the last kunmap() the slot stays
mapped (so page_address() still answers) until the kernel flushes unused slots.
"""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.gfp import *           # #include<linux/gfp.h>
from kmsim.linux.mm import *            # #include<linux/highmem.h>
from kmsim.linux.string import *        # #include<linux/string.h>
from kmsim.linux.types import *
from kmsim.linux.printk import *
from kmsim.linux.errno import *

page = None                             # static struct page *page;


def highmem_init():
    global page
    page = alloc_pages(GFP_HIGHUSER, 0)
    if not page:
        pr_alert("Error allocating a page\n")
        return -ENOMEM
    pr_notice("pfn %lu, zone %s, PageHighMem=%d\n",
              page_to_pfn(page), page_zone(page).name, PageHighMem(page))
    pr_notice("page_address before kmap: %px\n", page_address(page))

    text = (char * 32).at(kmap(page))   # char *text = kmap(page);
    pr_notice("kmap returned %px, page_address is now %px\n", text.addr, page_address(page))
    strcpy(text, "written through the pkmap")
    pr_notice("the page holds: %s\n", text)
    kunmap(page)
    pr_notice("page_address after kunmap: %px\n", page_address(page))
    return 0


def highmem_exit():
    __free_pages(page, 0)


module_init(highmem_init)
module_exit(highmem_exit)

MODULE_LICENSE("GPL")
MODULE_DESCRIPTION("kmap of a HighMem page")
MODULE_VERSION("1.0")
