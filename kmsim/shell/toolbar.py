"""The bottom toolbar: uptime, free memory per zone, slab, modules, taint, unread messages.

Computed once after each command (``Toolbar.update``) and shown as is while the
student types, so a keystroke never walks the kernel.
"""
from __future__ import annotations

from ..machine import PAGE_SHIFT
from ..report import taint_letters

__all__ = ["Toolbar", "toolbar_fields", "fit"]


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
        self.variants = [_fragments(f, sep) for f, sep in _shorter(fields)]
        self.fragments = self.variants[0]

    def __call__(self):
        """The longest variant that fits the terminal, so taint and unread stay whole."""
        return fit(getattr(self, "variants", [self.fragments]), _width())


def fit(variants, width: int) -> list[tuple[str, str]]:
    """The first variant no wider than width (the last one, cut, if none fits)."""
    for frags in variants:
        if sum(len(t) for _s, t in frags) <= width:
            return frags
    return variants[-1]


def _width() -> int:
    """Columns of the terminal the prompt is drawn on (its size now, after a resize)."""
    try:
        from prompt_toolkit.application import get_app_or_none
        app = get_app_or_none()
        if app is not None:
            return app.output.get_size().columns
    except Exception:       # no running application: ask the terminal
        pass
    import shutil
    return shutil.get_terminal_size((80, 24)).columns


def _total_free(value: str) -> str:
    """'DMA 15M DMA32 930M' -> '945M': the zones' free memory added up."""
    units = {"K": 1, "M": 1 << 10, "G": 1 << 20}
    try:
        kb = sum(float(v[:-1]) * units[v[-1]] for v in value.split()[1::2])
    except (KeyError, ValueError, IndexError):
        return value
    return _size(int(kb) >> (PAGE_SHIFT - 10))


def _fragments(fields, sep: str) -> list[tuple[str, str]]:
    frags: list[tuple[str, str]] = []
    for key, value, style in fields:
        frags += [("class:bottom-toolbar.key", f" {key} "),
                  (f"class:bottom-toolbar.{style}", value), ("class:bottom-toolbar", sep)]
    return frags


def _shorter(fields):
    """The fields as they are, then ever shorter: one-space gaps, the number of modules
    instead of their names, no uptime."""
    yield fields, "  "
    yield fields, " "
    def count(v: str) -> str:          # "a,b,c,+2" -> "5"
        if v == "-":
            return v
        names = v.split(",")
        return str(len(names) - 1 + int(names[-1][1:]) if names[-1].startswith("+") else len(names))
    short = [(k, count(v) if k == "mods" else v, st) for k, v, st in fields]
    yield short, " "
    short = [f for f in short if f[0] != "up"]
    yield short, " "
    # a narrow terminal: the free memory of all zones in one number, no slab, then only
    # taint and unread (what a student must not miss)
    total = [(k, _total_free(v) if k == "free" else v, st) for k, v, st in short]
    yield total, " "
    yield [f for f in total if f[0] != "slab"], " "
    yield [f for f in total if f[0] in ("taint", "unread")], " "
