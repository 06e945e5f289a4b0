/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/init.h: __init, __exit, module_init, module_exit (written for kmsim). */
#ifndef _KMSIM_LINUX_INIT_H
#define _KMSIM_LINUX_INIT_H

#include <linux/compiler.h>

#define __init
#define __exit
#define __initdata
#define __exitdata
#define __initconst

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

/* kmsim's loader finds these two objects by name and calls what they point to */
#define module_init(initfn) \
	static initcall_t __kmsim_module_init __used = (initfn)
#define module_exit(exitfn) \
	static exitcall_t __kmsim_module_exit __used = (exitfn)

#endif
