# BAD: loaded with a value that does not parse as the parameter's type (count=abc for an int).
# ARGS: count=abc
# EXPECT: bad_param_value: `abc' invalid for parameter `count'[\s\S]*Invalid parameters
from kmsim.linux.module import *

count = 5
module_param("count", "int", 0o644)


@module_init
def bpv_init():
    return 0


MODULE_LICENSE("GPL")
