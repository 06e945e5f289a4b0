"""linux/sched.h, linux/delay.h, linux/jiffies.h: scheduling points and delays.

``cond_resched()``, ``schedule()``, ``msleep()``, ``ssleep()`` and ``usleep_range()`` are
scheduling points (so is every blocking allocation, such as GFP_KERNEL): a loop that
passes one is never a soft lockup.  ``udelay()``/``mdelay()`` busy-wait and are not.
The sleeps move the simulated clock (``jiffies``, dmesg's timestamps) on at once.
"""
from .. import sched as _s
from ..kernel import current_kernel

__all__ = ["cond_resched", "schedule", "msleep", "ssleep", "usleep_range", "udelay", "mdelay",
           "jiffies", "HZ", "msecs_to_jiffies"]

HZ = _s.HZ
cond_resched = _s.cond_resched
schedule = _s.schedule
msecs_to_jiffies = _s.msecs_to_jiffies


def msleep(msecs) -> None:
    """void msleep(unsigned int msecs)."""
    _s.msleep(current_kernel(), msecs)


def ssleep(seconds) -> None:
    """void ssleep(unsigned int seconds)."""
    _s.ssleep(current_kernel(), seconds)


def usleep_range(min, max) -> None:    # the kernel's parameter names
    """void usleep_range(unsigned long min, unsigned long max)."""
    _s.usleep_range(current_kernel(), min, max)


def udelay(usecs) -> None:
    """void udelay(unsigned long usecs): busy-waits."""
    _s.udelay(current_kernel(), usecs)


def mdelay(msecs) -> None:
    """void mdelay(unsigned long msecs): busy-waits."""
    _s.mdelay(current_kernel(), msecs)


jiffies = _s.Jiffies(lambda: _s.jiffies_now(current_kernel()))
