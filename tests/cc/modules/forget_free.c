// SPDX-License-Identifier: GPL-2.0
/* A module that forgets to free its first allocation when the second one fails. */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/gfp.h>

static void *first;
static unsigned long second;

static int __init forget_init(void)
{
	first = kmalloc(4096, GFP_KERNEL);
	if (!first)
		return -ENOMEM;
	second = __get_free_pages(GFP_KERNEL, 1);
	if (!second)
		return -ENOMEM;
	return 0;
}

static void __exit forget_exit(void)
{
	free_pages(second, 1);
	kfree(first);
}

module_init(forget_init);
module_exit(forget_exit);
MODULE_LICENSE("GPL");
