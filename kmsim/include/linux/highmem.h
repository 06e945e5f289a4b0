/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/highmem.h: kmap and friends (written for kmsim). */
#ifndef _KMSIM_LINUX_HIGHMEM_H
#define _KMSIM_LINUX_HIGHMEM_H

#include <linux/mm.h>

void *kmap(struct page *page);
void kunmap(struct page *page);
void *kmap_local_page(struct page *page);
void kunmap_local(const void *addr);

#endif
