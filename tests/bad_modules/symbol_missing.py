# BAD: symbol_get of a symbol nobody exports, then calls the result (None) without checking.
# EXPECT: kernel BUG at symbol_missing\.py:9![\s\S]*TypeError: 'NoneType' object is not callable
from kmsim.linux.module import *


@module_init
def symmiss_init():
    fn = symbol_get("no_such_symbol")
    return fn()


MODULE_LICENSE("GPL")
