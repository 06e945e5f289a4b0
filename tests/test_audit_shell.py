"""Audit of issue 6: the py command with a quoted statement."""
from conftest import make_shell


def test_py_runs_a_statement_quoted_whole():
    """';' separates shell commands, so a multi-statement py line is quoted; the quotes
    are removed as sh removes them, instead of evaluating a string literal."""
    sh = make_shell()
    r = sh.execute("py 'p = kmalloc(40, GFP_KERNEL); kfree(p); print(p > 0)'")
    assert r.status == 0 and r.out == "True\n"
    assert sh.execute("py \"print('a;b')\"").out == "a;b\n"
    assert sh.execute("py 1 + 1").out == "2\n"
    assert sh.execute("py \"ab\" + \"c\"").out == "'abc'\n"


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
