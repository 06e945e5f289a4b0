"""The kernel that module code runs on: the one global of kmsim (the CPU's ``current``).

It lives below every subsystem so that the allocators' fast paths (``kmalloc``,
``__get_free_pages`` ...) can read it without importing the Kernel class: they read
``kmsim.current.running`` directly, one attribute load.  ``kmsim.kernel`` re-exports
``current_kernel`` and ``set_current_kernel``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:                      # type-only: kernel.py sits above this module
    from .kernel import Kernel

__all__ = ["current_kernel", "set_current_kernel", "running"]

running: Kernel | None = None


def current_kernel() -> Kernel:
    """The kernel that module code is running on."""
    if running is None:
        raise RuntimeError("no kernel is booted (module code must run under kmsim)")
    return running


def set_current_kernel(k: Kernel | None) -> None:
    """Make k the kernel that module code calls into."""
    global running
    running = k
