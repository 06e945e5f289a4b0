"""The interactive shell driven in a pseudo-terminal, as a student types at it."""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(os.environ.get("KMSIM_ROOT", Path(__file__).resolve().parent.parent))
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
