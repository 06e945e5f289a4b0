// SPDX-License-Identifier: GPL-2.0
/* Exercise 2: a stack of kmalloc'd nodes, built in init, printed (LIFO) and deleted in exit. */
#include <linux/module.h>
#include <linux/slab.h>

static int count = 5;
module_param(count, int, 0644);
MODULE_PARM_DESC(count, "how many values to push (1..1000)");

struct stack_node {
	int value;
	struct stack_node *next;
};

static struct stack_node *top;

static int push(int value)
{
	struct stack_node *node = kmalloc(sizeof(*node), GFP_KERNEL);

	if (!node)
		return -ENOMEM;
	node->value = value;
	node->next = top;
	top = node;
	return 0;
}

/* removes the top node and returns its value (the stack must not be empty) */
static int pop_and_free(void)
{
	struct stack_node *node = top;
	int value = node->value;

	top = node->next;
	kfree(node);
	return value;
}

static int __init stack_init(void)
{
	int i;

	if (count < 1 || count > 1000) {
		pr_alert("count must be between 1 and 1000\n");
		return -EINVAL;
	}
	for (i = 1; i <= count; i++) {
		if (push(i * 10)) {
			pr_alert("Error allocating stack node %d!\n", i);
			while (top)
				pop_and_free();
			return -ENOMEM;
		}
		pr_notice("stack: pushed %d\n", i * 10);
	}
	return 0;
}

static void __exit stack_exit(void)
{
	pr_notice("stack contents, top first:\n");
	while (top)
		pr_notice("stack: popped %d\n", pop_and_free());
}

module_init(stack_init);
module_exit(stack_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmsim");
MODULE_DESCRIPTION("Exercise 2: a stack built in init, printed and deleted in exit");
MODULE_VERSION("1.0");
