/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's asm/pgtable.h: the vmalloc area of the simulated machine (written for kmsim). */
#ifndef _KMSIM_ASM_PGTABLE_H
#define _KMSIM_ASM_PGTABLE_H

#include <asm/page.h>

unsigned long __kmsim_vmalloc_start(void);
unsigned long __kmsim_vmalloc_end(void);
#define VMALLOC_START	(__kmsim_vmalloc_start())
#define VMALLOC_END	(__kmsim_vmalloc_end())

#endif
