# BAD: None where an address goes: free_pages(None, 0) (NULL is 0 in kmsim).
# EXPECT: kernel BUG at none_as_address\.py:9![\s\S]*kmsim: free_pages\(\): TypeError: free_pages\(\) takes an address \(int\), not NoneType
from kmsim.linux.module import *
from kmsim.linux.gfp import *


@module_init
def none_init():
    free_pages(None, 0)
    return 0


MODULE_LICENSE("GPL")
