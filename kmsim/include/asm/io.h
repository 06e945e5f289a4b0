/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's asm/io.h: physical and virtual addresses (written for kmsim). */
#ifndef _KMSIM_ASM_IO_H
#define _KMSIM_ASM_IO_H

#include <linux/types.h>
#include <asm/page.h>

phys_addr_t virt_to_phys(volatile void *address);
void *phys_to_virt(phys_addr_t address);

#endif
