/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/types.h: the kernel's integer types (written for kmsim). */
#ifndef _KMSIM_LINUX_TYPES_H
#define _KMSIM_LINUX_TYPES_H

#include <linux/compiler.h>
#include <linux/stddef.h>

typedef signed char		__s8;
typedef unsigned char		__u8;
typedef signed short		__s16;
typedef unsigned short		__u16;
typedef signed int		__s32;
typedef unsigned int		__u32;
typedef signed long long	__s64;
typedef unsigned long long	__u64;
typedef __s8	s8;
typedef __u8	u8;
typedef __s16	s16;
typedef __u16	u16;
typedef __s32	s32;
typedef __u32	u32;
typedef __s64	s64;
typedef __u64	u64;

typedef _Bool			bool;
typedef unsigned long		size_t;
typedef long			ssize_t;
typedef long			ptrdiff_t;
typedef unsigned long		uintptr_t;
typedef long long		loff_t;
typedef unsigned int		gfp_t;
typedef unsigned int		slab_flags_t;
typedef unsigned long		pgoff_t;
typedef unsigned long		phys_addr_t;
typedef unsigned long		dma_addr_t;
typedef unsigned char		u_char;
typedef unsigned short		u_short;
typedef unsigned int		u_int;
typedef unsigned long		u_long;
typedef unsigned int		uint;
typedef unsigned long		ulong;
typedef s8			int8_t;
typedef u8			uint8_t;
typedef s16			int16_t;
typedef u16			uint16_t;
typedef s32			int32_t;
typedef u32			uint32_t;
typedef s64			int64_t;
typedef u64			uint64_t;

struct list_head {
	struct list_head *next, *prev;
};

#endif
