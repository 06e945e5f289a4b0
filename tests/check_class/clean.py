"""Clean: every allocation checked, every error path frees what came before."""
from kmsim.linux import *

buf = 0
table = 0


@module_init
def clean_init():
    global buf, table
    buf = kmalloc(128, GFP_KERNEL)
    if not buf:
        return -ENOMEM
    table = vmalloc(8192)
    if not table:
        kfree(buf)
        return -ENOMEM
    return 0


@module_exit
def clean_exit():
    vfree(table)
    kfree(buf)


MODULE_LICENSE("GPL")
