/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/mm.h: pages and addresses (written for kmsim). */
#ifndef _KMSIM_LINUX_MM_H
#define _KMSIM_LINUX_MM_H

#include <linux/gfp.h>
#include <linux/mmzone.h>
#include <asm/page.h>
#include <asm/io.h>
#include <asm/pgtable.h>

/* kmsim keeps a struct page as its own object; this is only its size */
struct page {
	unsigned long __kmsim_flags[64 / sizeof(unsigned long)];
};

void *page_address(const struct page *page);
struct page *virt_to_page(const void *addr);
unsigned long page_to_pfn(const struct page *page);
struct page *pfn_to_page(unsigned long pfn);
void *page_to_virt(const struct page *page);
bool virt_addr_valid(const void *addr);
int get_order(unsigned long size);
int PageHighMem(const struct page *page);
struct zone *page_zone(const struct page *page);
int page_count(const struct page *page);

#endif
