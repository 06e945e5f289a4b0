// SPDX-License-Identifier: GPL-2.0
/* Exercise 3: a doubly-linked list (list.h) printed both ways and deleted in exit. */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/list.h>

static int count = 5;
module_param(count, int, 0644);
MODULE_PARM_DESC(count, "how many elements the list holds (1..1000)");

struct dlist_node {
	int value;
	struct list_head list;
};

static LIST_HEAD(numbers);

static void free_list(void)
{
	struct dlist_node *node, *tmp;

	list_for_each_entry_safe(node, tmp, &numbers, list) {
		list_del(&node->list);
		kfree(node);
	}
}

static int __init dlist_init(void)
{
	int i;

	if (count < 1 || count > 1000) {
		pr_alert("count must be between 1 and 1000\n");
		return -EINVAL;
	}
	for (i = 1; i <= count; i++) {
		struct dlist_node *node = kmalloc(sizeof(*node), GFP_KERNEL);

		if (!node) {
			pr_alert("Error allocating list node %d!\n", i);
			free_list();
			return -ENOMEM;
		}
		node->value = i;
		list_add_tail(&node->list, &numbers);
	}
	pr_notice("dlist: %d elements\n", count);
	return 0;
}

static void __exit dlist_exit(void)
{
	struct dlist_node *node;

	pr_notice("dlist forward:\n");
	list_for_each_entry(node, &numbers, list)
		pr_notice("dlist: %d\n", node->value);
	pr_notice("dlist backward:\n");
	list_for_each_entry_reverse(node, &numbers, list)
		pr_notice("dlist: %d\n", node->value);
	free_list();
}

module_init(dlist_init);
module_exit(dlist_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmsim");
MODULE_DESCRIPTION("Exercise 3: a doubly-linked list printed in both directions");
MODULE_VERSION("1.0");
