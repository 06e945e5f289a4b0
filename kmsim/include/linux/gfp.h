/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/gfp.h: the page allocator's interface (written for kmsim). */
#ifndef _KMSIM_LINUX_GFP_H
#define _KMSIM_LINUX_GFP_H

#include <linux/types.h>
#include <linux/gfp_types.h>
#include <linux/mmzone.h>

struct page;

struct page *alloc_pages(gfp_t gfp_mask, unsigned int order);
#define alloc_page(gfp_mask) alloc_pages(gfp_mask, 0)
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order);
#define __get_free_page(gfp_mask) __get_free_pages((gfp_mask), 0)
unsigned long get_zeroed_page(gfp_t gfp_mask);
void __free_pages(struct page *page, unsigned int order);
#define __free_page(page) __free_pages((page), 0)
void free_pages(unsigned long addr, unsigned int order);
#define free_page(addr) free_pages((addr), 0)

#endif
