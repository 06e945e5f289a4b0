"""The shell's core: ``Shell.execute(line) -> Result``, commands, pipelines.

Commands register once with ``@command(name, help=..., usage=..., opts=...,
complete=...)``, so dispatch, ``help`` and Tab completion share one table; ``opts`` is
the command's GNU option spec (kmsim.shell.options.Options), which it reads its
arguments with and completion offers (``options`` overrides the offered ones).  A
command is ``fn(ctx, args) -> status``; it writes with ``ctx.out``/``ctx.err``
and renders tables with ``ctx.table``.  Kernel messages more urgent than the
console level reach ``Result.console`` as they are printed.  The filters of a
pipeline (grep, head, tail, wc, sort) are in ``filters.py``.  The interactive
REPL and the batch runner are thin layers over this.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .. import fs
from .. import kernel as _kmod
from ..kernel import set_current_kernel
from ..mm.debug_vm import debug_vm_after_command
from ..printk import format_dmesg_line
from .filters import FilterError, apply_filter
from .hostfs import HostError, virtual_path, write_host
from .inputs import Source, open_operand
from .options import OptionError, Options
from .parser import ParseError, parse

__all__ = ["Shell", "Result", "Context", "Command", "command", "COMMANDS", "UsageError", "apply_filter",
           "read_options"]


class UsageError(Exception):
    """Wrong arguments to a command: printed as 'CMD: message', status 2."""


@dataclass
class Command:
    """A shell command: its function, help text, usage line, options and completion hints."""
    name: str
    fn: Callable
    help: str = ""
    usage: str = ""
    options: tuple = ()              # what Tab offers after '-'
    complete: str | None = None      # "module_files", "loaded_modules", "paths", "caches" ...
    aliases: tuple = ()
    opts: Options | None = None      # the GNU option spec the command parses its arguments with


COMMANDS: dict[str, Command] = {}


def read_options(spec: Options, args: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """spec.parse(args), a rejected option being a usage error ('CMD: invalid option -- 'z''
    and the usage line, status 2)."""
    try:
        return spec.parse(args)
    except OptionError as e:
        raise UsageError(str(e)) from None


def command(name: str, help: str = "", usage: str = "", options=(), complete=None, aliases=(),
            opts: Options | None = None):
    """Register a shell command (options: what completion offers, by default opts' names)."""
    def deco(fn):
        offered = tuple(options) or (tuple(opts.names()) if opts is not None else ())
        cmd = Command(name, fn, help, usage or name, offered, complete, tuple(aliases), opts)
        COMMANDS[name] = cmd
        for a in aliases:
            COMMANDS[a] = cmd
        return fn
    return deco


class _Stream:
    """A str attribute of Result kept as a list of pieces, so that a line printing
    40,000 messages costs linear time; joined (once) when read."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        parts = obj._parts[self.name]
        if len(parts) != 1:
            parts[:] = ["".join(parts)]
        return parts[0]

    def __set__(self, obj, value: str) -> None:
        obj._parts[self.name] = [value]


class Result:
    """What a line printed and its exit status; chunks: (stream, text) in the order printed."""
    out = _Stream()
    err = _Stream()
    console = _Stream()

    def __init__(self, out: str = "", err: str = "", status: int = 0, console: str = "",
                 exit: bool = False, chunks: list | None = None):
        self._parts: dict[str, list[str]] = {"out": [out], "err": [err], "console": [console]}
        self.status = status
        self.exit = exit
        self.chunks: list = [] if chunks is None else chunks

    def write(self, stream: str, text: str) -> None:
        """Add text to stream ('out', 'err', 'console') and to the chunks, in O(1)."""
        self._parts[stream].append(text)
        self.chunks.append((stream, text))

    def __repr__(self) -> str:
        return (f"Result(out={self.out!r}, err={self.err!r}, status={self.status!r}, "
                f"console={self.console!r}, exit={self.exit!r})")


class Context:
    """What a running command sees: the kernel, the output streams, the mode."""

    def __init__(self, shell: Shell, result: Result):
        self.shell = shell
        self.kernel = shell.kernel
        self.tty = shell.tty
        self.json = shell.json
        self._out: list[str] = []
        self.result = result

    def out(self, text: str = "", end: str = "\n") -> None:
        """Write to standard output (what pipes see)."""
        self._out.append(text + end)

    def err(self, text: str, end: str = "\n") -> None:
        """Write to standard error (kmod's messages)."""
        self.result.write("err", text + end)

    def table(self, kind: str, raw: str, rows=None, doc=None) -> None:
        """Print a view, three renderings of one set of rows: with --json the document (doc,
        else the rows themselves), on a terminal the rich table of the rows (shell.renderer),
        otherwise raw, the kernel's text of them."""
        if self.json and (rows is not None or doc is not None):
            self.out(json.dumps(rows if doc is None else doc, indent=2))
            return
        renderer = self.shell.renderer
        if self.tty and renderer is not None and not self.shell.piping:
            text = renderer(kind, raw, rows, self)
            if text is not None:
                self.out(text, end="")
                return
        self.out(raw, end="")

    def text(self) -> str:
        """Everything written to standard output."""
        return "".join(self._out)


class Shell:
    """A shell on one kernel.

    :param kernel_factory: callable returning a freshly booted Kernel (for reboot)
    :param tty: output is a terminal (colours and tables allowed)
    :param json: tables as JSON
    """

    def __init__(self, kernel_factory: Callable, tty: bool = False, json: bool = False):
        self.kernel_factory = kernel_factory
        self.tty = tty
        self.json = json
        # what a terminal adds (set by the REPL, or cli for -c on a terminal); None elsewhere
        self.renderer: Callable | None = None          # render.render_table: views as tables
        self.highlight_file: Callable | None = None    # render.highlight_python: cat FILE.py
        self.follow_dmesg: Callable | None = None      # live.follow_dmesg: dmesg -w
        self.live_slabtop: Callable | None = None      # live.run_slabtop: slabtop without -o
        self.on_setting: Callable | None = None        # the REPL's reaction to set -o vi|emacs
        self.py_namespace: dict | None = None          # py's names, kept between lines
        self.piping = False
        self.settings = {"follow": True, "editing": "emacs"}
        self.history_seq = 0
        self.on_reboot: list[Callable] = []
        self._console: list[str] = []
        self.boot()

    def boot(self) -> None:
        """Boot (or reboot) the machine and attach the console."""
        self.kernel = self.kernel_factory()
        self.kernel.printk.console = self._console_write
        for fn in self.on_reboot:
            fn(self)

    def _console_write(self, rec) -> None:
        line = format_dmesg_line(rec) + "\n"
        self._console.append(line)
        if self._active is not None:
            self._active.write("console", line)

    _active: Result | None = None

    def execute(self, line: str) -> Result:
        """Run a line (one or more commands); the status is that of the last failure."""
        result = Result()
        self._active = result
        try:
            try:
                pipelines = parse(line)
            except ParseError as e:
                result.write("err", f"kmsim: {e}\n")
                result.status = 2
                return result
            for pl in pipelines:
                status = self.run_pipeline(pl, result)
                if "debug_vm" in self.kernel.params:      # --append debug_vm
                    debug_vm_after_command(self.kernel)
                if status:
                    result.status = status
                if result.exit:
                    break
                if status and self.settings.get("errexit"):
                    break
        finally:
            self._active = None
            _kmod.set_current_kernel(self.kernel)
        return result

    def run_pipeline(self, pl, result: Result) -> int:
        """Run one pipeline: the first stage is a command, the rest filters."""
        set_current_kernel(self.kernel)
        self.kernel.tick(1_000_000)
        first, filters = pl.stages[0], pl.stages[1:]
        ctx = Context(self, result)
        self.piping = bool(filters) or first.redirect is not None
        loader = self.kernel.modules
        loader.output = lambda stream, text: (ctx.out if stream == "out" else ctx.err)(text, end="")
        try:
            status = self.dispatch(ctx, first.words)
        finally:
            self.piping = False
            loader.output = None
        text = ctx.text()
        for st in filters:
            try:
                text, fstatus = apply_filter(st.words, text, ctx.err, self.open_operand)
            except FilterError as e:
                ctx.err(str(e))
                return e.status
            except KeyboardInterrupt:         # a pattern that backtracks for ever
                ctx.err("^C")
                return 130
            if fstatus and not status:
                status = fstatus
        if first.redirect is not None:
            return self.redirect(ctx, first, text, status)
        if text:
            result.write("out", text)
        return status

    def open_operand(self, path: str) -> Source:
        """A filter's FILE operand: a virtual file, or a host file (shell/inputs.py)."""
        return open_operand(self.kernel, path)

    def redirect(self, ctx: Context, stage, text: str, status: int) -> int:
        """CMD > PATH, CMD >> PATH: a virtual file in /proc and /sys (however the path gets
        there), a host file anywhere else (shell/hostfs.py)."""
        target = stage.redirect
        vpath = virtual_path(target)
        if vpath is not None:
            try:
                fs.write_file(self.kernel, vpath, text)
            except fs.FsError as e:    # as bash: open errors name the file, the others the command
                if e.errno in (2, 13, 20, 21):
                    ctx.err(f"kmsim: {target}: {e}")
                else:
                    ctx.err(f"kmsim: {(stage.words or ['echo'])[0]}: write error: {e}")
                return 1
            return status
        try:
            write_host(target, text, stage.append)
        except HostError as e:
            ctx.err(f"kmsim: {target}: {e}")
            return 1
        return status

    def dispatch(self, ctx: Context, words: list[str]) -> int:
        """Find and run a command; unknown names give status 127."""
        if not words:
            return 0
        cmd = COMMANDS.get(words[0])
        if cmd is None:
            ctx.err(f"kmsim: {words[0]}: command not found")
            return 127
        try:
            return int(cmd.fn(ctx, words[1:]) or 0)
        except UsageError as e:
            ctx.err(f"{words[0]}: {e}")
            if cmd.usage:
                ctx.err(f"Usage: {cmd.usage}")
            return 2
        except KeyboardInterrupt:
            ctx.err("^C")
            return 130
        except BaseException as e:  # a bug in kmsim itself (or a module's GeneratorExit): keep the shell
            if isinstance(e, SystemExit):
                raise
            import traceback
            self.kernel.printk.emit(3, f"kmsim: internal error in '{words[0]}': "
                                       f"{type(e).__name__}: {e}")
            tb = traceback.extract_tb(e.__traceback__)[-1]
            ctx.err(f"kmsim: {words[0]}: internal error: {type(e).__name__}: {e} "
                    f"({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno}); the machine is unchanged "
                    f"past this point, please report it")
            return 1

    def unread_messages(self) -> int:
        """Kernel messages printed since the last dmesg (for the toolbar)."""
        return self.kernel.printk.unread()
