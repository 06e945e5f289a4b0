# BAD: calls the page allocator's free directly with a pfn that does not exist.
# EXPECT: BUG: Bad page state in process insmod  pfn:-[0-9a-f]+[\s\S]*invalid pfn[\s\S]*BUG: Bad page state in process insmod  pfn:[0-9a-f]+[\s\S]*invalid pfn
from kmsim.linux.module import *
from kmsim.kernel import current_kernel


@module_init
def bad_pfn_init():
    k = current_kernel()
    k.buddy.free(-5, 0)
    k.buddy.free(k.nr_pages + 10, 0)
    return 0


@module_exit
def bad_pfn_exit():
    pass


MODULE_LICENSE("GPL")
