"""The REPL's pieces without a terminal: prompt, follow messages, toolbar, settings."""
from __future__ import annotations

import io
import re

from conftest import make_shell

from kmsim.shell.repl import Repl, history_path, prompt_fragments
from kmsim.shell.toolbar import Toolbar, fit, toolbar_fields

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _repl(shell):
    out, err = io.StringIO(), io.StringIO()
    return Repl(shell, out, err), out, err


def test_prompt_shows_machine_then_taint(shell):
    assert "".join(t for _s, t in prompt_fragments(shell)) == "kmsim:x86_64# "
    shell.execute("insmod modules/hello.py")
    assert "".join(t for _s, t in prompt_fragments(shell)) == "kmsim:x86_64[OE]# "


def test_messages_of_a_command_follow_it_dimmed(shell):
    repl, out, _err = _repl(shell)
    repl.run_line("insmod modules/hello.py who=lab")
    text = out.getvalue()
    assert "\x1b[2m" in text
    lines = ANSI.sub("", text).splitlines()
    assert re.fullmatch(r"\[\s*\d+\.\d{6}\] Hello, lab!", lines[-1])
    assert shell.unread_messages() == 0
    shell.settings["follow"] = False
    out.truncate(0)
    out.seek(0)
    repl.run_line("rmmod hello")
    assert "Goodbye" not in out.getvalue()
    assert shell.unread_messages() == 1


def test_dmesg_output_is_coloured_by_level(shell):
    repl, out, _err = _repl(shell)
    repl.run_line("dmesg | head -1")
    first = out.getvalue().splitlines()[0]
    assert first.startswith("\x1b[32m[")               # util-linux: the time in green
    assert ANSI.sub("", first) == shell.execute("dmesg | head -1").out.rstrip("\n")


def test_toolbar_fields(shell):
    shell.execute("insmod modules/hello.py")
    f = {k: v for k, v, _s in toolbar_fields(shell)}
    z = shell.kernel.buddy.zone_by_name["DMA"]
    assert f["free"].startswith(f"DMA {z.free_pages_total() * 4 // 1024}M DMA32 ")
    assert f["mods"] == "hello" and f["taint"] == "OE"
    assert int(f["unread"]) == shell.unread_messages()


def test_history_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_path() == tmp_path / "kmsim" / "history"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == tmp_path / ".local" / "share" / "kmsim" / "history"


def test_set_o_vi_switches_the_editing_mode(shell):
    from prompt_toolkit.enums import EditingMode
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    repl, _out, _err = _repl(shell)
    with create_pipe_input() as inp:
        from prompt_toolkit import PromptSession
        repl.session = PromptSession(input=inp, output=DummyOutput())
        repl.run_line("set -o vi")
        assert repl.session.editing_mode == EditingMode.VI
        repl.run_line("set -o emacs")
        assert repl.session.editing_mode == EditingMode.EMACS


def test_toolbar_fits_80_columns_without_cutting_unread(monkeypatch):
    """At 80 columns the full toolbar was cut after 'unread 1' of 'unread 14'."""
    import os
    import shutil

    from kmsim.shell.toolbar import Toolbar
    sh = make_shell()
    sh.execute("insmod modules/hello.py; insmod modules/slab_cache.py; insmod modules/zone_allocator.py;"
               " insmod modules/highmem.py; insmod modules/kmalloc_vmalloc.py")
    unread = str(sh.unread_messages())
    for cols in (200, 80, 66):
        monkeypatch.setattr(shutil, "get_terminal_size", lambda *a, c=cols: os.terminal_size((c, 24)))
        text = "".join(t for _s, t in Toolbar(sh)())
        assert len(text) <= cols, (cols, text)
        assert text.rstrip().endswith(f"unread {unread}") and " taint OE " in text
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((80, 24)))
    assert " mods 5 " in "".join(t for _s, t in Toolbar(sh)())


def test_narrow_toolbar_keeps_taint_and_unread_whole(shell):
    shell.execute("insmod modules/hello.py")
    tb = Toolbar(shell)
    for width in (60, 45, 30, 22):
        text = "".join(t for _s, t in fit(tb.variants, width))
        assert len(text) <= width and "taint OE" in text and "unread" in text
    assert "free 922M" in "".join(t for _s, t in fit(tb.variants, 45))
