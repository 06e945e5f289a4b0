"""Sleeps for an hour in init (a wall-time limit stops it)."""
import time

from kmsim.linux import *


@module_init
def sleeper_init():
    time.sleep(3600)
    return 0


@module_exit
def sleeper_exit():
    pass


MODULE_LICENSE("GPL")
