"""A module whose init never returns: the soft-lockup watchdog must stop it."""
from kmsim.linux.module import *


def spin_init():
    n = 0
    while True:
        n += 1
    return 0


module_init(spin_init)
MODULE_LICENSE("GPL")
