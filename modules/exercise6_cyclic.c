// SPDX-License-Identifier: GPL-2.0
/* Exercise 6: a cyclic singly-linked list, each node printed once from the head, then deleted. */
#include <linux/module.h>
#include <linux/slab.h>

static int count = 5;
module_param(count, int, 0644);
MODULE_PARM_DESC(count, "how many nodes the ring holds (1..1000)");

struct ring_node {
	int value;
	struct ring_node *next;
};

static struct ring_node *head;

/* frees a NULL-terminated chain (the ring before it is closed) */
static void free_chain(struct ring_node *first)
{
	while (first) {
		struct ring_node *next = first->next;

		kfree(first);
		first = next;
	}
}

static int __init ring_init(void)
{
	struct ring_node *tail = NULL;
	int i;

	if (count < 1 || count > 1000) {
		pr_alert("count must be between 1 and 1000\n");
		return -EINVAL;
	}
	for (i = 1; i <= count; i++) {
		struct ring_node *node = kmalloc(sizeof(*node), GFP_KERNEL);

		if (!node) {
			pr_alert("Error allocating ring node %d!\n", i);
			free_chain(head);
			head = NULL;
			return -ENOMEM;
		}
		node->value = i;
		node->next = NULL;
		if (tail)
			tail->next = node;
		else
			head = node;
		tail = node;
	}
	tail->next = head;
	pr_notice("ring: %d nodes\n", count);
	return 0;
}

static void __exit ring_exit(void)
{
	struct ring_node *p = head, *next;

	pr_notice("ring contents, from the head:\n");
	do {
		pr_notice("ring: %d\n", p->value);
		p = p->next;
	} while (p != head);
	p = head;
	do {
		next = p->next;
		kfree(p);
		p = next;
	} while (p != head);
}

module_init(ring_init);
module_exit(ring_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmsim");
MODULE_DESCRIPTION("Exercise 6: a cyclic singly-linked list");
MODULE_VERSION("1.0");
