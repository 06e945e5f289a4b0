# BAD: vfree() twice on the same area.
# REQUIRES: vmalloc
# EXPECT: Trying to vfree\(\) nonexistent vm area
from kmsim.linux.module import *
from kmsim.linux.vmalloc import *


@module_init
def dv_init():
    p = vmalloc(3 * 4096)
    vfree(p)
    vfree(p)
    return 0


MODULE_LICENSE("GPL")
