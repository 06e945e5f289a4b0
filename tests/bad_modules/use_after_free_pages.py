# BAD: writes to a page after free_page: silent on a kernel without debugging (the page
# is back on the free lists), KASAN catches it.
# REQUIRES: string, kasan
# APPEND: kasan
# EXPECT: BUG: KASAN: use-after-free in
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.string import *


@module_init
def uafp_init():
    addr = __get_free_page(GFP_KERNEL)
    free_page(addr)
    memset(addr, 0x5a, 64)
    return 0


MODULE_LICENSE("GPL")
