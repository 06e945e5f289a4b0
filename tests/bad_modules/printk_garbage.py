# BAD: printk with wrong arguments: too few, wrong types, %p of odd objects, a huge '*' width,
# a non-str format.  The kernel prints something for each and goes on.
# EXPECT: printk_garbage: a=\(einval\) b=0 c=\(null\)\nprintk_garbage: p=\(einval\) \(einval\) 0x0 \(einval\)\n[\s\S]*printk_garbage: done
# RUN: rmmod printk_garbage
from kmsim.linux.module import *
from kmsim.linux.printk import *


@module_init
def pg_init():
    pr_info("printk_garbage: a=%d b=%d c=%s\n", "x")
    pr_info("printk_garbage: p=%p %px %pS %pK\n", object(), 3.5, None, [1, 2])
    pr_info("printk_garbage: %*d|\n", 1 << 40, 5)
    pr_info("printk_garbage: %.*s|\n", 1 << 40, "abc")
    pr_info("printk_garbage: %hhd %lld %zu %c %c\n", 1 << 70, -1, -1, None, 10 ** 30)
    printk(12345)
    printk(None)
    pr_info("printk_garbage: %s\n", b"\xff\xfe\x00tail")
    pr_info("printk_garbage: done\n")
    return 0


@module_exit
def pg_exit():
    pass


MODULE_LICENSE("GPL")
