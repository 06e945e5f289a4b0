"""init falls off its end: returns None, not 0."""
from kmsim.linux import *

page = 0


@module_init
def none_init():
    global page
    page = __get_free_page(GFP_KERNEL)
    if not page:
        return -ENOMEM
    pr_info("got a page\n")


@module_exit
def none_exit():
    free_page(page)


MODULE_LICENSE("GPL")
