/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/vmalloc.h: virtually contiguous memory (written for kmsim). */
#ifndef _KMSIM_LINUX_VMALLOC_H
#define _KMSIM_LINUX_VMALLOC_H

#include <linux/types.h>
#include <linux/gfp.h>
#include <asm/pgtable.h>

void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void *vmalloc_32(unsigned long size);
void *vmalloc_user(unsigned long size);
void vfree(const void *addr);
struct page *vmalloc_to_page(const void *addr);
unsigned long vmalloc_to_pfn(const void *addr);
bool is_vmalloc_addr(const void *x);
void *kvmalloc(size_t size, gfp_t flags);
void *kvzalloc(size_t size, gfp_t flags);
void *kvmalloc_array(size_t n, size_t size, gfp_t flags);
void *kvcalloc(size_t n, size_t size, gfp_t flags);
void kvfree(const void *addr);

#endif
