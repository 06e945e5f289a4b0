// SPDX-License-Identifier: GPL-2.0
/* Exercise 5: a FIFO queue (kfifo of node pointers) built in init, printed and deleted in exit. */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/kfifo.h>

static int count = 5;
module_param(count, int, 0644);
MODULE_PARM_DESC(count, "how many elements to enqueue (2..1000)");

struct fifo_node {
	int value;
};

static DECLARE_KFIFO_PTR(queue, struct fifo_node *);
static struct fifo_node *p;

static void free_queue(void)
{
	while (kfifo_get(&queue, &p))
		kfree(p);
	kfifo_free(&queue);
}

static int __init fifo_init(void)
{
	int i, ret;

	if (count < 2 || count > 1000) {
		pr_alert("count must be between 2 and 1000\n");
		return -EINVAL;
	}
	ret = kfifo_alloc(&queue, count, GFP_KERNEL);
	if (ret) {
		pr_alert("Error allocating the fifo: %d\n", ret);
		return ret;
	}
	for (i = 1; i <= count; i++) {
		struct fifo_node *node = kmalloc(sizeof(*node), GFP_KERNEL);

		if (!node) {
			pr_alert("Error allocating queue node %d!\n", i);
			free_queue();
			return -ENOMEM;
		}
		node->value = i * 100;
		kfifo_put(&queue, node);
	}
	pr_notice("fifo: %d elements in a kfifo of %u\n", kfifo_len(&queue), kfifo_size(&queue));
	return 0;
}

static void __exit fifo_exit(void)
{
	pr_notice("fifo contents, first in first:\n");
	while (kfifo_get(&queue, &p)) {
		pr_notice("fifo: %d\n", p->value);
		kfree(p);
	}
	kfifo_free(&queue);
}

module_init(fifo_init);
module_exit(fifo_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmsim");
MODULE_DESCRIPTION("Exercise 5: a FIFO queue built in init, printed and deleted in exit");
MODULE_VERSION("1.0");
