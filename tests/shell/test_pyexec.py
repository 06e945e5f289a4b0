"""The py command: Python with the kernel and every kmsim.linux name in scope."""
from __future__ import annotations

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
