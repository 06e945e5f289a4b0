/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/kfifo.h: FIFOs over a power-of-two buffer (written for kmsim). */
#ifndef _KMSIM_LINUX_KFIFO_H
#define _KMSIM_LINUX_KFIFO_H

#include <linux/types.h>
#include <linux/gfp.h>

/* struct __kfifo: the element size is kept in esize, as the kernel's typed fifos do */
struct kfifo {
	unsigned int in;
	unsigned int out;
	unsigned int mask;
	unsigned int esize;
	void *data;
};

#define DECLARE_KFIFO_PTR(fifo, type) struct kfifo fifo = { .esize = sizeof(type) }
#define DEFINE_KFIFO_PTR(fifo, type) DECLARE_KFIFO_PTR(fifo, type)

int kfifo_alloc(struct kfifo *fifo, unsigned int size, gfp_t gfp_mask);
int kfifo_init(struct kfifo *fifo, void *buffer, unsigned int size);
void kfifo_free(struct kfifo *fifo);
unsigned int kfifo_in(struct kfifo *fifo, const void *buf, unsigned int n);
unsigned int kfifo_out(struct kfifo *fifo, void *buf, unsigned int n);
unsigned int kfifo_out_peek(struct kfifo *fifo, void *buf, unsigned int n);
unsigned int __kmsim_kfifo_put(struct kfifo *fifo, unsigned long val);
#define kfifo_put(fifo, val) __kmsim_kfifo_put(fifo, (unsigned long)(val))
unsigned int kfifo_get(struct kfifo *fifo, void *val);
unsigned int kfifo_len(struct kfifo *fifo);
bool kfifo_is_empty(struct kfifo *fifo);
bool kfifo_is_full(struct kfifo *fifo);
unsigned int kfifo_size(struct kfifo *fifo);
unsigned int kfifo_avail(struct kfifo *fifo);
unsigned int kfifo_esize(struct kfifo *fifo);
void kfifo_reset(struct kfifo *fifo);
bool kfifo_initialized(struct kfifo *fifo);

#endif
