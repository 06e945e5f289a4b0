"""Listing 1 of the lab: using the zone allocator.  Line by line from the C listing."""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.gfp import *           # #include<linux/gfp.h>
from kmsim.linux.mm import *            # #include<linux/mm.h>
from kmsim.linux.printk import *
from kmsim.linux.err import *
from kmsim.linux.errno import *

ORDER = 2                               # #define ORDER 2

page_pointer = pages_pointer = None     # static struct page *page_pointer, *pages_pointer;
single_page_address = zeroed_page_address = multiple_pages_address = 0


def mallocmod_init():
    global pages_pointer, page_pointer, multiple_pages_address
    global single_page_address, zeroed_page_address
    pages_pointer = alloc_pages(GFP_KERNEL, ORDER)
    if IS_ERR(pages_pointer):
        pr_alert("Error allocating %u pages: %ld!\n", 1 << ORDER, PTR_ERR(pages_pointer))
        return -ENOMEM
    pr_notice("Pages address: %p\n", page_address(pages_pointer))

    page_pointer = alloc_page(GFP_KERNEL)
    if IS_ERR(page_pointer):
        pr_alert("Error allocating page: %ld!\n", PTR_ERR(page_pointer))
        return -ENOMEM
    pr_notice("Pages address: %p\n", page_address(page_pointer))

    multiple_pages_address = __get_free_pages(GFP_KERNEL, ORDER)
    if not multiple_pages_address:
        pr_alert("Error allocating %u pages!\n", 1 << ORDER)
        return -ENOMEM
    pr_notice("Pages address: %lx\n", multiple_pages_address)

    single_page_address = __get_free_page(GFP_KERNEL)
    if not single_page_address:
        pr_alert("Error allocating page!\n")
        return -ENOMEM

    pr_notice("Page address: %lx\n", single_page_address)
    zeroed_page_address = get_zeroed_page(GFP_KERNEL)
    if not zeroed_page_address:
        pr_alert("Error allocating zeroed page!\n")
        return -ENOMEM
    pr_notice("Page address: %lx\n", zeroed_page_address)

    return 0


def mallocmod_exit():
    if zeroed_page_address:
        free_page(zeroed_page_address)
    if single_page_address:
        free_page(single_page_address)
    if multiple_pages_address:
        free_pages(multiple_pages_address, ORDER)
    if page_pointer:
        __free_page(page_pointer)
    if pages_pointer:
        __free_pages(pages_pointer, ORDER)


module_init(mallocmod_init)
module_exit(mallocmod_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("Arkadiusz Chrobot <a.chrobot@tu.kielce.pl>")
MODULE_DESCRIPTION("A module demonstrating the usage of zone allocator.")
MODULE_VERSION("1.0")
