"""Takes host memory in 256 MiB pieces until there is none (the memory limit stops it)."""
from kmsim.linux import *

hoard = []


@module_init
def hog_init():
    while True:
        hoard.append(bytes(256 << 20))     # calloc: fast, untouched
    return 0


@module_exit
def hog_exit():
    hoard.clear()


MODULE_LICENSE("GPL")
