"""Exercise 3: a doubly-linked list (list.h) printed both ways and deleted in exit."""
from kmsim.linux.module import *        # #include <linux/module.h>
from kmsim.linux.slab import *          # #include <linux/slab.h>
from kmsim.linux.list import *          # #include <linux/list.h>
from kmsim.linux.printk import *
from kmsim.linux.types import *
from kmsim.linux.errno import *

count = 5                               # static int count = 5;
module_param("count", "int", 0o644)
MODULE_PARM_DESC("count", "how many elements the list holds (1..1000)")


class dlist_node(Struct):               # struct dlist_node {
    _fields_ = [("value", int_),        #         int value;
                ("list", list_head)]    #         struct list_head list;
                                        # };

numbers = LIST_HEAD()                   # static LIST_HEAD(numbers);


def free_list():
    for node in list_for_each_entry_safe(numbers, dlist_node, "list"):
        list_del(addressof(node, "list"))     # list_del(&node->list);
        kfree(node.addr)


def dlist_init():
    if count < 1 or count > 1000:
        pr_alert("count must be between 1 and 1000\n")
        return -EINVAL
    for i in range(1, count + 1):
        p = kmalloc(sizeof(dlist_node), GFP_KERNEL)
        if not p:
            pr_alert("Error allocating list node %d!\n", i)
            free_list()
            return -ENOMEM
        node = dlist_node.at(p)
        node.value = i
        list_add_tail(addressof(node, "list"), numbers)   # list_add_tail(&node->list, &numbers);
    pr_notice("dlist: %d elements\n", count)
    return 0


def dlist_exit():
    pr_notice("dlist forward:\n")
    for node in list_for_each_entry(numbers, dlist_node, "list"):
        pr_notice("dlist: %d\n", node.value)
    pr_notice("dlist backward:\n")
    for node in list_for_each_entry_reverse(numbers, dlist_node, "list"):
        pr_notice("dlist: %d\n", node.value)
    free_list()


module_init(dlist_init)
module_exit(dlist_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("kmsim")
MODULE_DESCRIPTION("Exercise 3: a doubly-linked list printed in both directions")
MODULE_VERSION("1.0")
