# BAD: a syntax error (a missing closing parenthesis): the file does not compile.
# EXPECT: invalid module format: SyntaxError.*syntax_error\.py, line 9[\s\S]*could not insert module .*Invalid module format
from kmsim.linux.module import *
from kmsim.linux.printk import *


@module_init
def broken_init():
    pr_info("never printed\n"
    return 0


MODULE_LICENSE("GPL")
