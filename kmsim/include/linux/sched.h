/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/sched.h: scheduling points (written for kmsim). */
#ifndef _KMSIM_LINUX_SCHED_H
#define _KMSIM_LINUX_SCHED_H

#include <linux/types.h>

#define HZ 250
extern unsigned long volatile jiffies;

int cond_resched(void);
void schedule(void);

#endif
