"""printk: vsprintf conversions, %p hashing, levels, pr_cont, the ring buffer, dmesg formats."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsim.mm.debug_vm import check_printk
from kmsim.printk import (
    FIELD_WIDTH_MAX,
    KERN_CONT,
    KERN_NOTICE,
    LOG_LINE_MAX,
    FormatContext,
    LogBuffer,
    Record,
    format_dmesg_line,
    parse_level,
    vsprintf,
)

CTX = FormatContext(8, b"key")


@pytest.mark.parametrize("fmt,args,out", [
    ("%d", (-5,), "-5"), ("%u", (-1,), "4294967295"), ("%lu", (-1,), "18446744073709551615"),
    ("%ld", (-12,), "-12"), ("%x", (255,), "ff"), ("%X", (255,), "FF"), ("%#x", (255,), "0xff"),
    ("%08x", (0xbeef,), "0000beef"), ("%-5d|", (3,), "3    |"), ("%5s|", ("ab",), "   ab|"),
    ("%.2s", ("abcdef",), "ab"), ("%c", (65,), "A"), ("%%", (), "%"), ("%hhu", (257,), "1"),
    ("%hd", (65535,), "-1"), ("%lld", (1 << 40,), str(1 << 40)), ("%zu", (7,), "7"),
    ("%o", (8,), "10"), ("%+d", (5,), "+5"), ("%*d", (4, 7), "   7"), ("%s", (b"Test\0xx",), "Test"),
    ("%s", (None,), "(null)"), ("%d", ("x",), "(einval)"), ("%i", (42,), "42"),
])
def test_conversions(fmt, args, out):
    assert vsprintf(fmt, args, CTX) == out


def test_percent_p_is_hashed_16_digits_first_8_zero():
    text = vsprintf("%p", (0xffff888001064000,), CTX)
    assert len(text) == 16 and text.startswith("00000000") and text != "ffff888001064000"
    assert vsprintf("%p", (0xffff888001064000,), CTX) == text          # stable per boot key
    assert vsprintf("%p", (0xffff888001064000,), FormatContext(8, b"other")) != text


def test_percent_px_prints_raw_address_and_p_null():
    assert vsprintf("%px", (0xffff888001064000,), CTX) == "ffff888001064000"
    assert vsprintf("%p", (0,), CTX) == "0000000000000000"          # NULL is not hashed
    assert vsprintf("%p", ((1 << 64) - 12,), CTX) == "fffffffffffffff4"   # nor ERR_PTR(-ENOMEM)
    assert vsprintf("%px", (0,), CTX) == "0000000000000000"


def test_percent_p_on_32_bit_is_8_digits():
    assert len(vsprintf("%p", (0xc1000000,), FormatContext(4, b"k"))) == 8


def test_no_hash_pointers_prints_raw():
    assert vsprintf("%p", (0x1234,), FormatContext(8, b"k", True)) == "0000000000001234"


def test_gfp_flags_extension():
    assert vsprintf("%pGg", (0xdc0,), CTX) == "GFP_KERNEL|__GFP_ZERO"


def test_parse_level():
    assert parse_level(KERN_NOTICE + "x") == (5, False, "x")
    assert parse_level(KERN_CONT + "y") == (None, True, "y")


def _buf(cap=4096):
    t = iter(range(0, 10**12, 1000))
    return LogBuffer(lambda: next(t), cap, 8)


def test_pr_cont_continues_an_unterminated_line():
    b = _buf()
    b.vprintk(KERN_NOTICE + "a ")
    b.vprintk(KERN_CONT + "b\n")
    assert [r.text for r in b.records] == ["a b"]
    assert b.records[0].level == 5


def test_each_printk_without_cont_is_its_own_record():
    b = _buf()
    for i in range(3):
        b.vprintk(KERN_NOTICE + f"{i} ")
    b.vprintk(KERN_NOTICE + "\n")
    assert [r.text for r in b.records] == ["0 ", "1 ", "2 ", ""]


def test_ring_buffer_drops_oldest_records_when_full():
    b = _buf(4096)
    for i in range(1000):
        b.emit(6, f"message number {i:04d}")
    assert b.used <= 4096
    assert b.records[-1].text == "message number 0999"
    assert b.records[0].seq > 0
    seqs = [r.seq for r in b.records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_console_gets_records_more_urgent_than_console_loglevel():
    b = _buf()
    seen = []
    b.console = seen.append
    b.emit(5, "notice")
    b.emit(1, "alert")
    assert [r.text for r in seen] == ["alert"]
    b.console_loglevel = 7
    b.emit(5, "notice2")
    assert seen[-1].text == "notice2"


def test_dmesg_line_formats():
    r = Record(3, 3_311_992_123, 5, "slab: cache created")
    assert format_dmesg_line(r) == "[    3.311992] slab: cache created"
    assert format_dmesg_line(r, raw=True) == "<5>[    3.311992] slab: cache created"
    assert format_dmesg_line(r, decode=True) == "kern  :notice: [    3.311992] slab: cache created"


def test_sysctl_printk_read_write():
    b = _buf()
    assert b.sysctl_text() == "4\t4\t1\t7\n"
    b.sysctl_write("7")
    assert b.sysctl_text() == "7\t4\t1\t7\n"
    with pytest.raises(ValueError):
        b.sysctl_write("x")


def test_log_buf_len_only_grows_and_says_so():
    """log_buf_len_update: rounded up to a power of two; a smaller value is ignored."""
    from kmsim.kernel import Kernel
    k = Kernel("x86_64", "64M", "log_buf_len=600k", seed=1)
    assert k.printk.capacity == 1 << 20
    texts = [r.text for r in k.printk.records]
    assert "log_buf_len: 1048576 bytes" in texts
    assert any(t.startswith("early log buf free: ") for t in texts)
    small = Kernel("x86_64", "64M", "log_buf_len=4k", seed=1)
    assert small.printk.capacity == 128 * 1024
    assert not any(r.text.startswith("log_buf_len") for r in small.printk.records)


def test_no_hash_pointers_prints_the_notice():
    from kmsim.kernel import Kernel
    k = Kernel("x86_64", "64M", "no_hash_pointers", seed=1)
    texts = [r.text for r in k.printk.records]
    i = texts.index("**   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **")
    assert texts[i - 1] == "*" * 58 and texts[i + 2] == ("** This system shows unhashed kernel "
                                                         "memory addresses   **")


def test_a_continuation_that_fills_the_ring_pushes_the_oldest_out():
    """pr_cont lengthens the open record: the ring must still fit its capacity (the
    hypothesis test found 'bytes used' above it)."""
    lb = _buf(4096)
    for i in range(40):
        lb.vprintk(f"\x016record {i} " + "x" * 60 + "\n")
    lb.vprintk("\x016start ")
    for _ in range(10):
        lb.vprintk(KERN_CONT + "y" * 90)
    lb.vprintk(KERN_CONT + "\n")
    assert lb.used <= lb.capacity
    assert lb.records[-1].text.startswith("start yyyy")


def test_ignore_loglevel_and_a_malformed_loglevel():
    """ignore_loglevel prints everything on the console without changing the sysctl;
    loglevel=x is refused with do_early_param's message."""
    from kmsim.kernel import Kernel
    k = Kernel("x86_64", "64M", "ignore_loglevel loglevel=x", seed=1)
    assert k.printk.sysctl_text() == "4\t4\t1\t7\n"
    texts = [r.text for r in k.printk.records]
    assert "Malformed early option 'loglevel'" in texts
    assert "debug: ignoring loglevel setting." in texts
    shown = []
    k.printk.console = shown.append
    k.printk.emit(7, "a debug line")
    assert [r.text for r in shown] == ["a debug line"]


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


def _boot_stamps(k):
    return [(rec.ts_nsec / 1e9, rec.text) for rec in k.printk.records]


def test_an_unseeded_boot_spreads_its_lines_as_the_reference_does():
    """serial-main.log: 'Zone ranges:' at 0.043 s, 'Memory:' at 0.111 s, the last 'Freeing
    unused kernel image' line at 2.17 s, the first module at 2.53 s; kmsim without --seed
    stamps its boot lines at those times give or take a fifth, in order."""
    from kmsim.kernel import Kernel
    k = Kernel("x86_64", "512M", "", None)
    stamps = _boot_stamps(k)
    times = [t for t, _text in stamps]
    assert times == sorted(times) and times[0] == 0.0
    at = {text.split(":")[0].split(" (")[0]: t for t, text in reversed(stamps)}
    assert 0.03 < at["Zone ranges"] < 0.06
    assert 0.08 < at["Memory"] < 0.15
    assert 0.35 < at["Freeing SMP alternatives memory"] < 0.7
    assert 1.6 < times[-1] < 2.8 and stamps[-1][1].startswith("Freeing unused kernel image (rodata/data gap)")
    assert 1.9 < k.clock_ns() / 1e9 < 4.0            # the first command's time, as the first insmod's


def test_unseeded_boots_differ_and_a_seeded_one_keeps_its_steps():
    from kmsim.kernel import Kernel
    a, b = (_boot_stamps(Kernel("x86_64", "512M", "", None)) for _ in range(2))
    assert [t for t, _ in a] != [t for t, _ in b]
    seeded = Kernel("x86_64", "512M", "", 1).printk.records
    assert [rec.ts_nsec for rec in seeded[:4]] == [0, 3271, 6542, 9813]
    assert seeded[-1].ts_nsec < 1_000_000
