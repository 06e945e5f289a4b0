# BAD: init returns -99999, not an errno the kernel knows.
# EXPECT: could not insert module .*init_returns_huge_errno\.py: Unknown error -99999
from kmsim.linux.module import *


@module_init
def huge_errno_init():
    return -99999


MODULE_LICENSE("GPL")
