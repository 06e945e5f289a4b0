"""A module that recurses without end: a kernel stack overflow."""
from kmsim.linux.module import *


def walk(n):
    return walk(n + 1) + 1


def recurse_init():
    return walk(0)


module_init(recurse_init)
MODULE_LICENSE("GPL")
