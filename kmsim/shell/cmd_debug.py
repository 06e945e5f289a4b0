"""kmemleak [scan|clear]: the suspected leaks, as /sys/kernel/debug/kmemleak shows them."""
from __future__ import annotations

import json

from .. import fs
from ..fs.debug import kmemleak_json, kmemleak_rows
from .core import UsageError, command

__all__ = ["cmd_kmemleak"]


@command("kmemleak", help="unreferenced allocations, as the kernel's kmemleak reports them",
         usage="kmemleak [scan|clear]", options=("scan", "clear"))
def cmd_kmemleak(ctx, args):
    """kmemleak: print the suspects; 'scan' scans first, 'clear' forgets the current ones."""
    kl = ctx.kernel.kmemleak
    if kl is None:
        ctx.err("kmemleak: not available")
        return 1
    if len(args) > 1:
        raise UsageError("too many arguments")
    if args and args[0] not in ("scan", "clear"):
        raise UsageError(f"unknown command '{args[0]}'")
    if args and args[0] == "clear":
        kl.clear()
        return 0
    if args:
        kl.scan()
    text = fs.read_file(ctx.kernel, "/sys/kernel/debug/kmemleak")    # ticks the seeded clock, always
    if ctx.json:
        ctx.out(json.dumps(kmemleak_json(kmemleak_rows(ctx.kernel)), indent=2))
        return 0
    ctx.out(text, end="")
    return 0
