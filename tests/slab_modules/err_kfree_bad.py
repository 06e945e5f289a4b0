"""err_kfree_bad.c - (h) kfree of a pointer that did not come from kmalloc.

A line-by-line port of ../shared/reference/modules/err_kfree_bad.c.
mode=0: pointer into a page from __get_free_page (linear map, not a slab page)
mode=1: address of a module global variable (module area, not linear map)"""
from kmsim.linux import *

mode = 0
module_param("mode", "int", 0o444)
global_var = (int_ * 16).static()


def kfree_bad_init():
    if mode == 0:
        page = __get_free_page(GFP_KERNEL)
        if not page:
            return -ENOMEM
        pr_notice("err_kfree_bad: mode 0: kfree(%px) (page from __get_free_page + 64)\n", page + 64)
        kfree(page + 64)
        pr_notice("err_kfree_bad: kfree returned (page not freed again by us)\n")
    else:
        pr_notice("err_kfree_bad: mode 1: kfree(%px) (module global variable)\n", global_var.addr)
        kfree(global_var.addr)
        pr_notice("err_kfree_bad: kfree returned\n")
    return -EINVAL


module_init(kfree_bad_init)
MODULE_LICENSE("GPL")
