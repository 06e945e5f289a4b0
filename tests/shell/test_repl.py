"""The interactive shell driven in a pseudo-terminal, as a student types at it."""
from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest
from conftest import make_shell

from kmsim.shell.repl import Repl, _safe_file_history, clean_line

ROOT = Path(os.environ.get("KMSIM_ROOT", Path(__file__).resolve().parent.parent.parent))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")


class Term:
    """kmsim in a pty; reads accumulate with escape codes removed."""

    def __init__(self, home: Path, *args: str):
        env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"), TERM="xterm")
        env.pop("NO_COLOR", None)
        self.child = pexpect.spawn(sys.executable, ["-m", "kmsim", "--seed", "1", *args],
                                   cwd=str(ROOT), env=env, dimensions=(40, 200),
                                   encoding="utf-8", timeout=15)
        self.text = ""

    def wait(self, pattern: str, timeout: float = 15) -> str:
        """Read until the (escape-free) screen text matches pattern; return the text after it."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.text)
            if m:
                rest = self.text[m.end():]
                self.text = rest
                return m.group(0)
            if time.monotonic() > end:
                raise AssertionError(f"{pattern!r} not seen; screen tail: {self.text[-800:]!r}")
            try:
                raw = self.child.read_nonblocking(4096, timeout=0.2)
            except pexpect.TIMEOUT:
                continue
            if "\x1b[6n" in raw:            # answer the cursor position request, as a terminal does
                self.child.send("\x1b[1;1R")
            self.text += ANSI.sub("", raw)

    def prompt(self) -> None:
        """Wait for the prompt."""
        self.wait(r"kmsim:x86_64(\[[A-Z]+\])?#")

    def send(self, s: str) -> None:
        self.child.send(s)

    def finish(self) -> int:
        """Ctrl-D; the exit status."""
        for _ in range(3):          # a ^D sent while the terminal is between two prompts
            self.child.sendcontrol("d")     # (cooked mode) is eaten by the tty: press again
            if self.child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=5) == 0:
                break
        else:
            self.child.expect(pexpect.EOF, timeout=5)
        self.child.close()
        return self.child.exitstatus


@pytest.fixture
def home(tmp_path):
    return tmp_path


@pytest.mark.e2e
def test_tab_completion_and_module_messages(home):
    t = Term(home)
    t.prompt()
    t.send("ins\t")
    t.wait("insmod")
    t.send("modules/hel\t")
    t.wait("hello.py")
    t.send(" \t")
    t.wait("who=")
    t.send("students\r")
    t.wait(r"\[\s*\d+\.\d+\] Hello, students!")     # shown at once, as dmesg -w would
    t.wait(r"kmsim:x86_64\[OE\]#")                   # the prompt shows the taint
    t.send("rmmod \t")
    t.wait("rmmod hello")
    t.send("\r")
    t.wait("Goodbye, students!")
    t.prompt()
    assert t.finish() == 0


@pytest.mark.e2e
def test_history_across_sessions_and_ctrl_c_at_prompt(home):
    t = Term(home)
    t.prompt()
    t.send("uname -r\r")
    t.wait("6.1.0-kmsim")
    t.prompt()
    t.send("echo half-typed")
    t.send("\x03")                   # Ctrl-C clears the line
    t.prompt()
    t.send("echo fresh\r")
    t.wait("fresh")
    t.prompt()
    assert t.finish() == 0
    hist = (home / "data" / "kmsim" / "history").read_text()
    assert "uname -r" in hist and "half-typed" not in hist
    t = Term(home)
    t.prompt()
    t.send("\x1b[A\x1b[A")           # Up, Up: the previous session's commands
    t.wait("uname -r")
    t.send("\r")
    t.wait("6.1.0-kmsim")
    t.prompt()
    t.send("\x12uname")                # Ctrl-R search
    t.wait("reverse-i-search")
    t.send("\r\r")
    t.wait("6.1.0-kmsim")
    t.prompt()
    assert t.finish() == 0


@pytest.mark.e2e
def test_ctrl_c_interrupts_a_stuck_module(home):
    import tempfile
    mod = Path(tempfile.mkdtemp(prefix="k", dir="/tmp")) / "stuck.py"     # a short path: one line
    mod.write_text("from kmsim.linux.module import *\nfrom kmsim.linux.printk import *\n\n"
                   "@module_init\ndef stuck_init():\n    pr_info('spinning\\n')\n"
                   "    while True:\n        pass\n\nMODULE_LICENSE('GPL')\n")
    t = Term(home)
    t.prompt()
    t.send(f"insmod {mod}\r")
    t.wait("stuck.py")
    time.sleep(1.0)
    t.send("\x03")
    t.wait("spinning")               # its messages, once the command is back
    t.wait(r"interrupted \(Ctrl-C\) in stuck_init \[stuck\]")
    t.prompt()
    t.send("uname -m\r")             # the machine is still usable
    t.wait("x86_64")
    t.prompt()
    assert t.finish() == 0
    import shutil
    shutil.rmtree(mod.parent)


@pytest.mark.e2e
def test_exit_command_tables_and_toolbar(home):
    t = Term(home)
    t.prompt()
    t.wait(r"free DMA \d+M DMA32 \d+M")         # the bottom toolbar
    t.wait(r"taint -")
    t.send("buddyinfo\r")
    t.wait("Free blocks per order")
    t.wait("DMA32")
    t.prompt()
    t.send("exit 3\r")
    t.child.expect(pexpect.EOF, timeout=15)
    t.child.close()
    assert t.child.exitstatus == 3


def test_ctrl_c_is_not_shown_twice_when_the_tty_echoes_it(monkeypatch):
    """With ECHOCTL the terminal prints '^C' itself: the REPL adds only the newline."""
    import io

    from kmsim.shell import repl as R
    from kmsim.shell.core import Result
    sh = make_shell()
    out, err = io.StringIO(), io.StringIO()
    r = R.Repl(sh, out, err)
    res = Result()
    res.chunks = [("err", "^C\n"), ("err", "Interrupted\n"), ("err", "rmmod: ERROR: x\n")]
    monkeypatch.setattr(R, "_tty_echoes_ctrl", lambda: True)
    r.print_result(res, "insmod x.py")
    assert err.getvalue() == "\n\nrmmod: ERROR: x\n"
    err.truncate(0)
    err.seek(0)
    monkeypatch.setattr(R, "_tty_echoes_ctrl", lambda: False)
    r.print_result(res, "insmod x.py")
    assert err.getvalue() == "^C\nInterrupted\nrmmod: ERROR: x\n"


COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|9[0-7]|38;[0-9;]+)m")


@pytest.fixture
def term(tmp_path):
    from shell.test_repl import Term
    t = Term(tmp_path)
    t.prompt()
    yield t
    t.child.close(force=True)


def test_no_color_leaves_dmesg_and_messages_uncoloured(shell, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    repl = Repl(shell, out, out)
    repl.run_line("dmesg | head -2")
    repl.run_line("insmod modules/hello.py")
    repl.run_line("x 0xffff888000000000 16")
    assert not COLOUR.search(out.getvalue())
    assert "Hello, world!" in out.getvalue()
    assert shell.highlight_file is None


def test_undecodable_bytes_are_stored_in_history_as_replacement_chars(tmp_path):
    path = tmp_path / "history"
    h = _safe_file_history(str(path))
    h.store_string("echo \udcb4\udcff ok")
    assert "+echo \ufffd\ufffd ok" in path.read_text(encoding="utf-8")
    assert clean_line("a\udc80b") == "a\ufffdb"
    path.unlink()
    path.mkdir()                                   # unwritable: the entry is lost, no error
    h.store_string("lsmod")


@pytest.mark.e2e
def test_enter_in_ctrl_r_search_runs_the_line(term):
    term.send("uname -r\r")
    term.wait("6.1.0-kmsim")
    term.prompt()
    term.send("\x12unam")
    term.wait("reverse-i-search")
    term.send("\r")                       # one Enter, as in bash
    term.wait("6.1.0-kmsim")
    term.prompt()
    assert term.finish() == 0


@pytest.mark.e2e
def test_binary_garbage_and_interrupt_leave_the_shell_usable(term):
    import os
    os.write(term.child.child_fd, b"echo \xb4\xff\xfe garbage\r")   # not UTF-8
    term.wait("garbage")
    term.prompt()
    term.send("py while True: pass\r")
    term.wait("pass")
    import time
    time.sleep(0.5)
    term.send("\x03")
    term.wait(r"(^|\n)py: interrupted")   # on its own line, not after the echoed ^C
    term.prompt()
    term.send("uname -m\r")
    term.wait("x86_64")
    assert "Traceback" not in term.text
    assert term.finish() == 0
