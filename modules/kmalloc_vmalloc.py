"""Listing 4 of the lab: the use of kmalloc() and vmalloc().  Line by line from the C listing."""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.vmalloc import *       # #include<linux/vmalloc.h>
from kmsim.linux.slab import *          # #include<linux/slab.h>
from kmsim.linux.types import *
from kmsim.linux.printk import *
from kmsim.linux.err import *
from kmsim.linux.errno import *

NUMBER_OF_ELEMENTS = 20                             # #define NUMBER_OF_ELEMENTS 20
MEMORY_SIZE = NUMBER_OF_ELEMENTS * sizeof(int_)     # #define MEMORY_SIZE NUMBER_OF_ELEMENTS*sizeof(int)

first_array = second_array = 0                      # static int *first_array, *second_array;


def mallocmod_init():
    global first_array, second_array
    first_array = vmalloc(MEMORY_SIZE)
    if IS_ERR(first_array):
        pr_alert("Error allocating memory with the use of vmaloc(): %ld\n",
                 PTR_ERR(first_array))
        return -ENOMEM
    pr_notice("The address in first_array: %p\n", first_array)

    second_array = kmalloc(MEMORY_SIZE, GFP_KERNEL)
    if IS_ERR(second_array):
        pr_alert("Error allocating memory with the use of vmaloc(): %ld\n",
                 PTR_ERR(second_array))
        return -ENOMEM
    pr_notice("The address in second_array: %p\n", second_array)

    return 0


def mallocmod_exit():
    if second_array:
        pr_notice("second_array content:\n")
        for i in range(NUMBER_OF_ELEMENTS):
            pr_notice("%d ", int_.array_at(second_array, NUMBER_OF_ELEMENTS)[i])
        pr_notice("\n")
        kfree(second_array)

    if first_array:
        pr_notice("first_array content:\n")
        for i in range(NUMBER_OF_ELEMENTS):
            pr_notice("%d ", int_.array_at(first_array, NUMBER_OF_ELEMENTS)[i])
        pr_notice("\n")
        vfree(first_array)


module_init(mallocmod_init)
module_exit(mallocmod_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("Arkadiusz Chrobot <a.chrobot@tu.kielce.pl>")
MODULE_DESCRIPTION("A module demonstrating the usage of different kernel memory allocators.")
MODULE_VERSION("1.0")
