"""The smallest module: prints a greeting at insmod and at rmmod."""
from kmsim.linux.module import *
from kmsim.linux.printk import *

who = "world"                           # static char *who = "world";
module_param("who", "charp", 0o644)     # module_param(who, charp, 0644);
MODULE_PARM_DESC("who", "whom to greet")


@module_init
def hello_init():
    pr_notice("Hello, %s!\n", who)
    return 0


@module_exit
def hello_exit():
    pr_notice("Goodbye, %s!\n", who)


MODULE_LICENSE("GPL")
MODULE_AUTHOR("kmsim")
MODULE_DESCRIPTION("Hello world")
MODULE_VERSION("1.0")
