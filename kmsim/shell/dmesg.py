"""dmesg's command line and time stamps, as util-linux 2.38 dmesg parses and prints them.

``parse_dmesg_args(args)`` reads the options with the shell's getopt_long
(kmsim.shell.options: bundled short options, ``--long=value``, unambiguous
abbreviations) and raises ``DmesgError`` with util-linux's message and exit status 1
for a usage error.  ``format_record`` prints
one record with the chosen time format.
"""
from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field

from ..printk import LEVEL_NAMES, format_dmesg_line
from .options import OptionError, Options

__all__ = ["DmesgError", "DmesgOptions", "parse_dmesg_args", "parse_levels", "format_record",
           "boot_epoch", "format_ctime"]

TRY_HELP = "Try 'dmesg --help' for more information."
VERSION = "dmesg from util-linux 2.38.1"
# under --seed the machine booted when Linux 6.1 was released, in UTC
SEEDED_BOOT = calendar.timegm((2022, 12, 11, 12, 0, 0))
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

HELP = """
Usage:
 dmesg [options]

Display or control the kernel ring buffer.

Options:
 -C, --clear                 clear the kernel ring buffer
 -c, --read-clear            read and clear all messages
 -H, --human                 human readable output
 -k, --kernel                display kernel messages
 -L, --color[=<when>]        colorize messages (auto, always or never)
 -l, --level <list>          restrict output to defined levels
 -n, --console-level <level> set level of messages printed to console
 -P, --nopager               do not pipe output into a pager
 -r, --raw                   print the raw message buffer
 -T, --ctime                 show human-readable timestamp (may be inaccurate!)
 -t, --notime                don't show any timestamp with messages
     --time-format <format>  show timestamp using the given format:
                               [ctime|notime]
 -u, --userspace             display userspace messages
 -w, --follow                wait for new messages
 -x, --decode                decode facility and level to readable string

 -h, --help                  display this help
 -V, --version               display version

Supported log levels (priorities):
   emerg - system is unusable
   alert - action must be taken immediately
    crit - critical conditions
     err - error conditions
    warn - warning conditions
  notice - normal but significant condition
    info - informational
   debug - debug-level messages"""
# (name, takes an argument: True, False or None for optional, short key), in util-linux's order
LONG_OPTIONS = [
    ("buffer-size", True, "s"), ("clear", False, "C"), ("color", None, "L"),
    ("console-level", True, "n"), ("console-off", False, "D"), ("console-on", False, "E"),
    ("ctime", False, "T"), ("decode", False, "x"), ("facility", True, "f"), ("file", True, "F"),
    ("follow", False, "w"), ("follow-new", False, "W"), ("force-prefix", False, "p"),
    ("help", False, "h"), ("human", False, "H"), ("json", False, "J"), ("kernel", False, "k"),
    ("level", True, "l"), ("noescape", False, "noescape"), ("nopager", False, "P"),
    ("notime", False, "t"), ("raw", False, "r"), ("read-clear", False, "c"),
    ("reltime", False, "e"), ("show-delta", False, "d"), ("since", True, "since"),
    ("syslog", False, "S"), ("time-format", True, "time-format"), ("until", True, "until"),
    ("userspace", False, "u"), ("version", False, "V"),
]
OPTIONS = Options("CcDdEeF:f:HhJkLl:n:Pprs:STtuVWwx",
                  {name + ("=" if takes else ""): key if len(key) == 1 else None
                   for name, takes, key in LONG_OPTIONS},
                  optional=("L",))
LONG_NAME = {key: name for name, _arg, key in reversed(LONG_OPTIONS)}
EXCLUSIVE = ("CDEcnr", "Hr", "Lr", "Sw", "Tr", "dr", "er", "rx", "rt")
UNSUPPORTED = set("dDeEfFJpsSW") | {"since", "until"}
TIME_FORMATS = {"ctime": "ctime", "notime": "notime"}
UNSUPPORTED_TIME_FORMATS = ("delta", "reltime", "iso")


class DmesgError(Exception):
    """dmesg stops while reading its options: the message is everything it prints, and
    ``status`` its exit status (0 for --help and --version, which go to standard output)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@dataclass
class DmesgOptions:
    """What the command line asked for: flags are the short option letters seen."""
    flags: set = field(default_factory=set)
    levels: set | None = None
    console_level: str | None = None
    time_format: str = "time"
    facilities: set | None = None
    exclusive: dict = field(default_factory=dict)


def parse_dmesg_args(args: list[str]) -> DmesgOptions:
    """Parse dmesg's arguments; DmesgError for what util-linux rejects.  Options act in
    order, as util-linux's getopt_long loop runs them (``-h`` before a bad option helps)."""
    opts = DmesgOptions()
    try:
        found, operands = OPTIONS.parse(args)
    except OptionError as e:
        for key, value in e.before:
            _apply(opts, key, value)
        raise DmesgError(f"dmesg: {e}\n{TRY_HELP}") from None
    for key, value in found:
        _apply(opts, key, value)
    if operands:
        raise DmesgError(f"dmesg: bad usage\n{TRY_HELP}")
    return opts


def _apply(opts: DmesgOptions, key: str, value: str | None) -> None:
    """Record one option, checking util-linux's table of mutually exclusive options."""
    if key in ("h", "V"):
        raise DmesgError(HELP if key == "h" else VERSION, 0)
    for row, letters in enumerate(EXCLUSIVE):
        if len(key) == 1 and key in letters:
            seen = opts.exclusive.setdefault(row, key)
            if seen != key:
                names = " ".join(f"--{LONG_NAME[c]}" for c in letters)
                raise DmesgError(f"dmesg: mutually exclusive arguments: {names}")
    if key in UNSUPPORTED:
        spelled = f"--{key}" if len(key) > 1 else f"-{key}"
        raise DmesgError(f"dmesg: option {spelled} is not supported by kmsim")
    if key == "l":
        opts.levels = parse_levels(value or "")
    elif key == "n":
        opts.console_level = value
    elif key in ("T", "t"):
        opts.time_format = "ctime" if key == "T" else "notime"
    elif key == "time-format":
        opts.time_format = _time_format(value or "")
    elif key in ("k", "u"):
        opts.facilities = (opts.facilities or set()) | ({0} if key == "k" else set(range(1, 24)))
    opts.flags.add(key)


def _time_format(value: str) -> str:
    if value in TIME_FORMATS:
        return TIME_FORMATS[value]
    if value in UNSUPPORTED_TIME_FORMATS:
        raise DmesgError(f"dmesg: --time-format {value} is not supported by kmsim")
    raise DmesgError(f"dmesg: unknown time format: {value}")


def parse_levels(text: str) -> set[int]:
    """-l LIST: names or numbers; 'err+' adds the more urgent levels, '+err' the less urgent.
    An empty list selects no level (string_to_bitarray sets no bit): nothing is printed."""
    out = set()
    for word in text.split(",") if text else []:
        w = word.strip().lower()
        up, down = w.endswith("+"), w.startswith("+")
        w = w.strip("+")
        if w.isdigit() and int(w) < len(LEVEL_NAMES):
            lvl = int(w)
        elif w in LEVEL_NAMES:
            lvl = LEVEL_NAMES.index(w)
        elif w == "warning":
            lvl = 4
        else:
            raise DmesgError(f"dmesg: unknown level '{word}'")
        out.add(lvl)
        if up:
            out.update(range(lvl))
        if down:
            out.update(range(lvl, len(LEVEL_NAMES)))
    return out


def boot_epoch(kernel) -> tuple[int, bool]:
    """(seconds since the epoch when the machine booted, whether to print it in UTC).

    As util-linux: now minus the uptime; under --seed a fixed date, so output repeats.
    """
    if kernel.seed is not None:
        return SEEDED_BOOT, True
    return int(time.time() - kernel.uptime_ns() / 1e9), False


def format_ctime(seconds: int, utc: bool = False) -> str:
    """strftime's '%a %b %e %H:%M:%S %Y' in the C locale, as dmesg -T prints it."""
    tm = time.gmtime(seconds) if utc else time.localtime(seconds)
    return (f"{DAYS[tm.tm_wday]} {MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} "
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {tm.tm_year}")


def format_record(rec, opts: DmesgOptions, boot: tuple[int, bool] | None = None) -> str:
    """One record as dmesg prints it with these options (boot is boot_epoch's answer, for -T)."""
    line = format_dmesg_line(rec, raw="r" in opts.flags, decode="x" in opts.flags)
    if opts.time_format == "time":
        return line
    sec, usec = divmod(rec.ts_nsec // 1000, 1_000_000)
    stamp = f"[{sec:5d}.{usec:06d}] "
    if opts.time_format == "notime":
        return line.replace(stamp, "", 1)
    start, utc = boot or (0, True)
    return line.replace(stamp, f"[{format_ctime(start + sec, utc)}] ", 1)
