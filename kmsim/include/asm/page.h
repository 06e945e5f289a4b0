/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's asm/page.h: page size and address conversions (written for kmsim). */
#ifndef _KMSIM_ASM_PAGE_H
#define _KMSIM_ASM_PAGE_H

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))

unsigned long __kmsim_page_offset(void);
#define PAGE_OFFSET	(__kmsim_page_offset())

unsigned long __pa(const volatile void *x);
void *__va(unsigned long x);

#endif
