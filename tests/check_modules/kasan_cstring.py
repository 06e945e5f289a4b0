"""printk %s of a 5-byte kmalloc holding "abcd": no KASAN report (only the string and its NUL are read)."""
from kmsim.linux.module import *
from kmsim.linux.printk import *
from kmsim.linux.slab import *
from kmsim.linux.string import *


def k_init():
    p = kmalloc(5, GFP_KERNEL)
    strcpy(p, "abcd")
    pr_info("kstr: %s\n", p)
    kfree(p)
    return 0
module_init(k_init)
module_exit(lambda: None)
MODULE_LICENSE("GPL")
