# BAD: exit raises an exception (an IndexError): an Oops at rmmod; the module stays, Unloading.
# EXPECT: kernel BUG at exit_exception\.py:18![\s\S]*IndexError[\s\S]*Segmentation fault
# RUN: rmmod exit_exception; lsmod
from kmsim.linux.module import *
from kmsim.linux.printk import *

buffers = []


@module_init
def exit_exception_init():
    return 0


@module_exit
def exit_exception_exit():
    pr_info("freeing the last buffer\n")
    last = buffers[-1]
    pr_info("%d\n", last)


MODULE_LICENSE("GPL")
