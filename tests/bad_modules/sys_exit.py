# BAD: calls sys.exit() in init, as a user-space program would: it must not end the shell.
# EXPECT: kernel BUG at sys_exit\.py:10![\s\S]*SystemExit
# RUN: rmmod -f sys_exit; echo still-alive
from kmsim.linux.module import *
import sys


@module_init
def exit_init():
    sys.exit(3)


MODULE_LICENSE("GPL")
