# BAD: loaded with a parameter the module does not declare: the kernel ignores it with a warning.
# ARGS: bogus=1
# EXPECT: unknown_param: unknown parameter 'bogus' ignored
# RUN: rmmod unknown_param
from kmsim.linux.module import *


@module_init
def up_init():
    return 0


@module_exit
def up_exit():
    pass


MODULE_LICENSE("GPL")
