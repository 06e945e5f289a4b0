"""Exercise 6: a cyclic singly-linked list, each node printed once from the head, then deleted."""
from kmsim.linux.module import *        # #include <linux/module.h>
from kmsim.linux.slab import *          # #include <linux/slab.h>
from kmsim.linux.printk import *
from kmsim.linux.types import *
from kmsim.linux.errno import *

count = 5                               # static int count = 5;
module_param("count", "int", 0o644)
MODULE_PARM_DESC("count", "how many nodes the ring holds (1..1000)")


class ring_node(Struct):                # struct ring_node {
    _fields_ = [("value", int_),        #         int value;
                ("next", pointer)]      #         struct ring_node *next;
                                        # };

head = NULL                             # static struct ring_node *head = NULL;


def free_chain(first):
    """Frees a NULL-terminated chain (the ring before it is closed)."""
    while first:
        nxt = ring_node.at(first).next
        kfree(first)
        first = nxt


def ring_init():
    global head
    if count < 1 or count > 1000:
        pr_alert("count must be between 1 and 1000\n")
        return -EINVAL
    tail = NULL
    for i in range(1, count + 1):
        node = kmalloc(sizeof(ring_node), GFP_KERNEL)
        if not node:
            pr_alert("Error allocating ring node %d!\n", i)
            free_chain(head)
            head = NULL
            return -ENOMEM
        n = ring_node.at(node)
        n.value = i
        n.next = NULL
        if tail:
            ring_node.at(tail).next = node
        else:
            head = node
        tail = node
    ring_node.at(tail).next = head      # close the ring: the last node points to the first
    pr_notice("ring: %d nodes\n", count)
    return 0


def ring_exit():
    pr_notice("ring contents, from the head:\n")
    p = head
    while True:                         # do {
        pr_notice("ring: %d\n", ring_node.at(p).value)
        p = ring_node.at(p).next
        if p == head:                   # } while (p != head);
            break
    p = head
    while True:                         # do { next = p->next; kfree(p); p = next;
                                        # } while (p != head);
        nxt = ring_node.at(p).next
        kfree(p)
        p = nxt
        if p == head:
            break


module_init(ring_init)
module_exit(ring_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("kmsim")
MODULE_DESCRIPTION("Exercise 6: a cyclic singly-linked list")
MODULE_VERSION("1.0")
