# BAD: imports kmsim internals and calls them with garbage (a str pfn to a Zone method).
# EXPECT: kernel BUG at internals_misuse\.py:12![\s\S]*kmsim: __free_one_page\(\): TypeError
from kmsim.linux.module import *
from kmsim.kernel import current_kernel
from kmsim.mm.buddy import Zone


@module_init
def internals_init():
    k = current_kernel()
    zone = k.buddy.zones[-1]
    Zone.free_one_page(zone, "0x1000", 3)
    return 0


MODULE_LICENSE("GPL")
