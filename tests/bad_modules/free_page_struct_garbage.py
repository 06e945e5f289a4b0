# BAD: __free_pages() of something that is not a struct page (an address).
# EXPECT: kernel BUG at free_page_struct_garbage\.py:10![\s\S]*__free_pages\(\): TypeError
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def fps_init():
    addr = __get_free_page(GFP_KERNEL)
    __free_pages(addr, 0)
    return 0


MODULE_LICENSE("GPL")
