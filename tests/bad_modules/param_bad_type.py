# BAD: module_param with a type that does not exist ("float": the kernel has no float params).
# EXPECT: param_bad_type: invalid module format: ValueError: module_param\('ratio', 'float'\).* \(param_bad_type\.py, line 6\)[\s\S]*Invalid module format
from kmsim.linux.module import *

ratio = 0.5
module_param("ratio", "float", 0o644)


@module_init
def pbt_init():
    return 0


MODULE_LICENSE("GPL")
