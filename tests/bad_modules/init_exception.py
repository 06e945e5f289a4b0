# BAD: init raises an exception (a KeyError from a dict lookup): an Oops in init.
# The module stays loaded with 'Used by 1', as after a real Oops; rmmod -f clears it.
# EXPECT: kernel BUG at init_exception\.py:14![\s\S]*KeyError[\s\S]*Segmentation fault
# RUN: lsmod; rmmod -f init_exception
from kmsim.linux.module import *
from kmsim.linux.printk import *

settings = {"size": 4096}


@module_init
def init_exception_init():
    pr_info("looking up the order\n")
    order = settings["order"]
    return order


@module_exit
def init_exception_exit():
    pass


MODULE_LICENSE("GPL")
