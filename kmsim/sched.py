"""Scheduling points and delays (kernel/sched/core.c, kernel/time/timer.c, linux/delay.h).

Debian's 6.1 kernel is built with PREEMPT_VOLUNTARY: kernel code gives the CPU away only
where it may sleep.  Those places are scheduling points here too: ``cond_resched()``,
``schedule()``, the sleeps (``msleep``, ``ssleep``, ``usleep_range``) and every blocking
allocation (a mask with __GFP_DIRECT_RECLAIM, such as GFP_KERNEL: ``might_sleep()``).
Each one counts in ``mm.hooks.RESCHED``; the soft-lockup watchdog fires only when that
count stays the same for its threshold.  A sleep moves the simulated clock on without
taking host time.  ``udelay``/``mdelay`` busy-wait (the host CPU spins for the delay
scaled as the watchdog scales time) and are not scheduling points, as in the kernel.
"""
from __future__ import annotations

import time

from .mm.hooks import RESCHED
from .mm.kmemleak import HZ, INITIAL_JIFFIES

__all__ = ["cond_resched", "schedule", "msleep", "ssleep", "usleep_range", "udelay", "mdelay",
           "jiffies_now", "msecs_to_jiffies", "HZ", "INITIAL_JIFFIES", "Jiffies"]

_SIM_SECONDS_PER_HOST_SECOND = 10         # as kmsim.watchdog maps host CPU time


def _duration(value, fn: str, unit: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{fn}() takes a number of {unit} (int), not {type(value).__name__}")
    return max(0, value.__index__())


def cond_resched() -> int:
    """int cond_resched(void): a scheduling point; 0 (nothing else wanted the CPU)."""
    RESCHED[0] += 1
    return 0


def schedule() -> None:
    """void schedule(void): the task is TASK_RUNNING, so it gets the CPU straight back."""
    RESCHED[0] += 1


def msecs_to_jiffies(ms: int) -> int:
    """unsigned long msecs_to_jiffies(const unsigned int m): rounded up."""
    return -(-ms * HZ // 1000)


def msleep(k, msecs) -> None:
    """void msleep(unsigned int msecs): at least msecs, in whole jiffies (+1, as 6.1)."""
    ms = _duration(msecs, "msleep", "milliseconds")
    RESCHED[0] += 1
    k.advance_clock((msecs_to_jiffies(ms) + 1) * (1_000_000_000 // HZ))


def ssleep(k, seconds) -> None:
    """void ssleep(unsigned int seconds): msleep(seconds * 1000)."""
    msleep(k, _duration(seconds, "ssleep", "seconds") * 1000)


def usleep_range(k, min_us, max_us) -> None:
    """void usleep_range(unsigned long min, unsigned long max): an hrtimer sleep of at
    least min microseconds (kmsim wakes at min)."""
    lo = _duration(min_us, "usleep_range", "microseconds")
    _duration(max_us, "usleep_range", "microseconds")
    RESCHED[0] += 1
    k.advance_clock(lo * 1000)


def udelay(k, usecs) -> None:
    """void udelay(unsigned long usecs): a busy-wait, not a scheduling point."""
    us = _duration(usecs, "udelay", "microseconds")
    end = time.process_time() + us / 1e6 / _SIM_SECONDS_PER_HOST_SECOND
    while time.process_time() < end:
        pass
    k.advance_clock(us * 1000)


def mdelay(k, msecs) -> None:
    """void mdelay(unsigned long msecs): udelay(msecs * 1000)."""
    udelay(k, _duration(msecs, "mdelay", "milliseconds") * 1000)


def jiffies_now(k) -> int:
    """The jiffies counter now: INITIAL_JIFFIES (5 minutes before it wraps) + HZ a second."""
    return (INITIAL_JIFFIES + k.clock_ns() * HZ // 1_000_000_000) & ((1 << 64) - 1)


class Jiffies:
    """``jiffies`` as a module sees it: read each time it is used (C's volatile global),
    as an int in arithmetic, comparisons and printk."""

    def __init__(self, read):
        self._read = read

    def __index__(self) -> int:
        return self._read()

    __int__ = __index__

    def __repr__(self) -> str:
        return str(self._read())

    def __format__(self, spec: str) -> str:
        return format(self._read(), spec)

    def __hash__(self) -> int:
        return hash(self._read())

    def __eq__(self, other) -> bool:
        return self._read() == other

    def __ne__(self, other) -> bool:
        return self._read() != other

    def __lt__(self, other) -> bool:
        return self._read() < other

    def __le__(self, other) -> bool:
        return self._read() <= other

    def __gt__(self, other) -> bool:
        return self._read() > other

    def __ge__(self, other) -> bool:
        return self._read() >= other

    def __add__(self, other):
        return self._read() + other

    __radd__ = __add__

    def __sub__(self, other):
        return self._read() - other

    def __rsub__(self, other):
        return other - self._read()
