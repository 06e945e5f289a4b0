/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/mmzone.h: MAX_ORDER and struct zone (written for kmsim). */
#ifndef _KMSIM_LINUX_MMZONE_H
#define _KMSIM_LINUX_MMZONE_H

#define MAX_ORDER 11

/* kmsim keeps a zone as its own object: its name reads as the kernel's field */
struct zone {
	const char *name;
};

#endif
