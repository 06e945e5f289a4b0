"""Indexes one element past a static array: KASAN's global-out-of-bounds."""
from kmsim.linux.module import *
from kmsim.linux.types import *

table = (int_ * 10).static()


def global_init():
    int_.array_at(addressof(table), 11)[10] = 1
    return 0


module_init(global_init)
MODULE_LICENSE("GPL")
