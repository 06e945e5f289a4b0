/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/delay.h: delays on the simulated clock (written for kmsim). */
#ifndef _KMSIM_LINUX_DELAY_H
#define _KMSIM_LINUX_DELAY_H

#include <linux/sched.h>

void msleep(unsigned int msecs);
void ssleep(unsigned int seconds);
void usleep_range(unsigned long min, unsigned long max);
void udelay(unsigned long usecs);
void mdelay(unsigned long msecs);

#endif
