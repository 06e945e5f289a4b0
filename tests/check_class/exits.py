"""Ends the process it runs in (refused: os._exit would take the grader down)."""
import os

from kmsim.linux import *


@module_init
def exits_init():
    os._exit(0)


MODULE_LICENSE("GPL")
