# BAD: (used by sym_provider.py's test) loaded alone, symbol_get finds nothing and init fails.
# EXPECT: sym_user: provider not loaded[\s\S]*No such device
from kmsim.linux.module import *
from kmsim.linux.printk import *

hello = None


@module_init
def user_init():
    global hello
    hello = symbol_get("provider_hello")
    if hello is None:
        pr_err("sym_user: provider not loaded\n")
        return -19
    pr_info("sym_user: provider says %d\n", hello())
    return 0


@module_exit
def user_exit():
    pass


MODULE_LICENSE("GPL")
