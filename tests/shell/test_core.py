"""Shell.execute's Result: output and errors gathered in linear time (issue 15)."""
from __future__ import annotations

from kmsim.shell.core import Context, Result


def test_40000_bad_names_on_one_line(shell):
    """Each name gets its error line, and the text is gathered as pieces, joined once
    when read (concatenating it, as before, took 32 s for this line)."""
    r = shell.execute("rmmod " + " ".join(f"n{i}" for i in range(40_000)))
    assert r.status == 1 and len(r.chunks) == 40_000
    assert len(r._parts["err"]) == 40_001          # "" then one piece per message, no joins
    lines = r.err.splitlines()
    assert len(lines) == 40_000 and lines[-1] == "rmmod: ERROR: Module n39999 is not currently loaded"


def test_context_err_appends_a_piece(shell):
    res = Result()
    ctx = Context(shell, res)
    for i in range(1000):
        ctx.err(f"e{i}")
    assert len(res._parts["err"]) == 1001 and res.err.count("\n") == 1000


def test_result_streams_keep_the_order_and_the_text():
    r = Result()
    for i in range(3):
        r.write("out", f"o{i}\n")
        r.write("err", f"e{i}\n")
    assert r.out == "o0\no1\no2\n" and r.err == "e0\ne1\ne2\n"
    r.out = "x"
    assert r.out == "x" and [s for s, _ in r.chunks] == ["out", "err"] * 3
    assert Result(out="a").out == "a" and Result().console == ""
