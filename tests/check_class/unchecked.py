"""Uses kmalloc's result without testing it (the call spans two lines)."""
from kmsim.linux import *

buf = 0


@module_init
def unchecked_init():
    global buf
    buf = kmalloc(
        64, GFP_KERNEL)
    memset(buf, 0, 64)
    return 0


@module_exit
def unchecked_exit():
    kfree(buf)


MODULE_LICENSE("GPL")
