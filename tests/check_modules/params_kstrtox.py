"""Integer parameters of every width: kstrtox with base 0 (insmod u=010 is 8)."""
from kmsim.linux.module import *
from kmsim.linux.printk import *

u = 0
i = 0
sh = 0
h = 0
module_param("u", "uint", 0o644)
module_param("i", "int", 0o644)
module_param("sh", "short", 0o644)
module_param("h", "hexint", 0o644)
def p_init():
    pr_info("p: u=%u i=%d sh=%d h=%#x\n", u, i, sh, h)
    return 0
module_init(p_init)
module_exit(lambda: None)
MODULE_LICENSE("GPL")
