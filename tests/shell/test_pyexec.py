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


def test_py_sends_the_user_to_dmesg_only_when_the_kernel_logged_something():
    """A fault or BUG that py's own code takes is no module's Oops and logs nothing: the
    error line must not send the user to an empty dmesg."""
    sh = make_shell()
    before = sh.execute("dmesg").out
    r = sh.execute("py kfree(12345)")
    assert (r.status, r.err) == (1, "py: PageFault: page fault at 0xffffebde000000c8\n")
    p = sh.execute("py kmalloc(64, GFP_KERNEL)").out.strip()
    assert p.startswith("0xffff")
    assert sh.execute(f"py kfree({p})").status == 0
    r = sh.execute(f"py kfree({p})")
    assert (r.status, r.err) == (1, "py: KernelBUG: mm/slub.c:419\n")
    assert sh.execute("dmesg").out == before
