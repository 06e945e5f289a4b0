# BAD: runs a pointer past the end of RAM in the direct map: there is nothing mapped there.
# REQUIRES: string
# EXPECT: BUG: unable to handle page fault for address: ffff8880[0-9a-f]+[\s\S]*Killed
from kmsim.linux.module import *
from kmsim.linux.mm import *
from kmsim.linux.string import *


@module_init
def past_ram_init():
    end_of_ram = __va(1 << 30)
    memset(end_of_ram, 0, 16)
    return 0


MODULE_LICENSE("GPL")
