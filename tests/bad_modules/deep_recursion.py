# BAD: unbounded recursion in init: the 16 KiB kernel stack overflows.
# EXPECT: BUG: stack guard page was hit[\s\S]*kernel stack overflow[\s\S]*recursed too deeply
from kmsim.linux.module import *


def depth(n):
    return depth(n + 1) + 1


@module_init
def recurse_init():
    return depth(0)


MODULE_LICENSE("GPL")
