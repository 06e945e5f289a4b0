# BAD: unbounded recursion in init: the 16 KiB kernel stack overflows.
# EXPECT: BUG: TASK stack guard page was hit[\s\S]*stack guard page: 0000 \[#1\][\s\S]*recursed too deeply
from kmsim.linux.module import *


def depth(n):
    return depth(n + 1) + 1


@module_init
def recurse_init():
    return depth(0)


MODULE_LICENSE("GPL")
