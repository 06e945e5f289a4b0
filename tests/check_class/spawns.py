"""Starts a process (refused), catches the error and goes on."""
import subprocess

from kmsim.linux import *


@module_init
def spawns_init():
    try:
        subprocess.run(["echo", "hello from the host"])
    except PermissionError:
        pr_info("no processes here\n")
    return 0


@module_exit
def spawns_exit():
    pass


MODULE_LICENSE("GPL")
