/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's asm/page.h: page size and address conversions (written for kmsim). */
#ifndef _KMSIM_ASM_PAGE_H
#define _KMSIM_ASM_PAGE_H

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))

unsigned long __pa(const volatile void *x);
void *__va(unsigned long x);
#define virt_to_phys(x)	__pa(x)
#define phys_to_virt(x)	__va(x)

#endif
