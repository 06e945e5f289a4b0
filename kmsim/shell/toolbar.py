"""The bottom toolbar: uptime, free memory per zone, slab, modules, taint, unread messages.

Computed once after each command (``Toolbar.update``) and shown as is while the
student types, so a keystroke never walks the kernel.
"""
from __future__ import annotations

from ..machine import PAGE_SHIFT
from ..report import taint_letters

__all__ = ["Toolbar", "toolbar_fields"]


def _size(pages: int) -> str:
    kb = pages << (PAGE_SHIFT - 10)
    if kb >= 10 << 20:
        return f"{kb / (1 << 20):.1f}G"
    if kb >= 10 << 10:
        return f"{kb >> 10}M"
    return f"{kb}K"


def toolbar_fields(shell) -> list[tuple[str, str, str]]:
    """(key, value, style) triples describing the machine now."""
    k = shell.kernel
    up = k.uptime_ns() / 1e9
    fields = [("up", f"{up:.1f}s", "value")]
    free = " ".join(f"{z.name} {_size(z.free_pages_total())}" for z in k.buddy.zones)
    fields.append(("free", free, "value"))
    fields.append(("slab", _size(k.slab_pages()), "value"))
    mods = list(k.modules.modules)
    shown = ",".join(mods[:3]) + (f",+{len(mods) - 3}" if len(mods) > 3 else "")
    fields.append(("mods", shown or "-", "value"))
    taint = taint_letters(k.taint)
    fields.append(("taint", taint or "-", "taint" if taint else "value"))
    unread = shell.unread_messages()
    fields.append(("unread", str(unread), "unread" if unread else "value"))
    return fields


class Toolbar:
    """The toolbar's formatted text, refreshed by ``update``."""

    def __init__(self, shell):
        self.shell = shell
        self.fragments: list[tuple[str, str]] = []
        self.update()

    def update(self) -> None:
        """Recompute the fields from the kernel (after each command)."""
        try:
            fields = toolbar_fields(self.shell)
        except Exception:       # a half-booted subsystem must not break the prompt
            fields = []
        frags: list[tuple[str, str]] = []
        for key, value, style in fields:
            frags += [("class:bottom-toolbar.key", f" {key} "),
                      (f"class:bottom-toolbar.{style}", value), ("class:bottom-toolbar", "  ")]
        self.fragments = frags

    def __call__(self):
        return self.fragments
