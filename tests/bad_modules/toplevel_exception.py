# BAD: an exception at the top level, while the module is being loaded.
# EXPECT: toplevel_exception: invalid module format: ZeroDivisionError: integer division or modulo by zero \(toplevel_exception\.py, line 7\)[\s\S]*could not insert module .*: Invalid module format
from kmsim.linux.module import *

MODULE_LICENSE("GPL")

divisor = 10 // 0


@module_init
def never_init():
    return 0
