/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/compiler.h: annotations and branch hints (written for kmsim). */
#ifndef _KMSIM_LINUX_COMPILER_H
#define _KMSIM_LINUX_COMPILER_H

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define __always_inline	inline
#define noinline	__attribute__((__noinline__))
#define __maybe_unused	__attribute__((__unused__))
#define __used		__attribute__((__used__))
#define __unused	__attribute__((__unused__))
#define __packed	__attribute__((__packed__))
#define __aligned(x)	__attribute__((__aligned__(x)))
#define __user
#define __iomem
#define __force
#define __must_check
#define __cold
#define __read_mostly
#define READ_ONCE(x)	(x)
#define WRITE_ONCE(x, val)	((x) = (val))
#define barrier()	do { } while (0)

#endif
