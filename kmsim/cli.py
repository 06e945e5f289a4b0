"""The kmsim command line: boot a machine, then run -c, a SCRIPT, stdin, or the REPL."""
from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The options of SHELL.md."""
    p = argparse.ArgumentParser(prog="kmsim", description="A simulated Linux kernel for the "
                                "kernel memory-allocation lab.",
                                epilog="kmsim check [--json] MODULE.py tests a module's error paths.")
    p.add_argument("--machine", default="x86_64", choices=["x86_64", "i386", "rpi2"])
    p.add_argument("--mem", default="1G", help="RAM size: 64M, 1G, 16G (default 1G)")
    p.add_argument("--append", default="", help="kernel command line")
    p.add_argument("--seed", type=int, default=None, help="a reproducible run")
    p.add_argument("-c", dest="commands", default=None, help="run these commands, then exit")
    p.add_argument("-e", dest="errexit", action="store_true", help="stop at the first failure")
    p.add_argument("--json", action="store_true", help="tables as JSON")
    p.add_argument("script", nargs="?", default=None, help="a file of commands")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the kmsim command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "check":
        from .check import main as check_main
        return check_main(argv[1:])
    args = build_parser().parse_args(argv)
    from .kernel import Kernel
    from .shell.core import Shell

    def factory():
        return Kernel(args.machine, args.mem, args.append, args.seed)
    try:
        factory_probe = factory
        tty = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        interactive = args.commands is None and args.script is None and sys.stdin.isatty() and sys.stdout.isatty()
        shell = Shell(factory_probe, tty=tty, json=args.json)
        if tty and not interactive:          # -c or a script on a terminal: tables and colour
            from .shell.render import highlight_python, render_table
            shell.renderer = render_table
            shell.highlight_file = highlight_python
    except ValueError as e:
        print(f"kmsim: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug in kmsim itself: no traceback for the user
        import traceback
        tb = traceback.extract_tb(e.__traceback__)[-1]
        print(f"kmsim: internal error while booting: {type(e).__name__}: {e} "
              f"({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno}); please report it", file=sys.stderr)
        return 70
    shell.settings["errexit"] = args.errexit
    if interactive:
        try:
            from .shell.repl import run_repl
        except ImportError:
            run_repl = None
        if run_repl is not None:
            return run_repl(shell)
    from .shell.batch import run_batch
    if args.commands is not None:
        text = args.commands
    elif args.script is not None:
        try:
            # utf-8-sig: a script saved with a byte-order mark; bad bytes become U+FFFD
            with open(args.script, encoding="utf-8-sig", errors="replace") as f:
                text = f.read()
        except OSError as e:
            print(f"kmsim: {args.script}: {e.strerror}", file=sys.stderr)
            return 127
    else:
        text = sys.stdin.read().removeprefix("\ufeff")
    try:
        return run_batch(shell, text, args.errexit)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141
