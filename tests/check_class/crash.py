"""Crashes the Python interpreter (SIGSEGV): only its own grading process dies."""
import faulthandler

from kmsim.linux import *


@module_init
def crash_init():
    faulthandler._sigsegv()
    return 0


MODULE_LICENSE("GPL")
