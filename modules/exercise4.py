"""Exercise 4 of the lab: Exercise 1 applied to Listing 3.

Five sample structures come from the memory pool and their contents go to the
kernel buffer.  Compare the printed ids with the order of allocation: the pool
hands out objects from the slab first (mempool_alloc tries the allocator before
its reserve), so the first id is 10, the 10 objects built for the reserve
having taken ids 0-9.
"""
from kmsim.linux.module import *        # #include<linux/module.h>
from kmsim.linux.slab import *          # #include<linux/slab.h>
from kmsim.linux.mempool import *       # #include<linux/mempool.h>
from kmsim.linux.string import *        # #include<linux/string.h>
from kmsim.linux.types import *
from kmsim.linux.printk import *
from kmsim.linux.err import *
from kmsim.linux.errno import *

MINIMUM_MEMPOOL_OBJECTS = 10            # #define MINIMUM_MEMPOOL_OBJECTS 10
NUMBER_OF_OBJECTS = 5                   # #define NUMBER_OF_OBJECTS 5


class example_struct(Struct):           # struct example_struct {
    _fields_ = [("id", unsigned_int),   #         unsigned int id;
                ("example_string", char * 10)]  # char example_string[10];


example_cachep = None                   # static struct kmem_cache *example_cachep;
mempool_pointer = None                  # static mempool_t *mempool_pointer;
# static struct example_struct *example_struct_pointers[NUMBER_OF_OBJECTS];
example_struct_pointers = (pointer * NUMBER_OF_OBJECTS).static()

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


def release(count):
    for i in range(count):
        mempool_free(example_struct_pointers[i], mempool_pointer)
        example_struct_pointers[i] = 0


def slabmod_init():
    global example_cachep, mempool_pointer
    example_cachep = kmem_cache_create("example cache",
                                       sizeof(example_struct), 0,
                                       SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE,
                                       example_constructor)
    if not example_cachep:
        pr_alert("Error creating cache\n")
        return -ENOMEM

    mempool_pointer = mempool_create(MINIMUM_MEMPOOL_OBJECTS,
                                     mempool_alloc_slab, mempool_free_slab, example_cachep)
    if not mempool_pointer:
        pr_alert("Error creating mempool\n")
        kmem_cache_destroy(example_cachep)
        return -ENOMEM

    for i in range(NUMBER_OF_OBJECTS):
        example_struct_pointers[i] = mempool_alloc(mempool_pointer, GFP_KERNEL)
        if not example_struct_pointers[i]:
            pr_alert("Error allocating from the mempool\n")
            release(i)
            mempool_destroy(mempool_pointer)
            kmem_cache_destroy(example_cachep)
            return -ENOMEM
        pr_notice("Object #%d allocated, id %u\n", i,
                  example_struct.at(example_struct_pointers[i]).id)
    return 0


def slabmod_exit():
    for i in range(NUMBER_OF_OBJECTS):
        print_example_struct(example_struct.at(example_struct_pointers[i]))
    release(NUMBER_OF_OBJECTS)
    mempool_destroy(mempool_pointer)
    kmem_cache_destroy(example_cachep)


module_init(slabmod_init)
module_exit(slabmod_exit)

MODULE_LICENSE("GPL")
MODULE_AUTHOR("Arkadiusz Chrobot <a.chrobot@tu.kielce.pl>")
MODULE_DESCRIPTION("Exercise 4: five objects from a mempool.")
MODULE_VERSION("1.0")
