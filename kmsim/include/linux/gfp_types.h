/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/gfp_types.h: GFP flags with 6.1's values (written for kmsim). */
#ifndef _KMSIM_LINUX_GFP_TYPES_H
#define _KMSIM_LINUX_GFP_TYPES_H

#include <linux/types.h>

#define __GFP_DMA	((gfp_t)0x1u)
#define __GFP_HIGHMEM	((gfp_t)0x2u)
#define __GFP_DMA32	((gfp_t)0x4u)
#define __GFP_MOVABLE	((gfp_t)0x8u)
#define __GFP_RECLAIMABLE	((gfp_t)0x10u)
#define __GFP_HIGH	((gfp_t)0x20u)
#define __GFP_IO	((gfp_t)0x40u)
#define __GFP_FS	((gfp_t)0x80u)
#define __GFP_ZERO	((gfp_t)0x100u)
#define __GFP_ATOMIC	((gfp_t)0x200u)
#define __GFP_DIRECT_RECLAIM	((gfp_t)0x400u)
#define __GFP_KSWAPD_RECLAIM	((gfp_t)0x800u)
#define __GFP_RECLAIM	((gfp_t)0xc00u)
#define __GFP_WRITE	((gfp_t)0x1000u)
#define __GFP_NOWARN	((gfp_t)0x2000u)
#define __GFP_RETRY_MAYFAIL	((gfp_t)0x4000u)
#define __GFP_NOFAIL	((gfp_t)0x8000u)
#define __GFP_NORETRY	((gfp_t)0x10000u)
#define __GFP_MEMALLOC	((gfp_t)0x20000u)
#define __GFP_COMP	((gfp_t)0x40000u)
#define __GFP_NOMEMALLOC	((gfp_t)0x80000u)
#define __GFP_HARDWALL	((gfp_t)0x100000u)
#define __GFP_THISNODE	((gfp_t)0x200000u)
#define __GFP_ACCOUNT	((gfp_t)0x400000u)
#define __GFP_ZEROTAGS	((gfp_t)0x800000u)
#define GFP_DMA	((gfp_t)0x1u)
#define GFP_DMA32	((gfp_t)0x4u)
#define GFP_ZONEMASK	((gfp_t)0xfu)
#define GFP_ZONEMASK	((gfp_t)0xfu)
#define GFP_NOWAIT	((gfp_t)0x800u)
#define GFP_ATOMIC	((gfp_t)0xa20u)
#define GFP_NOIO	((gfp_t)0xc00u)
#define GFP_NOFS	((gfp_t)0xc40u)
#define GFP_KERNEL	((gfp_t)0xcc0u)
#define GFP_USER	((gfp_t)0x100cc0u)
#define GFP_HIGHUSER	((gfp_t)0x100cc2u)
#define GFP_HIGHUSER_MOVABLE	((gfp_t)0x100ccau)
#define GFP_TRANSHUGE_LIGHT	((gfp_t)0x1c20cau)
#define GFP_TRANSHUGE	((gfp_t)0x1c24cau)
#define GFP_KERNEL_ACCOUNT	((gfp_t)0x400cc0u)

#endif
