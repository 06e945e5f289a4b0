"""Correct code, but no MODULE_LICENSE."""
from kmsim.linux import *


@module_init
def nolic_init():
    pr_info("no licence here\n")
    return 0


@module_exit
def nolic_exit():
    pr_info("bye\n")
