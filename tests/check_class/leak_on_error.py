"""Leaks the first buffer when the second allocation fails."""
from kmsim.linux import *

a = 0
b = 0


@module_init
def leak_init():
    global a, b
    a = kmalloc(64, GFP_KERNEL)
    if not a:
        return -ENOMEM
    b = kmalloc(256, GFP_KERNEL)
    if not b:
        return -ENOMEM          # forgets kfree(a)
    return 0


@module_exit
def leak_exit():
    kfree(b)
    kfree(a)


MODULE_LICENSE("GPL")
