"""Exercise 2: a stack of kmalloc'd nodes, built in init, printed (LIFO) and deleted in exit."""
from kmsim.linux.module import *        # #include <linux/module.h>
from kmsim.linux.slab import *          # #include <linux/slab.h>
from kmsim.linux.printk import *
from kmsim.linux.types import *
from kmsim.linux.errno import *

count = 5                               # static int count = 5;
module_param("count", "int", 0o644)     # module_param(count, int, 0644);
MODULE_PARM_DESC("count", "how many values to push (1..1000)")


class stack_node(Struct):               # struct stack_node {
    _fields_ = [("value", int_),        #         int value;
                ("next", pointer)]      #         struct stack_node *next;
                                        # };

top = NULL                              # static struct stack_node *top = NULL;


def push(value):
    global top
    node = kmalloc(sizeof(stack_node), GFP_KERNEL)
    if not node:
        return -ENOMEM
    n = stack_node.at(node)             # struct stack_node *n = node;
    n.value = value
    n.next = top
    top = node
    return 0


def pop_and_free():
    """Removes the top node and returns its value (the stack must not be empty)."""
    global top
    node = top
    value = stack_node.at(node).value
    top = stack_node.at(node).next
    kfree(node)
    return value


def stack_init():
    if count < 1 or count > 1000:
        pr_alert("count must be between 1 and 1000\n")
        return -EINVAL
    for i in range(1, count + 1):
        if push(i * 10):
            pr_alert("Error allocating stack node %d!\n", i)
            while top:
                pop_and_free()
            return -ENOMEM
        pr_notice("stack: pushed %d\n", i * 10)
    return 0


def stack_exit():
    pr_notice("stack contents, top first:\n")
    while top:
        pr_notice("stack: popped %d\n", pop_and_free())


module_init(stack_init)
module_exit(stack_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("kmsim")
MODULE_DESCRIPTION("Exercise 2: a stack built in init, printed and deleted in exit")
MODULE_VERSION("1.0")
