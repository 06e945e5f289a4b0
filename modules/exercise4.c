// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 4 of the lab: Exercise 1 applied to Listing 3.  The pool hands out objects
 * from the slab first (mempool_alloc tries the allocator before its reserve), so the
 * first id is 10, the 10 objects built for the reserve having taken ids 0-9.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mempool.h>
#include <linux/string.h>

#define MINIMUM_MEMPOOL_OBJECTS 10
#define NUMBER_OF_OBJECTS 5

struct example_struct {
	unsigned int id;
	char example_string[10];
};

static struct kmem_cache *example_cachep;
static mempool_t *mempool_pointer;
static struct example_struct *example_struct_pointers[NUMBER_OF_OBJECTS];

static void example_constructor(void *argument)
{
	static unsigned int id;
	static char test_string[] = "Test";
	struct example_struct *example = (struct example_struct *)argument;

	example->id = id;
	strcpy(example->example_string, test_string);
	id++;
}

static void print_example_struct(struct example_struct *example)
{
	pr_notice("Example struct id: %u\n", example->id);
	pr_notice("Example string field content: %s\n", example->example_string);
}

static void release(int count)
{
	int i;

	for (i = 0; i < count; i++) {
		mempool_free(example_struct_pointers[i], mempool_pointer);
		example_struct_pointers[i] = NULL;
	}
}

static int __init slabmod_init(void)
{
	int i;

	example_cachep = kmem_cache_create("example cache",
					   sizeof(struct example_struct), 0,
					   SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE,
					   example_constructor);
	if (!example_cachep) {
		pr_alert("Error creating cache\n");
		return -ENOMEM;
	}
	mempool_pointer = mempool_create(MINIMUM_MEMPOOL_OBJECTS,
					 mempool_alloc_slab, mempool_free_slab, example_cachep);
	if (!mempool_pointer) {
		pr_alert("Error creating mempool\n");
		kmem_cache_destroy(example_cachep);
		return -ENOMEM;
	}
	for (i = 0; i < NUMBER_OF_OBJECTS; i++) {
		example_struct_pointers[i] = mempool_alloc(mempool_pointer, GFP_KERNEL);
		if (!example_struct_pointers[i]) {
			pr_alert("Error allocating from the mempool\n");
			release(i);
			mempool_destroy(mempool_pointer);
			kmem_cache_destroy(example_cachep);
			return -ENOMEM;
		}
		pr_notice("Object #%d allocated, id %u\n", i, example_struct_pointers[i]->id);
	}
	return 0;
}

static void __exit slabmod_exit(void)
{
	int i;

	for (i = 0; i < NUMBER_OF_OBJECTS; i++)
		print_example_struct(example_struct_pointers[i]);
	release(NUMBER_OF_OBJECTS);
	mempool_destroy(mempool_pointer);
	kmem_cache_destroy(example_cachep);
}

module_init(slabmod_init);
module_exit(slabmod_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Arkadiusz Chrobot <a.chrobot@tu.kielce.pl>");
MODULE_DESCRIPTION("Exercise 4: five objects from a mempool.");
MODULE_VERSION("1.0");
