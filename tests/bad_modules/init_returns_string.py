# BAD: init returns a string instead of 0 or a negative errno.
# EXPECT: init returned str 'ok': an init function returns 0 or a negative errno[\s\S]*Invalid parameters
from kmsim.linux.module import *


@module_init
def str_ret_init():
    return "ok"


MODULE_LICENSE("GPL")
