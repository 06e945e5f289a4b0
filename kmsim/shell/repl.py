"""The interactive shell: a prompt_toolkit prompt over ``Shell.execute``.

Only used when standard input and output are terminals (kmsim/cli.py).  The
prompt shows the machine and its taint (``kmsim:x86_64[OE]# ``); history is
kept in $XDG_DATA_HOME/kmsim/history; Tab completes from the live machine; the
bottom toolbar is refreshed after each command.  After a command, the kernel
messages it logged are shown under it, dimmed, as ``dmesg -w`` in a second
terminal would show them (``set follow off`` turns that off).  Ctrl-C at the
prompt clears the line; during a command it interrupts it (module code stuck in
a loop included); Ctrl-D at an empty prompt leaves with status 0.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from pathlib import Path

from ..printk import format_dmesg_line
from ..report import taint_letters
from .keys import make_key_bindings
from .live import colour_log_lines, follow_dmesg, run_slabtop
from .render import colour_dmesg_line, colour_xxd, highlight_python, render_table
from .style import make_style
from .toolbar import Toolbar

__all__ = ["run_repl", "history_path", "prompt_fragments", "Repl", "no_color", "clean_line"]


def history_path() -> Path:
    """$XDG_DATA_HOME/kmsim/history (default ~/.local/share/kmsim/history)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kmsim" / "history"


def prompt_fragments(shell) -> list[tuple[str, str]]:
    """'kmsim:MACHINE# ', with the taint letters in brackets when the kernel is tainted."""
    k = shell.kernel
    frags = [("class:prompt.name", "kmsim"), ("", ":"), ("class:prompt.machine", k.machine.name)]
    taint = taint_letters(k.taint)
    if taint:
        frags += [("", "["), ("class:prompt.taint", taint), ("", "]")]
    return frags + [("class:prompt.sign", "# ")]


class Repl:
    """One interactive session on a shell."""

    def __init__(self, shell, out=None, err=None):
        self.shell = shell
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.session = None
        self.toolbar = None
        self.interrupted = False        # a Ctrl-C arrived during the last command
        shell.tty = True
        shell.renderer = _no_colour_renderer(render_table) if no_color() else render_table
        shell.highlight_file = None if no_color() else highlight_python
        shell.follow_dmesg = follow_dmesg
        shell.live_slabtop = run_slabtop
        shell.on_setting = self.on_setting

    # -- the prompt ----------------------------------------------------------------------
    def _session(self):
        """The PromptSession, created on first use (its imports are the slow part)."""
        if self.session is None:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.lexers import PygmentsLexer

            from .completion import KmsimCompleter  # lazy: it imports prompt_toolkit, as above
            from .lexer import KmsimLexer  # lazy: it imports pygments' lexers, as above
            self.toolbar = Toolbar(self.shell)
            self.session = PromptSession(
                history=self._history(), completer=KmsimCompleter(self.shell),
                lexer=PygmentsLexer(KmsimLexer), style=make_style(),
                bottom_toolbar=self.toolbar, key_bindings=make_key_bindings(self.shell),
                complete_while_typing=False, enable_history_search=False,
                vi_mode=self.shell.settings.get("editing") == "vi")
        return self.session

    def _history(self):
        from prompt_toolkit.history import InMemoryHistory
        path = history_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
            return _safe_file_history(str(path))
        except OSError:
            return InMemoryHistory()

    def on_setting(self, name: str, value: str) -> None:
        """set -o vi|emacs: switch the editing mode of the prompt."""
        if name == "editing" and self.session is not None:
            from prompt_toolkit.enums import EditingMode
            self.session.editing_mode = EditingMode.VI if value == "vi" else EditingMode.EMACS

    def read_line(self) -> str:
        """One line from the prompt; KeyboardInterrupt (Ctrl-C) and EOFError (Ctrl-D) pass up."""
        return self._session().prompt(lambda: prompt_fragments(self.shell))

    # -- running a line ------------------------------------------------------------------
    def run_line(self, line: str):
        """Execute a line with SIGINT raising KeyboardInterrupt, then print what it printed."""
        k = self.shell.kernel
        seq = k.printk.next_seq
        self.interrupted = False
        old = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            result = self.shell.execute(line)
        except KeyboardInterrupt:
            self.err.write("\n" if _tty_echoes_ctrl() else "^C\n")   # the tty already shows ^C
            self.err.flush()
            return None
        finally:
            signal.signal(signal.SIGINT, old)
        if self.interrupted and _tty_echoes_ctrl():
            self.out.write("\n")      # end the line the terminal's '^C' is on, as sh does
        self.print_result(result, line)
        if self.shell.kernel is k:
            self.print_follow(seq, result)
        if self.toolbar is not None:
            self.toolbar.update()
        return result

    def _on_sigint(self, signum, frame):
        """SIGINT during a command: remember it, then interrupt as Python's default does."""
        self.interrupted = True
        raise KeyboardInterrupt

    def print_result(self, result, line: str) -> None:
        """Write the chunks in the order printed: out, err, console messages."""
        for stream, text in result.chunks:
            if stream == "err":
                self.out.flush()
                if text in ("^C\n", "Interrupted\n") and _tty_echoes_ctrl():
                    # the terminal has echoed ^C already, as in sh (and run_line ended its line)
                    text = "" if self.interrupted else "\n"
                self.err.write(text)
                self.err.flush()
            elif stream == "console":
                self.out.write(self._console_text(text))
            else:
                self.out.write(self._colour_out(text, line))
        self.out.flush()

    def _console_text(self, text: str) -> str:
        """A message printed on the console during the command, coloured by its level."""
        if no_color():
            return text
        rec_level = _console_level(self.shell.kernel, text)
        return colour_dmesg_line(text.rstrip("\n"), rec_level) + "\n"

    def _colour_out(self, text: str, line: str) -> str:
        """dmesg coloured by level and x's dump by byte kind, unless NO_COLOR is set."""
        if "\x1b[" in text or no_color():
            return text
        if "dmesg" in line:
            return colour_log_lines(self.shell.kernel, text)
        if re.match(r"\s*x\s", line) is not None and "|" not in line:
            return colour_xxd(text)
        return text

    def print_follow(self, seq: int, result) -> None:
        """The kernel messages logged by the command (not those already on the console), dimmed."""
        if not self.shell.settings.get("follow", True):
            return
        pr = self.shell.kernel.printk
        shown = result.console
        recs = [r for r in pr.since(seq) if r.seq >= pr.clear_seq]
        if not recs:
            return
        for rec in recs:
            line = format_dmesg_line(rec)
            if line + "\n" in shown:
                continue
            if no_color():
                self.out.write(f"\x1b[2m{line}\x1b[0m\n")
            else:
                self.out.write(colour_dmesg_line(line, rec.level, dim=True) + "\n")
        self.out.flush()
        pr.read_seq = max(pr.read_seq, pr.next_seq)

    # -- the loop ------------------------------------------------------------------------
    def loop(self) -> int:
        """Read and run lines until exit or Ctrl-D; returns the exit status."""
        while True:
            try:
                line = self.read_line()
            except KeyboardInterrupt:
                continue            # Ctrl-C at the prompt: a fresh, empty line
            except EOFError:
                self.out.write("\n")
                return 0
            line = clean_line(line)
            if not line.strip():
                continue
            result = self.run_line(line)
            if result is not None and result.exit:
                return result.status


def no_color() -> bool:
    """True when the NO_COLOR environment variable asks for no colours (no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def _no_colour_renderer(render_table):
    """Tables under NO_COLOR (rich drops their colours itself); x's dump stays plain."""
    def render(kind, raw, data, ctx, width=None):
        return None if kind == "xxd" else render_table(kind, raw, data, ctx, width)
    return render


def clean_line(line: str) -> str:
    """The line with undecodable bytes (lone surrogates from the terminal) as U+FFFD."""
    return _SURROGATES.sub("\ufffd", line)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _safe_file_history(path: str):
    """A FileHistory that never breaks the prompt: a line that cannot be encoded (binary
    garbage pasted, lone surrogates) is stored with U+FFFD, and a full or read-only disk
    only loses the entry."""
    from prompt_toolkit.history import FileHistory

    class SafeFileHistory(FileHistory):
        def store_string(self, string: str) -> None:
            with contextlib.suppress(OSError):
                super().store_string(clean_line(string))
    return SafeFileHistory(path)


def _tty_echoes_ctrl() -> bool:
    """True when the terminal echoes Ctrl-C as '^C' itself (ECHOCTL, as after stty sane)."""
    try:
        import termios
        return bool(termios.tcgetattr(sys.stdin.fileno())[3] & termios.ECHOCTL)
    except Exception:
        return False


def _console_level(kernel, text: str) -> int:
    body = text.rstrip("\n")
    for rec in reversed(kernel.printk.records[-200:]):
        if format_dmesg_line(rec) == body:
            return rec.level
    return 3


def run_repl(shell) -> int:
    """The interactive shell on a terminal; returns the exit status."""
    repl = Repl(shell)
    try:
        return repl.loop()
    except BrokenPipeError:
        return 141
