"""printk: the kernel log ring buffer, log levels and the vsprintf conversions.

As kernel/printk/ keeps it: records with a sequence number, a timestamp and a
level, in a buffer of ``log_buf_len`` bytes from which the oldest records are
dropped; a console that prints records more urgent than console_loglevel; and
lib/vsprintf.c's conversions, ``%p`` hashed with a per-boot key.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .mm.gfp import gfp_names  # include/linux/gfp_types.h: constants that import nothing

KERN_SOH = "\001"
KERN_EMERG = KERN_SOH + "0"
KERN_ALERT = KERN_SOH + "1"
KERN_CRIT = KERN_SOH + "2"
KERN_ERR = KERN_SOH + "3"
KERN_WARNING = KERN_SOH + "4"
KERN_NOTICE = KERN_SOH + "5"
KERN_INFO = KERN_SOH + "6"
KERN_DEBUG = KERN_SOH + "7"
KERN_DEFAULT = ""
KERN_CONT = KERN_SOH + "c"

LEVEL_NAMES = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]
FACILITY_NAMES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news"]

__all__ = ["LogBuffer", "Record", "BootClock", "BOOT_TIMES", "vsprintf", "FormatContext", "format_dmesg_line",
           "KERN_EMERG", "KERN_ALERT", "KERN_CRIT", "KERN_ERR", "KERN_WARNING",
           "KERN_NOTICE", "KERN_INFO", "KERN_DEBUG", "KERN_DEFAULT", "KERN_CONT",
           "KERN_SOH", "LEVEL_NAMES", "FACILITY_NAMES", "parse_level"]


@dataclass
class Record:
    """One log record, as printk_ringbuffer keeps it."""
    seq: int
    ts_nsec: int
    level: int
    text: str
    facility: int = 0
    caller: str = "T1"


def format_dmesg_line(rec: Record, raw: bool = False, decode: bool = False) -> str:
    """'[    3.311992] text' as dmesg prints a record; -r adds '<5>', -x 'kern  :notice: '."""
    sec, usec = divmod(rec.ts_nsec // 1000, 1_000_000)
    stamp = f"[{sec:5d}.{usec:06d}] "
    if raw:
        return f"<{rec.facility * 8 + rec.level}>{stamp}{rec.text}"
    if decode:
        fac = FACILITY_NAMES[rec.facility] if rec.facility < len(FACILITY_NAMES) else str(rec.facility)
        return f"{fac:<6}:{LEVEL_NAMES[rec.level]:<6}: {stamp}{rec.text}"
    return stamp + rec.text


def parse_level(text: str) -> tuple[int | None, bool, str]:
    """Strip KERN_* prefixes: (level or None, is KERN_CONT, rest)."""
    level, cont = None, False
    while len(text) >= 2 and text[0] == KERN_SOH:
        c = text[1]
        if "0" <= c <= "7":
            level = int(c)
        elif c == "c":
            cont = True
        elif c != "d":
            break
        text = text[2:]
    return level, cont, text


# When Linux 6.1 logged the boot lines kmsim prints (reference/out/serial-main.log, 512M
# guest under QEMU): seconds since boot, by the line's beginning.
BOOT_TIMES = [
    ("Linux version ", 0.0), ("Command line: ", 0.0), ("Zone ranges:", 0.043372),
    ("  DMA ", 0.043399), ("  DMA32 ", 0.043458), ("  Normal ", 0.043469), ("  HighMem ", 0.043475),
    ("  Device ", 0.043481), ("Movable zone start", 0.043492), ("Early memory node ranges", 0.043518),
    ("  node   0: ", 0.043539), ("Initmem setup node", 0.043848),
    ("On node 0, zone DMA: 1 pages", 0.049160), ("On node 0, zone DMA: 97 pages", 0.049451),
    ("On node 0, zone DMA32: ", 0.060776), ("On node 0, zone Normal: ", 0.060776),
    ("Fallback order", 0.084178), ("Built 1 zonelists", 0.084397), ("Kernel command line: ", 0.084544),
    ("Dentry cache hash", 0.087033), ("Inode-cache hash", 0.087519), ("mem auto-init: ", 0.088780),
    ("Memory: ", 0.111458), ("SLUB: ", 0.120385), ("Freeing SMP alternatives", 0.525500),
    ("Freeing initrd memory", 1.409854), ("Freeing unused decrypted", 2.102894),
    ("Freeing unused kernel image (initmem)", 2.168284),
    ("Freeing unused kernel image (text/rodata gap)", 2.172584),
    ("Freeing unused kernel image (rodata/data gap)", 2.173569),
]
BOOT_TO_FIRST_COMMAND = 0.357          # 'Run /init' and busybox's start, to the first module's line


class BootClock:
    """The clock of an unseeded boot's log: each line the reference kernel printed gets
    about the time it had there (the whole boot scaled by one factor of 0.9-1.1 per boot,
    each line moved a little), other lines a few microseconds after the previous one, so
    the boot spreads over two seconds as a real one does.  (A seeded boot keeps its fixed
    steps, which the tests pin.)"""

    def __init__(self, rng):
        self.rng = rng
        self.scale = rng.uniform(0.9, 1.1)
        self.now_ns = 0
        self._anchor = (0.0, 0)          # the last known line: its reference time, its stamp

    def stamp(self, text: str) -> int:
        """The timestamp of the boot line `text`, never before the previous one's."""
        step = self.rng.randrange(3_000, 40_000)
        at = next((t for prefix, t in BOOT_TIMES if text.startswith(prefix)), None)
        if at is not None and at >= self._anchor[0]:
            gap = (at - self._anchor[0]) * 1e9 * self.scale * self.rng.uniform(0.9, 1.1)
            target = self._anchor[1] + int(gap)
            self.now_ns = max(self.now_ns + (step if self.now_ns else 0), target)
            self._anchor = (at, self.now_ns)
        else:
            self.now_ns += step
        return self.now_ns

    def end_ns(self) -> int:
        """When the first command runs: the time /init takes after the last boot line."""
        return self.now_ns + int(BOOT_TO_FIRST_COMMAND * self.scale * 1e9)


class LogBuffer:
    """The printk ring buffer and console of one kernel.

    :param clock: callable returning nanoseconds since boot
    :param capacity: log_buf_len in bytes (a power of two)
    :param ptr_size: pointer size of the machine (the record header is one long)
    """

    def __init__(self, clock: Callable[[], int], capacity: int = 128 * 1024, ptr_size: int = 8):
        self.clock = clock
        self.capacity = capacity
        self.max_records = max(capacity >> 5, 16)
        self.ptr_size = ptr_size
        self.records: list[Record] = []
        self.used = 0
        self.next_seq = 0
        self.clear_seq = 0          # dmesg -C / -c: records before this are not shown
        self.read_seq = 0           # for "unread" counters and dmesg -w
        self.console_loglevel = 4
        self.hints = True           # kmsim's own 'kmsim: ' lines (off: --append kmsim.hints=0)
        self.ignore_loglevel = False          # the ignore_loglevel boot option: print everything
        self.default_message_loglevel = 4
        self.minimum_console_loglevel = 1
        self.default_console_loglevel = 7
        self.console: Callable[[Record], None] | None = None
        self.listeners: list[Callable[[Record], None]] = []
        self._cont_open = False
        self.boot_clock: BootClock | None = None      # an unseeded boot's line times, until it ends

    def _cost(self, text: str) -> int:
        n = len(text.encode("utf-8", "replace")) + self.ptr_size
        return (n + self.ptr_size - 1) & ~(self.ptr_size - 1)

    def _store(self, level: int, text: str, ts: int | None = None) -> Record:
        if ts is None:
            ts = self.boot_clock.stamp(text) if self.boot_clock is not None else self.clock()
        rec = Record(self.next_seq, ts, level, text)
        self.next_seq += 1
        self.records.append(rec)
        self.used += self._cost(text)
        self._trim()
        return rec

    def _trim(self) -> None:
        drop = 0
        while (self.used > self.capacity or len(self.records) - drop > self.max_records) \
                and drop < len(self.records) - 1:
            self.used -= self._cost(self.records[drop].text)
            drop += 1
        if drop:
            del self.records[:drop]

    def _publish(self, rec: Record) -> None:
        if self.console is not None and (rec.level < self.console_loglevel or self.ignore_loglevel):
            self.console(rec)
        for fn in self.listeners:
            fn(rec)

    def emit(self, level: int, text: str) -> None:
        """Log already-formatted text at a level, as one printk call: one trailing newline
        ends it, and the lines of a multi-line message share its timestamp (dmesg prints
        every line of a record with the record's time)."""
        self._cont_open = False
        body = text[:-1] if text.endswith("\n") else text
        if not self.hints and body.startswith(HINT_PREFIX):
            return                  # --append kmsim.hints=0: the log compares with a real kernel's
        ts = None
        for line in body.split("\n"):
            rec = self._store(level, line, ts)
            ts = rec.ts_nsec
            self._publish(rec)

    def vprintk(self, text: str) -> int:
        """Store a formatted message with its KERN_* prefix; returns its length.

        A message that does not end with a newline stays open: the next message
        with KERN_CONT is appended to the same record, as pr_cont does.
        """
        level, cont, body = parse_level(text)
        ends = body.endswith("\n")
        if ends:
            body = body[:-1]
        body = body[:LOG_LINE_MAX]          # vprintk_store truncates a message to LOG_LINE_MAX
        # a continuation extends the open record while it fits in LOG_LINE_MAX
        # (prb_reserve_in_last); past that it starts a record of its own
        if cont and self._cont_open and self.records \
                and len(self.records[-1].text) + len(body) <= LOG_LINE_MAX:
            rec = self.records[-1]
            self.used -= self._cost(rec.text)
            rec.text += body.replace("\n", " ")
            self.used += self._cost(rec.text)
            self._trim()                     # the longer record may push the oldest out
            self._cont_open = not ends
            if not self._cont_open:
                self._publish(rec)
            return len(text)
        lvl = self.default_message_loglevel if level is None else level
        lines = body.split("\n")
        for i, line in enumerate(lines):
            rec = self._store(lvl, line)
            if ends or i < len(lines) - 1:
                self._publish(rec)
        self._cont_open = not ends
        if self._cont_open and not cont:
            pass
        return len(text)

    def flush_cont(self) -> None:
        """Publish an unterminated record (when the module call returns)."""
        if self._cont_open and self.records:
            self._cont_open = False
            self._publish(self.records[-1])

    # -- reading ------------------------------------------------------------------
    def visible(self) -> list[Record]:
        """Records not cleared by dmesg -C."""
        return [r for r in self.records if r.seq >= self.clear_seq]

    def clear(self) -> None:
        """dmesg -C."""
        self.clear_seq = self.next_seq

    def unread(self) -> int:
        """Records published since the reader last looked."""
        return max(0, self.next_seq - max(self.read_seq, self.clear_seq,
                                          self.records[0].seq if self.records else 0))

    def since(self, seq: int) -> list[Record]:
        """Records with a sequence number >= seq."""
        return [r for r in self.records if r.seq >= seq]

    def sysctl_text(self) -> str:
        """/proc/sys/kernel/printk."""
        return (f"{self.console_loglevel}\t{self.default_message_loglevel}\t"
                f"{self.minimum_console_loglevel}\t{self.default_console_loglevel}\n")

    def sysctl_write(self, text: str) -> None:
        """echo 'N [N N N]' > /proc/sys/kernel/printk."""
        vals = [int(v) for v in text.split()]
        if not vals or len(vals) > 4 or any(not 0 <= v <= 15 for v in vals):
            raise ValueError("Invalid argument")
        names = ["console_loglevel", "default_message_loglevel",
                 "minimum_console_loglevel", "default_console_loglevel"]
        for name, v in zip(names, vals, strict=False):
            setattr(self, name, v)


# ------------------------------------------------------------------------------------
# vsprintf

class FormatContext:
    """What the conversions need from the machine: pointer size, hash key, memory, symbols."""

    def __init__(self, ptr_size: int = 8, hash_key: bytes = b"kmsim", no_hash_pointers: bool = False,
                 read_cstring: Callable[[int, int], bytes] | None = None,
                 symbol: Callable[[Any], str] | None = None,
                 page_addr: Callable[[Any], int] | None = None):
        self.ptr_size = ptr_size
        self.hash_key = hash_key
        self.no_hash_pointers = no_hash_pointers
        self.read_cstring = read_cstring
        self.symbol = symbol
        self.page_addr = page_addr

    def hash_pointer(self, addr: int) -> str:
        """ptr_to_id: a keyed hash, 32 bits, zero-padded to the pointer width."""
        h = hashlib.blake2b(addr.to_bytes(8, "little"), key=self.hash_key[:64], digest_size=8)
        val = int.from_bytes(h.digest(), "little") & 0xffffffff
        return f"{val:0{self.ptr_size * 2}x}"


_SPEC = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+)?)?(hh|h|ll|l|z|t|j|L)?([diouxXcspn%])")
_LEN_BITS = {"hh": 8, "h": 16, None: 32, "l": None, "ll": 64, "z": None, "t": None, "j": 64, "L": 64}


def _as_int(arg, ctx: FormatContext) -> int | None:
    if isinstance(arg, bool):
        return int(arg)
    if isinstance(arg, int):
        return arg
    addr = getattr(arg, "addr", None)
    if isinstance(addr, int):
        return addr
    if ctx.page_addr is not None and isinstance(getattr(arg, "pfn", None), int):
        return ctx.page_addr(arg)
    index = getattr(type(arg), "__index__", None)      # an int-like value (jiffies)
    return index(arg) if index is not None else None


def _pad(s: str, flags: str, width: int | None) -> str:
    if width is None or len(s) >= width:
        return s
    return s.ljust(width) if "-" in flags else s.rjust(width)


def _number(val: int, conv: str, flags: str, width, prec, length, ctx) -> str:
    bits = _LEN_BITS[length] or ctx.ptr_size * 8
    mask = (1 << bits) - 1
    val &= mask
    signed = conv in "di"
    if signed and val >> (bits - 1):
        val -= 1 << bits
    neg = val < 0
    mag = -val if neg else val
    if conv in "xX":
        digits = f"{mag:x}" if conv == "x" else f"{mag:X}"
    elif conv == "o":
        digits = f"{mag:o}"
    else:
        digits = str(mag)
    if prec is not None:
        digits = digits.rjust(prec, "0")
        if prec == 0 and mag == 0:
            digits = ""
    prefix = "-" if neg else ("+" if "+" in flags and signed else (" " if " " in flags and signed else ""))
    if "#" in flags and mag:
        prefix += {"x": "0x", "X": "0X", "o": "0"}.get(conv, "")
    if "0" in flags and "-" not in flags and width and prec is None:
        digits = digits.rjust(width - len(prefix), "0")
    return _pad(prefix + digits, flags, width)


def _string(arg, ctx: FormatContext, prec) -> str:
    if arg is None:
        return "(null)"
    if isinstance(arg, str):
        s = arg
    elif isinstance(arg, (bytes, bytearray, memoryview)):
        s = bytes(arg).split(b"\0", 1)[0].decode("latin-1")
    else:
        addr = _as_int(arg, ctx)
        if addr is None:
            return "(einval)"
        if addr == 0:
            return "(null)"
        if ctx.read_cstring is None:
            return "(efault)"
        try:
            s = ctx.read_cstring(addr, prec if prec is not None else 4096).decode("latin-1")
        except Exception:
            return "(efault)"
    return s[:prec] if prec is not None else s


def _pointer(arg, ext: str, flags, width, ctx: FormatContext) -> tuple[str, int]:
    """%p and its extensions; returns the text and how many format chars were eaten."""
    if ext[:1] == "S" or ext[:1] == "s" or ext[:1] == "B":
        eat = 1
        if ctx.symbol is not None:
            return ctx.symbol(arg), eat
        return f"{(_as_int(arg, ctx) or 0):#x}", eat
    if ext[:2] == "Gg":
        return gfp_names(_as_int(arg, ctx) or 0), 2
    addr = _as_int(arg, ctx)
    w = ctx.ptr_size * 2
    if addr is None:     # still eat the extension letters (%px of a non-pointer)
        eat = 1 if ext[:1] in ("x", "K") else (2 if ext[:2] in ("ap", "ad") else int(ext[:1] == "a"))
        return "(einval)", eat
    addr &= (1 << (ctx.ptr_size * 8)) - 1
    if ext[:1] == "x":
        return f"{addr:0{w}x}", 1
    if ext[:1] == "a":
        return f"0x{addr:0{w}x}", 2 if ext[1:2] in ("p", "d") else 1
    eat = 1 if ext[:1] == "K" else 0
    if addr == 0 or addr >= (1 << (ctx.ptr_size * 8)) - 4095:
        # ptr_to_id: NULL and error pointers are printed as they are, never hashed
        return f"{addr:0{w}x}", eat
    if ctx.no_hash_pointers:
        return f"{addr:0{w}x}", eat
    return ctx.hash_pointer(addr), eat


FIELD_WIDTH_MAX = (1 << 23) - 1      # lib/vsprintf.c
PRECISION_MAX = (1 << 15) - 1
HINT_PREFIX = "kmsim: "               # every line kmsim adds to what a real kernel logs
LOG_LINE_MAX = 1024 - 32             # kernel/printk/printk.c: CONSOLE_LOG_MAX - PREFIX_MAX


def _c_int(arg, ctx: FormatContext) -> int:
    """A '*' width or precision: the argument as a C int (32 bits), 0 if it is no number."""
    v = _as_int(arg, ctx)
    if v is None:
        return 0
    return ((v + (1 << 31)) & 0xffffffff) - (1 << 31)


def vsprintf(fmt: str, args: tuple, ctx: FormatContext) -> str:  # noqa: C901 -- one branch a conversion
    """Format as the kernel's vsprintf: the printk conversions, %p and its extensions."""
    if not isinstance(fmt, str):
        fmt = bytes(fmt).decode("latin-1") if isinstance(fmt, (bytes, bytearray)) else str(fmt)
    out = []
    pos = 0
    ai = 0
    n = len(fmt)
    while pos < n:
        i = fmt.find("%", pos)
        if i < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:i])
        m = _SPEC.match(fmt, i)
        if not m:
            out.append("%")
            pos = i + 1
            continue
        flags, width, prec, length, conv = m.groups()
        pos = m.end()
        if conv == "%":
            out.append("%")
            continue
        if width == "*":
            width = _c_int(args[ai] if ai < len(args) else 0, ctx)
            ai += 1
        elif width is not None:
            width = int(width)
        if prec == "*":
            prec = _c_int(args[ai] if ai < len(args) else 0, ctx)
            ai += 1
        elif prec is not None:
            prec = int(prec)
        elif m.group(0).find(".") >= 0:
            prec = 0
        if width is not None:       # set_field_width / set_precision clamp, as the kernel does
            width = max(-FIELD_WIDTH_MAX, min(width, FIELD_WIDTH_MAX))
        if prec is not None:
            prec = max(0, min(prec, PRECISION_MAX))
        if isinstance(width, int) and width < 0:
            flags += "-"
            width = -width
        arg = args[ai] if ai < len(args) else 0
        ai += 1
        if conv == "s":
            out.append(_pad(_string(arg, ctx, prec), flags, width))
        elif conv == "c":
            c = arg[:1] if isinstance(arg, str) else (chr(arg & 0xff) if isinstance(arg, int) else "?")
            out.append(_pad(c, flags, width))
        elif conv == "p":
            text, eat = _pointer(arg, fmt[pos:pos + 2], flags, width, ctx)
            pos += eat
            out.append(_pad(text, flags, width))
        elif conv == "n":
            out.append("")
        else:
            val = _as_int(arg, ctx)
            out.append("(einval)" if val is None else _number(val, conv, flags, width, prec, length, ctx))
    return "".join(out)
