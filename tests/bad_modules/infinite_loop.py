# BAD: an infinite loop in init: the CPU never leaves the module (soft lockup).
# REQUIRES: watchdog
# EXPECT: soft lockup - CPU#0 stuck for \d+s! \[insmod:\d+\]
from kmsim.linux.module import *


@module_init
def spin_init():
    n = 0
    while True:
        n += 1
    return 0


MODULE_LICENSE("GPL")
