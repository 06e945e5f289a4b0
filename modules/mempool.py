"""Listing 3 of the lab: using the slab allocator - memory pool.  Line by line from the C listing."""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.slab import *          # #include<linux/slab.h>
from kmsim.linux.mempool import *       # #include<linux/mempool.h>
from kmsim.linux.string import *        # #include<linux/string.h>
from kmsim.linux.types import *
from kmsim.linux.printk import *
from kmsim.linux.err import *
from kmsim.linux.errno import *

MINIMUM_MEMPOOL_OBJECTS = 10            # #define MINIMUM_MEMPOOL_OBJECTS 10


class example_struct(Struct):           # static struct example_struct {
    _fields_ = [("id", unsigned_int),   #         unsigned int id;
                ("example_string", char * 10)]  # char example_string[10];


example_struct_pointer = None           # } *example_struct_pointer;

example_cachep = None                   # static struct kmem_cache *example_cachep;
mempool_pointer = None                  # static mempool_t *mempool_pointer;

id = 0                                  # example_constructor's static unsigned int id;
test_string = "Test"                    # example_constructor's static char test_string[] = "Test";


def example_constructor(argument):
    global id
    example = example_struct.at(argument)
    example.id = id
    strcpy(example.example_string, test_string)
    id += 1


def print_example_struct(example):
    pr_notice("Example struct id: %u\n", example.id)
    pr_notice("Example string field content: %s\n", example.example_string)


def slabmod_init():
    global example_cachep, mempool_pointer, example_struct_pointer
    example_cachep = kmem_cache_create("example cache",
                                       sizeof(example_struct), 0,
                                       SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE,
                                       example_constructor)
    if IS_ERR(example_cachep):
        pr_alert("Error creating cache: %ld\n", PTR_ERR(example_cachep))
        return -ENOMEM

    mempool_pointer = mempool_create(MINIMUM_MEMPOOL_OBJECTS,
                                     mempool_alloc_slab, mempool_free_slab, example_cachep)
    if IS_ERR(mempool_pointer):
        pr_alert("Error creating cache: %ld\n", PTR_ERR(mempool_pointer))
        kmem_cache_destroy(example_cachep)
        return -1

    example_struct_pointer = example_struct.at(
        mempool_alloc(mempool_pointer, GFP_KERNEL))
    if IS_ERR(example_struct_pointer):
        pr_alert("Error allocating form cache: %ld\n",
                 PTR_ERR(example_struct_pointer))
        mempool_destroy(mempool_pointer)
        kmem_cache_destroy(example_cachep)
        return -ENOMEM

    return 0


def slabmod_exit():
    if example_cachep:
        if mempool_pointer:
            if example_struct_pointer:
                print_example_struct(example_struct_pointer)
                mempool_free(example_struct_pointer, mempool_pointer)
            mempool_destroy(mempool_pointer)
        kmem_cache_destroy(example_cachep)


module_init(slabmod_init)
module_exit(slabmod_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("Arkadiusz Chrobot <a.chrobot@tu.kielce.pl>")
MODULE_DESCRIPTION("A module demonstrating the use of a mempool.")
MODULE_VERSION("1.0")
