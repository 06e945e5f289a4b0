"""Exercise 1 of the lab: Listing 2 changed to allocate five structures and print them.

Are the objects handed out in the order the constructor initialised them?  The
constructor runs for all 64 objects of a new slab when the slab is created, in
freelist order; the freelist is randomised (CONFIG_SLAB_FREELIST_RANDOM), so the
addresses are shuffled, but allocation follows the same freelist: ids 0 1 2 3 4.
"""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.slab import *          # #include<linux/slab.h>
from kmsim.linux.string import *        # #include<linux/string.h>
from kmsim.linux.types import *
from kmsim.linux.printk import *
from kmsim.linux.err import *
from kmsim.linux.errno import *

NUMBER_OF_OBJECTS = 5                   # #define NUMBER_OF_OBJECTS 5


class example_struct(Struct):           # static struct example_struct {
    _fields_ = [("id", unsigned_int),   #         unsigned int id;
                ("example_string", char * 10)]  # char example_string[10];


example_struct_pointers = [None] * NUMBER_OF_OBJECTS   # } *example_struct_pointers[5];

example_cachep = None                   # static struct kmem_cache *example_cachep;

id = 0                                  # example_constructor's static unsigned int id;
test_string = "Test"                    # example_constructor's static char test_string[] = "Test";
constructor_calls = 0                   # static unsigned int constructor_calls;


def example_constructor(argument):
    global id, constructor_calls
    example = example_struct.at(argument)
    example.id = id
    strcpy(example.example_string, test_string)
    id += 1
    constructor_calls += 1


def print_example_struct(example):
    pr_notice("Example struct id: %u\n", example.id)
    pr_notice("Example string field content: %s\n", example.example_string)


def exercise1_init():
    global example_cachep
    example_cachep = kmem_cache_create("example cache",
                                       sizeof(example_struct), 0,
                                       SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE,
                                       example_constructor)
    if not example_cachep:
        pr_alert("Error creating cache\n")
        return -ENOMEM
    pr_notice("Constructor calls after kmem_cache_create: %u\n", constructor_calls)

    for i in range(NUMBER_OF_OBJECTS):
        pointer = kmem_cache_alloc(example_cachep, GFP_KERNEL)
        if not pointer:
            pr_alert("Error allocating object %d\n", i)
            for j in range(i):
                kmem_cache_free(example_cachep, example_struct_pointers[j])
            kmem_cache_destroy(example_cachep)
            return -ENOMEM
        example_struct_pointers[i] = example_struct.at(pointer)
        pr_notice("Object %d allocated at %px (constructor calls so far: %u)\n",
                  i, pointer, constructor_calls)
        print_example_struct(example_struct_pointers[i])

    pr_notice("ids in allocation order: %u %u %u %u %u\n",
              *(p.id for p in example_struct_pointers))
    pr_notice("total constructor calls: %u\n", constructor_calls)
    return 0


def exercise1_exit():
    if example_cachep:
        for p in example_struct_pointers:
            if p:
                kmem_cache_free(example_cachep, p)
        kmem_cache_destroy(example_cachep)


module_init(exercise1_init)
module_exit(exercise1_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("kmsim")
MODULE_DESCRIPTION("Exercise 1: five objects from a slab cache, in allocation order")
MODULE_VERSION("1.0")
