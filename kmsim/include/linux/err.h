/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/err.h: error pointers (written for kmsim). */
#ifndef _KMSIM_LINUX_ERR_H
#define _KMSIM_LINUX_ERR_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/errno.h>

#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

void *ERR_PTR(long error);
long PTR_ERR(const void *ptr);
bool IS_ERR(const void *ptr);
bool IS_ERR_OR_NULL(const void *ptr);
void *ERR_CAST(const void *ptr);
int PTR_ERR_OR_ZERO(const void *ptr);

#endif
