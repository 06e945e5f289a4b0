# BAD: init returns a positive number: the kernel loads the module anyway, with a warning.
# EXPECT: do_init_module: 'init_returns_positive'->init suspiciously returned 5, it should follow 0/-E convention
# RUN: rmmod init_returns_positive
from kmsim.linux.module import *


@module_init
def pos_init():
    return 5


@module_exit
def pos_exit():
    pass


MODULE_LICENSE("GPL")
