# BAD: a module loaded twice (a module named like a loaded one).
# EXPECT: insmod: ERROR: could not insert module .*same_name_as_loaded\.py: File exists
# RUN: insmod tests/bad_modules/same_name_as_loaded.py; rmmod same_name_as_loaded
# STATUS: 0
from kmsim.linux.module import *


@module_init
def same_init():
    return 0


@module_exit
def same_exit():
    pass


MODULE_LICENSE("GPL")
