# BAD: module_init given an int instead of a function.
# EXPECT: kernel BUG at module code![\s\S]*TypeError: 'int' object is not callable
# RUN: rmmod -f init_not_callable
from kmsim.linux.module import *

module_init(42)
MODULE_LICENSE("GPL")
