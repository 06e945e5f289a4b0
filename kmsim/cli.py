"""The kmsim command line: boot a machine, then run -c, a SCRIPT, stdin, or the REPL."""
from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import os
import sys
from pathlib import Path

from .check import main as check_main
from .kernel import Kernel
from .machine import parse_size
from .shell.batch import run_batch
from .shell.core import Shell
from .shell.examples import copy_examples
from .shell.render import highlight_python, render_table

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The options of SHELL.md."""
    p = argparse.ArgumentParser(prog="kmsim", description="A simulated Linux kernel for the "
                                "kernel memory-allocation lab.",
                                epilog="kmsim check [--json] [-j N] PATH... grades modules' error "
                                "paths, in parallel and sandboxed (docs/grading.md).")
    p.add_argument("--machine", default="x86_64", choices=["x86_64", "i386", "rpi2"])
    p.add_argument("--mem", default="1G", type=_mem_size, help="RAM size: 64M, 1G, 16G (default 1G)")
    p.add_argument("--append", default="", help="kernel command line")
    p.add_argument("--seed", type=int, default=None, help="a reproducible run")
    p.add_argument("-c", dest="commands", default=None, help="run these commands, then exit")
    p.add_argument("-e", dest="errexit", action="store_true", help="stop at the first failure")
    p.add_argument("--json", action="store_true", help="tables as JSON")
    p.add_argument("--examples", metavar="DIR", default=None,
                   help="copy the lab's modules into DIR (kept if already there), then exit")
    p.add_argument("script", nargs="?", default=None, help="a file of commands")
    return p


def _mem_size(text: str) -> str:
    """--mem's type: a size the kernel's memparse reads (its range depends on --machine,
    so the kernel checks that at boot)."""
    try:
        parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size: '{text}' (use a size such as 64M, "
                                         f"1G or 16G)") from None
    return text


def main(argv: list[str] | None = None) -> int:
    """Entry point of the kmsim command: no traceback, even when the reader of a pipe leaves."""
    _safe_output()
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except KeyboardInterrupt:
        return 130


def _escape_errors(exc):
    """Encoding error handler: a byte smuggled in as a surrogate (a non-UTF-8 argument)
    goes out as that byte, anything else the encoding lacks as a backslash escape."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    if all(0xDC80 <= ord(c) <= 0xDCFF for c in bad):
        return bytes(ord(c) - 0xDC00 for c in bad), exc.end
    return codecs.backslashreplace_errors(exc)


def _safe_output() -> None:
    """Text that the output encoding cannot carry (PYTHONIOENCODING=ascii, a stray byte)
    is escaped instead of raising UnicodeEncodeError."""
    codecs.register_error("kmsim-escape", _escape_errors)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(errors="kmsim-escape")


def _quiet_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the flush at exit does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv: list[str]) -> int:
    if argv and argv[0] == "check":
        return check_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.commands is not None and args.script is not None:
        parser.error(f"-c and SCRIPT ('{args.script}') cannot be used together")
    if args.examples is not None:
        return _copy_examples(args.examples)
    shell = _make_shell(args)
    if shell is None:
        return 70
    shell.settings["errexit"] = args.errexit
    if _interactive(args):
        from .shell.repl import run_repl  # lazy: prompt_toolkit costs ~0.4 s; batch runs skip it
        return run_repl(shell)
    return _run_batch(shell, args)


def _copy_examples(dest: str) -> int:
    """kmsim --examples DIR: the lab's modules, copied out for a student to edit."""
    try:
        copied, kept = copy_examples(dest)
    except (OSError, LookupError) as e:
        print(f"kmsim: --examples {dest}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 1
    print(f"copied {len(copied)} lab modules to {dest}/")
    if kept:
        print(f"kmsim: {len(kept)} files already in {dest}/ were kept, not overwritten "
              f"({', '.join(Path(p).name for p in kept[:3])}{', ...' if len(kept) > 3 else ''})",
              file=sys.stderr)
    return 0


def _interactive(args) -> bool:
    return (args.commands is None and args.script is None and sys.stdin.isatty()
            and sys.stdout.isatty())


def _make_shell(args):
    """Boot the machine (None if kmsim itself failed); a --mem out of the machine's range
    is a usage error, status 2."""

    def factory():
        return Kernel(args.machine, args.mem, args.append, args.seed)
    tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    try:
        shell = Shell(factory, tty=tty, json=args.json)
    except ValueError as e:     # --mem out of the machine's range: status 2, as a usage error
        print(f"kmsim: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as e:  # a bug in kmsim itself: no traceback for the user
        import traceback
        tb = traceback.extract_tb(e.__traceback__)[-1]
        print(f"kmsim: internal error while booting: {type(e).__name__}: {e} "
              f"({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno}); please report it", file=sys.stderr)
        return None
    if tty and not _interactive(args):      # -c or a script on a terminal: tables and colour
        shell.renderer = render_table
        shell.highlight_file = highlight_python
    return shell


def _read_script(path: str) -> tuple[str | None, int]:
    """The text of SCRIPT, or (None, status): 127 when it does not exist, 126 when it
    cannot be read (a directory, no permission), as sh reports them."""
    try:
        # utf-8-sig: a script saved with a byte-order mark; bad bytes become U+FFFD
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            return f.read(), 0
    except OSError as e:
        print(f"kmsim: {path}: {e.strerror}", file=sys.stderr)
        return None, 127 if isinstance(e, FileNotFoundError) else 126


def _read_stdin() -> str:
    """Standard input as text, read as a script is (a byte-order mark dropped, bad bytes
    replaced), whatever the locale or PYTHONIOENCODING say."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        return sys.stdin.read().removeprefix("\ufeff")
    return stream.read().decode("utf-8-sig", errors="replace")


def _run_batch(shell, args) -> int:
    source: str | None = "-c"
    if args.commands is not None:
        text = args.commands
    elif args.script is not None:
        text, status = _read_script(args.script)
        if text is None:
            return status
        source = args.script
    else:
        text = _read_stdin()
        source = None
    return run_batch(shell, text, args.errexit, source)
