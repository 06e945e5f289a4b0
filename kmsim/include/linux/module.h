/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/module.h: module metadata and symbols (written for kmsim). */
#ifndef _KMSIM_LINUX_MODULE_H
#define _KMSIM_LINUX_MODULE_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/stddef.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/errno.h>

struct module;
extern struct module __this_module;
#define THIS_MODULE (&__this_module)

/* kmsim's loader reads each "tag=value" string as modpost reads .modinfo */
#define MODULE_INFO(tag, info) \
	static const char __kmsim_cat(__kmsim_modinfo_, __COUNTER__)[] __used = #tag "=" info
#define MODULE_LICENSE(_license)	MODULE_INFO(license, _license)
#define MODULE_AUTHOR(_author)		MODULE_INFO(author, _author)
#define MODULE_DESCRIPTION(_desc)	MODULE_INFO(description, _desc)
#define MODULE_VERSION(_version)	MODULE_INFO(version, _version)
#define MODULE_ALIAS(_alias)		MODULE_INFO(alias, _alias)

#define EXPORT_SYMBOL(sym)	\
	static void *__kmsim_cat(__kmsim_export_, __COUNTER__) __used = (void *)&(sym)
#define EXPORT_SYMBOL_GPL(sym)	EXPORT_SYMBOL(sym)

bool try_module_get(struct module *module);
void module_put(struct module *module);

#endif
