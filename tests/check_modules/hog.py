"""Exhausts the host's memory with a Python list: a host out-of-memory message."""
from kmsim.linux.module import *


def hog_init():
    x = [0] * (1 << 62)
    return len(x)


module_init(hog_init)
MODULE_LICENSE("GPL")
