/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/moduleparam.h: module parameters (written for kmsim). */
#ifndef _KMSIM_LINUX_MODULEPARAM_H
#define _KMSIM_LINUX_MODULEPARAM_H

#include <linux/types.h>

/* kmsim's loader reads these records: "name", "type", permissions, the variable */
struct __kmsim_param {
	const char *name;
	const char *type;
	unsigned int perm;
	void *arg;
	unsigned int *num;
	unsigned int max;
};

#define __kmsim_cat2(a, b) a##b
#define __kmsim_cat(a, b) __kmsim_cat2(a, b)

#define module_param_named(name, value, type, perm)				\
	static const struct __kmsim_param __kmsim_cat(__kmsim_param_, __COUNTER__) __used = \
	{ #name, #type, perm, &(value), (unsigned int *)0, 0 }
#define module_param(name, type, perm) module_param_named(name, name, type, perm)
#define module_param_array(name, type, nump, perm)				\
	static const struct __kmsim_param __kmsim_cat(__kmsim_param_, __COUNTER__) __used = \
	{ #name, #type, perm, (name), (nump), sizeof(name) / sizeof((name)[0]) }
#define MODULE_PARM_DESC(_parm, desc) \
	static const char __kmsim_cat(__kmsim_parmdesc_, __COUNTER__)[] __used = #_parm ":" desc

#endif
