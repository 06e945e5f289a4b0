"""printk: vsprintf conversions, %p hashing, levels, pr_cont, the ring buffer, dmesg formats."""
from __future__ import annotations

import pytest

from kmsim.printk import (
    KERN_CONT,
    KERN_NOTICE,
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
