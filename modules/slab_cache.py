"""Listing 2 of the lab: using the slab allocator - cache memory.  Line by line from the C listing."""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.slab import *          # #include<linux/slab.h>
from kmsim.linux.string import *        # #include<linux/string.h>
from kmsim.linux.types import *
from kmsim.linux.printk import *
from kmsim.linux.err import *
from kmsim.linux.errno import *


class example_struct(Struct):           # static struct example_struct {
    _fields_ = [("id", unsigned_int),   #         unsigned int id;
                ("example_string", char * 10)]  # char example_string[10];


example_struct_pointer = None           # } *example_struct_pointer;

example_cachep = None                   # static struct kmem_cache *example_cachep;

id = 0                                  # example_constructor's static unsigned int id;
test_string = "Test"                    # example_constructor's static char test_string[] = "Test";


def example_constructor(argument):      # static void example_constructor(void *argument)
    global id
    example = example_struct.at(argument)   # struct example_struct *example = (...)argument;
    example.id = id                     # example->id = id;
    strcpy(example.example_string, test_string)  # strcpy(example->example_string,test_string);
    id += 1                             # id++;


def print_example_struct(example):      # void print_example_struct(struct example_struct *example)
    pr_notice("Example struct id: %u\n", example.id)
    pr_notice("Example string field content: %s\n", example.example_string)


def slabmod_init():                     # static int __init slabmod_init(void)
    global example_cachep, example_struct_pointer
    example_cachep = kmem_cache_create("example cache",
                                       sizeof(example_struct), 0,
                                       SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE,
                                       example_constructor)
    if IS_ERR(example_cachep):
        pr_alert("Error creating cache: %ld\n", PTR_ERR(example_cachep))
        return -ENOMEM

    example_struct_pointer = example_struct.at(
        kmem_cache_alloc(example_cachep, GFP_KERNEL))
    if IS_ERR(example_struct_pointer):
        pr_alert("Error allocating form cache: %ld\n",
                 PTR_ERR(example_struct_pointer))
        kmem_cache_destroy(example_cachep)
        return -ENOMEM

    return 0


def slabmod_exit():                     # static void __exit slabmod_exit(void)
    if example_cachep:
        if example_struct_pointer:
            print_example_struct(example_struct_pointer)
            kmem_cache_free(example_cachep, example_struct_pointer)
        kmem_cache_destroy(example_cachep)


module_init(slabmod_init)
module_exit(slabmod_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("Arkadiusz Chrobot <a.chrobot@tu.kielce.pl>")
MODULE_DESCRIPTION("A module demonstrating the use of the slab allocator.")
MODULE_VERSION("1.0")
