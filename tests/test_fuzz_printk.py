"""Fuzzing printk's formatter (vsprintf) and the log buffer with arbitrary formats and arguments.

Every format and every argument list gives a string (the kernel prints something for
each conversion, "(einval)", "(null)" ...) and never raises; the log buffer stays intact.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsim.mm.debug_vm import check_printk
from kmsim.printk import FIELD_WIDTH_MAX, LOG_LINE_MAX, FormatContext, vsprintf


class _Odd:
    """An object with odd attributes (%p and %s of it)."""
    addr = "not an int"
    pfn = None


NASTY_FORMATS = [
    "%", "%%", "%%%", "%5", "%-", "%.", "%.*", "%*", "%*.*d", "%hhhd", "%lllld", "%zzd", "%q",
    "%n", "%p", "%pS", "%pK", "%px", "%pa", "%pap", "%pad", "%pGg", "%pGp", "%pV", "%p%p", "%s%s%s%s",
    "%99999999999999999999d", "%.99999999999999999999s", "%*d", "%-*d", "%.*s", "%0*x", "%#o",
    "%c%c%c", "%-0+ #5.3lld", "\x01", "\x015", "\x01c%s", "\x01\x01\x01", "%\x00d", "\x00",
    "%s\n\n\n", "\n", "a\nb\nc", "%ls", "%lc", "%ld" * 50, "%s" * 200, "é%sü", "\udcff%s",
]
NASTY_ARGS = [
    (), (None,), (0,), (-1,), (1 << 200,), (-(1 << 200),), (3.5,), (float("nan"),), ("str",),
    (b"\xff\x00bytes",), (bytearray(b"ba"),), (memoryview(b"mv"),), ([1, 2],), ({},), (object(),),
    (_Odd(),), (True,), (1 << 40, 5), (-(1 << 40), "abc"), ((1 << 31) - 1, 1), (-(1 << 31), 1),
    ("*", "*"), (None, None, None), (0xffff888000000000,), (0xdead,), (12, "x" * 10000),
]

ARG = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.binary(max_size=20),
                st.floats(allow_nan=True), st.booleans(), st.lists(st.integers(), max_size=2),
                st.builds(object), st.builds(_Odd))
FMT_ALPHABET = st.sampled_from(list("%sdiuxXopcnSKxalhzt*.-+ #0123456789\n") + ["\x01", "\x00", "é"])


@pytest.fixture(scope="module")
def ctx():
    """A formatter with a hash key and a memory reader that faults on everything but one range."""
    def read_cstring(addr, n):
        if 0xffff888000000000 <= addr < 0xffff888000001000:
            return b"in-memory string"
        raise ValueError("bad address")
    return FormatContext(8, b"fuzz-key", False, read_cstring=read_cstring)


def _fmt_ok(fmt, args, ctx) -> str:
    out = vsprintf(fmt, args, ctx)
    assert isinstance(out, str)
    assert len(out) <= len(fmt) * (FIELD_WIDTH_MAX + 64) + sum(len(str(a)) for a in args) + 64
    return out


@pytest.mark.parametrize("fmt", NASTY_FORMATS)
def test_nasty_formats_with_nasty_args(fmt, ctx):
    """Every hand-picked format with every hand-picked argument list."""
    for args in NASTY_ARGS:
        _fmt_ok(fmt, args, ctx)


def test_huge_star_width_is_clamped(ctx):
    """'%*d' with 2^40: a C int (0 after truncation), and a width past FIELD_WIDTH_MAX is clamped."""
    assert vsprintf("%*d|", (1 << 40, 5), ctx) == "5|"
    assert len(vsprintf("%*d", ((1 << 31) - 1, 5), ctx)) == FIELD_WIDTH_MAX
    assert vsprintf("%.*s|", (1 << 40, "abc"), ctx) == "|"
    assert vsprintf("%px|%d", (object(), 7), ctx) == "(einval)|7"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=FMT_ALPHABET, max_size=30), st.lists(ARG, max_size=6))
def test_random_formats(fmt, args):
    """Random formats built from the conversion characters, random arguments."""
    ctx = FormatContext(8, b"k", False, read_cstring=lambda a, n: b"x")
    _fmt_ok(fmt, tuple(args), ctx)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=50), st.lists(ARG, max_size=4))
def test_arbitrary_text_formats(fmt, args):
    """Any unicode text as a format."""
    _fmt_ok(fmt, tuple(args), FormatContext(4, b"k", True))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=40), st.lists(ARG, max_size=3))
def test_bytes_formats(fmt, args):
    """A bytes format (a module passing b'...') is decoded, not rejected."""
    _fmt_ok(fmt, tuple(args), FormatContext(8, b"k", False))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.text(alphabet=FMT_ALPHABET, max_size=20), st.lists(ARG, max_size=3)),
                min_size=1, max_size=8))
def test_printk_through_a_module(shell_for_printk, calls):
    """printk from module code (through ModuleLoader.call): no report, the log buffer intact."""
    k = shell_for_printk.kernel
    mod = k.modules.modules["hello"]
    from kmsim.linux.printk import pr_cont, printk

    def body():
        for fmt, args in calls:
            printk(fmt, *args)
            pr_cont(fmt, *args)
    before = k.reporter.oops_count
    res = k.modules.call(mod, body)
    assert res.event is None
    assert k.reporter.oops_count == before
    assert check_printk(k) == []
    assert all(len(r.text) <= LOG_LINE_MAX * 2 for r in k.printk.records[-20:])


@pytest.fixture(scope="module")
def shell_for_printk():
    """A small machine with hello loaded (its module context runs the printks)."""
    import os

    from conftest import ROOT, make_shell
    sh = make_shell(mem="64M")
    sh.kernel.printk.capacity = 16 * 1024     # a small ring (log_buf_len= only grows it)
    sh.kernel.printk._trim()
    r = sh.execute(f"insmod {os.path.join(ROOT, 'modules', 'hello.py')}")
    assert r.status == 0
    return sh


def bad_inputs_per_run() -> int:
    """Formats tried per run (for the README)."""
    return len(NASTY_FORMATS) * len(NASTY_ARGS) + 4 + 300 + 200 + 150 + 200
