# BAD: a proprietary licence: taints the kernel (P) and GPL-only symbols are unavailable.
# EXPECT: proprietary: module license 'Proprietary' taints kernel\.[\s\S]*Disabling lock debugging due to kernel taint
# RUN: rmmod proprietary
from kmsim.linux.module import *


@module_init
def prop_init():
    return 0


@module_exit
def prop_exit():
    pass


MODULE_LICENSE("Proprietary")
