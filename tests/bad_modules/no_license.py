# BAD: no MODULE_LICENSE: the kernel assumes a proprietary module and taints itself (P).
# EXPECT: no_license: module license 'unspecified' taints kernel\.
# RUN: rmmod no_license; cat /proc/sys/kernel/tainted
from kmsim.linux.module import *
from kmsim.linux.printk import *


@module_init
def nolic_init():
    return 0


@module_exit
def nolic_exit():
    pass
