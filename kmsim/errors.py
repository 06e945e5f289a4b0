"""Exceptions that stop a module function the way a fault stops kernel code.

Each one carries what its report needs.  The module loader catches them around
every call into module code (``Kernel.call_module``), prints the report and keeps
the machine running.  Nothing here is ever shown to the user as a traceback.
"""
from __future__ import annotations

__all__ = ["KernelEvent", "PageFault", "KernelBUG", "SoftLockup",
           "ModuleError"]


class KernelEvent(Exception):
    """Base of every event that stops the current module function."""


class PageFault(KernelEvent):
    """Access to an address that maps nothing: NULL, a hole, a freed area, a guard page.

    :param addr: the faulting virtual address
    :param write: True for a write access
    :param reason: "not-present page" or "protection violation"
    :param pgd_line: the "PGD ... P4D ..." walk line, when the page tables were walked
    """

    def __init__(self, addr: int, write: bool = False, reason: str = "not-present page",
                 pgd_line: str | None = None, hint: str | None = None):
        super().__init__(f"page fault at {addr:#x}")
        self.addr = addr
        self.write = write
        self.reason = reason
        self.pgd_line = pgd_line
        self.hint = hint


class KernelBUG(KernelEvent):
    """A BUG() / BUG_ON(): "kernel BUG at FILE:LINE!" followed by an Oops."""

    def __init__(self, where: str, rip: str | None = None, hint: str | None = None):
        super().__init__(where)
        self.where = where
        self.rip = rip
        self.hint = hint
        self.irqs_disabled = False       # make_task_dead's notes: the BUG hit with irqs off
        self.preempt_count = 0           # ... or inside a spinlock


class SoftLockup(KernelEvent):
    """The watchdog found the CPU stuck in module code."""

    def __init__(self, seconds: int):
        super().__init__(f"soft lockup {seconds}s")
        self.seconds = seconds


class ModuleError(Exception):
    """A module could not be loaded or unloaded; carries kmod's message and status."""

    def __init__(self, message: str, status: int = 1, errno: int = 0):
        super().__init__(message)
        self.message = message
        self.status = status
        self.errno = errno
