// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 1 of the lab: Listing 2 changed to allocate five structures and print them.
 * The constructor runs for all 64 objects of a new slab when the slab is created, in
 * freelist order, and allocation follows the same freelist: ids 0 1 2 3 4.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define NUMBER_OF_OBJECTS 5

struct example_struct {
	unsigned int id;
	char example_string[10];
};

static struct example_struct *example_struct_pointers[NUMBER_OF_OBJECTS];
static struct kmem_cache *example_cachep;
static unsigned int constructor_calls;

static void example_constructor(void *argument)
{
	static unsigned int id;
	static char test_string[] = "Test";
	struct example_struct *example = (struct example_struct *)argument;

	example->id = id;
	strcpy(example->example_string, test_string);
	id++;
	constructor_calls++;
}

static void print_example_struct(struct example_struct *example)
{
	pr_notice("Example struct id: %u\n", example->id);
	pr_notice("Example string field content: %s\n", example->example_string);
}

static int __init exercise1_init(void)
{
	int i, j;

	example_cachep = kmem_cache_create("example cache",
					   sizeof(struct example_struct), 0,
					   SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE,
					   example_constructor);
	if (!example_cachep) {
		pr_alert("Error creating cache\n");
		return -ENOMEM;
	}
	pr_notice("Constructor calls after kmem_cache_create: %u\n", constructor_calls);
	for (i = 0; i < NUMBER_OF_OBJECTS; i++) {
		struct example_struct *pointer = kmem_cache_alloc(example_cachep, GFP_KERNEL);

		if (!pointer) {
			pr_alert("Error allocating object %d\n", i);
			for (j = 0; j < i; j++)
				kmem_cache_free(example_cachep, example_struct_pointers[j]);
			kmem_cache_destroy(example_cachep);
			return -ENOMEM;
		}
		example_struct_pointers[i] = pointer;
		pr_notice("Object %d allocated at %px (constructor calls so far: %u)\n",
			  i, pointer, constructor_calls);
		print_example_struct(example_struct_pointers[i]);
	}
	pr_notice("ids in allocation order: %u %u %u %u %u\n",
		  example_struct_pointers[0]->id, example_struct_pointers[1]->id,
		  example_struct_pointers[2]->id, example_struct_pointers[3]->id,
		  example_struct_pointers[4]->id);
	pr_notice("total constructor calls: %u\n", constructor_calls);
	return 0;
}

static void __exit exercise1_exit(void)
{
	int i;

	if (example_cachep) {
		for (i = 0; i < NUMBER_OF_OBJECTS; i++)
			if (example_struct_pointers[i])
				kmem_cache_free(example_cachep, example_struct_pointers[i]);
		kmem_cache_destroy(example_cachep);
	}
}

module_init(exercise1_init);
module_exit(exercise1_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmsim");
MODULE_DESCRIPTION("Exercise 1: five objects from a slab cache, in allocation order");
MODULE_VERSION("1.0");
