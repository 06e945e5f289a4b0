"""Exercise 5: a FIFO queue (kfifo of node pointers) built in init, printed and deleted in exit."""
from kmsim.linux.module import *        # #include <linux/module.h>
from kmsim.linux.slab import *          # #include <linux/slab.h>
from kmsim.linux.kfifo import *         # #include <linux/kfifo.h>
from kmsim.linux.printk import *
from kmsim.linux.types import *
from kmsim.linux.errno import *

count = 5                               # static int count = 5;
module_param("count", "int", 0o644)
MODULE_PARM_DESC("count", "how many elements to enqueue (2..1000)")


class fifo_node(Struct):                # struct fifo_node {
    _fields_ = [("value", int_)]        #         int value;
                                        # };

queue = DECLARE_KFIFO_PTR(pointer)      # static DECLARE_KFIFO_PTR(queue, struct fifo_node *);
p = pointer.static()                    # static struct fifo_node *p;  (kfifo_get writes &p)


def free_queue():
    while kfifo_get(queue, p):          # while (kfifo_get(&queue, &p))
        kfree(p.value)                  #         kfree(p);
    kfifo_free(queue)


def fifo_init():
    if count < 2 or count > 1000:
        pr_alert("count must be between 2 and 1000\n")
        return -EINVAL
    ret = kfifo_alloc(queue, count, GFP_KERNEL)
    if ret:
        pr_alert("Error allocating the fifo: %d\n", ret)
        return ret
    for i in range(1, count + 1):
        node = kmalloc(sizeof(fifo_node), GFP_KERNEL)
        if not node:
            pr_alert("Error allocating queue node %d!\n", i)
            free_queue()
            return -ENOMEM
        fifo_node.at(node).value = i * 100
        kfifo_put(queue, node)
    pr_notice("fifo: %d elements in a kfifo of %u\n", kfifo_len(queue), kfifo_size(queue))
    return 0


def fifo_exit():
    pr_notice("fifo contents, first in first:\n")
    while kfifo_get(queue, p):
        pr_notice("fifo: %d\n", fifo_node.at(p.value).value)
        kfree(p.value)
    kfifo_free(queue)


module_init(fifo_init)
module_exit(fifo_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("kmsim")
MODULE_DESCRIPTION("Exercise 5: a FIFO queue built in init, printed and deleted in exit")
MODULE_VERSION("1.0")
