# BAD: a value out of the parameter's range (a ushort set to 70000): kstrtou16 says -ERANGE.
# ARGS: port=70000
# EXPECT: param_out_of_range: `70000' invalid for parameter `port'[\s\S]*Numerical result out of range
from kmsim.linux.module import *

port = 80
module_param("port", "ushort", 0o444)


@module_init
def range_init():
    return 0


MODULE_LICENSE("GPL")
