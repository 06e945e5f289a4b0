"""linux/printk.h, kern_levels.h: printk, pr_* and the KERN_* levels."""
from ..kernel import current_kernel
from ..printk import (
    KERN_ALERT,
    KERN_CONT,
    KERN_CRIT,
    KERN_DEBUG,
    KERN_DEFAULT,
    KERN_EMERG,
    KERN_ERR,
    KERN_INFO,
    KERN_NOTICE,
    KERN_SOH,
    KERN_WARNING,
    vsprintf,
)

__all__ = ["printk", "pr_emerg", "pr_alert", "pr_crit", "pr_err", "pr_warn", "pr_warning",
           "pr_notice", "pr_info", "pr_debug", "pr_cont", "pr_devel", "KERN_EMERG", "KERN_ALERT",
           "KERN_CRIT", "KERN_ERR", "KERN_WARNING", "KERN_NOTICE", "KERN_INFO", "KERN_DEBUG",
           "KERN_DEFAULT", "KERN_CONT", "KERN_SOH", "pr_fmt"]


def printk(fmt, *args) -> int:
    """printk(KERN_NOTICE "fmt", ...): format and log; returns the length printed."""
    k = current_kernel()
    return k.printk.vprintk(vsprintf(fmt, args, k.printk_ctx))


def pr_fmt(fmt: str) -> str:
    """The default pr_fmt: the format unchanged."""
    return fmt


def pr_emerg(fmt, *args) -> int:
    """printk(KERN_EMERG pr_fmt(fmt), ...)."""
    return printk(KERN_EMERG + fmt, *args)


def pr_alert(fmt, *args) -> int:
    """printk(KERN_ALERT pr_fmt(fmt), ...)."""
    return printk(KERN_ALERT + fmt, *args)


def pr_crit(fmt, *args) -> int:
    """printk(KERN_CRIT pr_fmt(fmt), ...)."""
    return printk(KERN_CRIT + fmt, *args)


def pr_err(fmt, *args) -> int:
    """printk(KERN_ERR pr_fmt(fmt), ...)."""
    return printk(KERN_ERR + fmt, *args)


def pr_warn(fmt, *args) -> int:
    """printk(KERN_WARNING pr_fmt(fmt), ...)."""
    return printk(KERN_WARNING + fmt, *args)


pr_warning = pr_warn


def pr_notice(fmt, *args) -> int:
    """printk(KERN_NOTICE pr_fmt(fmt), ...)."""
    return printk(KERN_NOTICE + fmt, *args)


def pr_info(fmt, *args) -> int:
    """printk(KERN_INFO pr_fmt(fmt), ...)."""
    return printk(KERN_INFO + fmt, *args)


def pr_debug(fmt, *args) -> int:
    """printk(KERN_DEBUG ...): without DEBUG or dynamic debug this prints nothing, as in C."""
    return 0


pr_devel = pr_debug


def pr_cont(fmt, *args) -> int:
    """printk(KERN_CONT fmt, ...): continue the previous unterminated line."""
    return printk(KERN_CONT + fmt, *args)
