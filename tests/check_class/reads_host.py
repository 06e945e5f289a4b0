"""Reads a host file outside its folder (refused)."""
from kmsim.linux import *


@module_init
def reads_init():
    with open("/etc/hostname") as f:
        pr_info("%s\n", f.read())
    return 0


@module_exit
def reads_exit():
    pass


MODULE_LICENSE("GPL")
