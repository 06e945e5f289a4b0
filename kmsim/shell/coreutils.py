"""The coreutils filters: head, tail, wc, sort and cat, over standard input and FILE operands.

Each prints what coreutils 9.1 prints (its messages' quotes the C locale's; wc counts
characters as in a UTF-8 locale): ``==> FILE <==`` headers between
several files (head, tail), a ``total`` line (wc), the obsolete ``head -5`` and ``tail -5
FILE`` forms, the multiplier suffixes of counts (``-n 1k``), and its messages for a FILE
that cannot be read (``head: cannot open 'X' for reading: No such file or directory``,
``head: error reading 'DIR': Is a directory``), status 1 (sort: 2, and no output).  Each
reads its options with the shell's GNU parser (kmsim.shell.options).  A filter is
``fn(args, inputs, out, err) -> status``: ``inputs`` (shell/inputs.py) gives the text of
standard input and of each operand, ``out`` takes the output, ``err`` each message line.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from .filter_help import HELP, FilterHelp
from .inputs import STDIN, FileError, Inputs, Source
from .options import OptionError, Options

__all__ = ["FilterError", "head_tail", "wc", "sort", "cat", "split_lines", "quoteaf", "quotef"]

Out = Callable[[str], None]
UINTMAX_MAX = 2 ** 64 - 1


class FilterError(Exception):
    """A filter that cannot run: the message is everything it prints, ``status`` its exit status."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def split_lines(text: str) -> list[str]:
    """The lines of text as the tools see them: split at '\\n' only, newlines kept."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


_SHELL_SPECIAL = re.compile(r"[^\w@%+=:,./-]")


def quotef(name: str) -> str:
    """gnulib's quotef (shell-escape style): the name as it is when a shell would take it
    as one word, else quoted ('a b', "it's")."""
    return name if name and not _SHELL_SPECIAL.search(name) else quoteaf(name)


def quoteaf(name: str) -> str:
    """gnulib's quoteaf (shell-escape-always style): 'name', or "it's" for a name with a
    single quote and nothing a double quote would expand."""
    if "'" not in name:
        return f"'{name}'"
    if not re.search(r'["$`\\]', name):
        return f'"{name}"'
    return "'" + name.replace("'", "'\\''") + "'"


def quote(arg: str) -> str:
    """gnulib's quote() in the C locale: 'arg', its backslashes and quotes escaped."""
    return "'" + arg.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _usage(name: str, message: str) -> FilterError:
    """A coreutils usage error: the message, then the pointer to --help; status 1 (sort: 2)."""
    return FilterError(f"{name}: {message}\nTry '{name} --help' for more information.",
                       2 if name == "sort" else 1)


def _unsupported(name: str, letter: str) -> FilterError:
    """An option coreutils has and kmsim's tool not: said so, as a usage error's status."""
    return FilterError(f"{name}: option '-{letter}' is not supported by kmsim's {name}",
                       2 if name == "sort" else 1)


def _parse(name: str, spec: Options, args: list[str], act: Callable[[str, str | None], None]) -> list[str]:
    """The options of args acted on in order (those before a rejected one too, as getopt_long
    reaches them); the operands."""
    def acted(key: str, value: str | None) -> None:
        if key == "help":
            raise FilterHelp(HELP[name])
        act(key, value)
    try:
        found, operands = spec.parse(args)
    except OptionError as e:
        for key, value in e.before:
            acted(key, value)
        raise _usage(name, str(e)) from None
    for key, value in found:
        acted(key, value)
    return operands


# ------------------------------------------------------------------------------------
# counts: 5, 1k, 2MiB, 3kB (xdectoumax with "bkKmMGTPEZY0")

_POWERS = {"k": 1, "K": 1, "m": 2, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6, "Z": 7, "Y": 8}


def parse_count(spec: str) -> int | None:
    """A count as coreutils reads one (leading blanks, '+', a suffix b = 512, k = 1024,
    kB = 1000, KiB = 1024 ...); None if it is not one; OverflowError past UINTMAX_MAX."""
    m = re.fullmatch(r"[ \t\n\v\f\r]*\+?(\d*)(?:(b)|([kKmMGTPEZY])(B|iB|D)?)?", spec)
    if m is None or not m.group(1) and not (m.group(2) or m.group(3)):
        return None
    n = int(m.group(1) or 1)             # a suffix alone is one of it ('b': 512)
    if m.group(2):
        n *= 512
    elif m.group(3):
        n *= (1000 if m.group(4) in ("B", "D") else 1024) ** _POWERS[m.group(3)]
    if n > UINTMAX_MAX:
        raise OverflowError
    return n


# ------------------------------------------------------------------------------------
# head, tail

class HeadTail:
    """head's or tail's command line: the count (lines or bytes, with its sign), the header
    mode and the FILE operands."""
    LONG: dict[str, str | None] = {"lines=": "n", "bytes=": "c", "quiet": "q", "silent": "q",
                                   "verbose": "v", "zero-terminated": "z", "help": None}
    SPECS = {"head": Options("c:n:qvz0123456789", LONG),
             "tail": Options("c:n:fFqs:vz0123456789",
                             {**LONG, "follow": "f", "retry": None, "sleep-interval=": "s", "pid=": None,
                              "max-unchanged-stats=": None})}

    def __init__(self, name: str, args: list[str]):
        self.name = name
        self.lines = True
        self.count = 10
        self.sign = ""               # head '-': all but the last N; tail '+': from the Nth on
        self.headers: bool | None = None
        if name == "tail":
            files = self._tail_obsolete(args)
            if files is not None:
                self.files = files
                return
        elif args and re.fullmatch(r"-\d.*", args[0]):
            self._head_obsolete(args[0])
            args = args[1:]
        self.files = _parse(name, self.SPECS[name], args, self.option)

    def option(self, key: str, value: str | None) -> None:
        """Act on one option."""
        if key in ("n", "c"):
            self.set_count(key == "n", value or "")
        elif key in ("q", "v"):
            self.headers = key == "v"
        elif key.isdigit():
            if self.name == "head":
                raise _usage("head", f"invalid trailing option -- {key}")
            raise FilterError(f"tail: option used in invalid context -- {key}", 1)
        else:
            raise _unsupported(self.name, key) if len(key) == 1 else \
                FilterError(f"{self.name}: option '--{key}' is not supported by kmsim's {self.name}", 1)

    def set_count(self, lines: bool, spec: str) -> None:
        """-n SPEC / -c SPEC: head's '-N' elides the last N, tail's '+N' starts at the Nth
        (tail drops a '-'; the message shows what is left, as coreutils' does)."""
        self.lines = lines
        if self.name == "head":
            self.sign = "-" if spec.startswith("-") else ""
            body = spec[1:] if self.sign else spec
        else:                           # tail's from_start, once set by a '+', stays
            self.sign = "+" if spec.startswith("+") else self.sign
            body = spec[1:] if spec.startswith("-") else spec
        what = "lines" if lines else "bytes"
        try:
            n = parse_count(body)
        except OverflowError:
            raise FilterError(f"{self.name}: invalid number of {what}: {quote(body)}: "
                              "Value too large for defined data type", 1) from None
        if n is None:
            raise FilterError(f"{self.name}: invalid number of {what}: {quote(body)}", 1)
        self.count = n

    def _head_obsolete(self, a: str) -> None:
        """head -NUM[bkm][clqv], the first argument only (head.c's obsolete syntax)."""
        m = re.fullmatch(r"-(\d+)(.*)", a)
        assert m is not None
        mult = ""
        for c in m.group(2):
            if c in "cbkm":
                self.lines, mult = False, "" if c == "c" else c
            elif c == "l":
                self.lines = True
            elif c in "qv":
                self.headers = c == "v"
            elif c == "z":
                raise _unsupported("head", "z")
            else:
                raise _usage("head", f"invalid trailing option -- {c}")
        self.set_count(self.lines, m.group(1) + mult)

    def _tail_obsolete(self, args: list[str]) -> list[str] | None:
        """tail [-+]NUM[bcl][f] with at most one FILE (tail.c's parse_obsolete_option):
        the files, or None when args are not in that form."""
        if not args or not (len(args) == 1 or (len(args) == 2 and not (args[1].startswith("-")
                                                                         and len(args[1]) > 1))
                            or (len(args) in (2, 3) and args[1] == "--")):
            return None
        a = args[0]
        m = re.fullmatch(r"([+-])(\d*)([bcl]?)(f?)", a)
        if m is None or a == "-c" or (m.group(1) == "-" and not m.group(2) and not m.group(3)):
            return None
        if m.group(4):
            raise _unsupported("tail", "f")
        self.lines = m.group(3) in ("", "l")
        self.sign = "+" if m.group(1) == "+" else ""
        n = int(m.group(2)) if m.group(2) else 10
        n *= 512 if m.group(3) == "b" else 1
        if n > UINTMAX_MAX:
            raise FilterError(f"tail: invalid number: {quote(a)}: Value too large for defined data type", 1)
        self.count = n
        return args[2:] if args[1:2] == ["--"] else args[1:]


def _take(units: list, opt: HeadTail) -> list:
    """The lines (or bytes) head or tail prints of units."""
    n = opt.count
    if opt.name == "head":
        return units[:max(len(units) - n, 0)] if opt.sign == "-" else units[:n]
    if opt.sign == "+":
        return units[max(n - 1, 0):]
    return units[-n:] if n else []


def head_tail(name: str, args: list[str], inputs: Inputs, out: Out, err: Out) -> int:
    """coreutils head or tail over each FILE (standard input without one)."""
    opt = HeadTail(name, args)
    files = opt.files or [STDIN]
    headers = opt.headers if opt.headers is not None else len(files) > 1
    if name == "tail" and opt.count == 0 and opt.sign != "+":
        return 0                        # tail -n 0: coreutils reads nothing, not even a header
    status, first = 0, True
    for f in files:
        shown = "standard input" if f == STDIN else f
        src: Source | None
        try:
            src = inputs.read(f)
        except FileError as e:
            if not e.is_dir:
                err(f"{name}: cannot open {quoteaf(f)} for reading: {e}")
                status = 1
                continue
            nothing = name == "head" and opt.count == 0 and opt.sign != "-"      # head -n 0 reads nothing
            src = Source("") if nothing else None
        if headers:
            out(f"{'' if first else chr(10)}==> {shown} <==\n")
            first = False
        if src is None:
            err(f"{name}: error reading {quoteaf(f)}: Is a directory")
            if name == "tail" and not opt.lines:
                return 1                # tail -c on a directory: its lseek fails, and tail stops
            status = 1
            continue
        if opt.lines:
            out("".join(_take(split_lines(src.text), opt)))
        else:
            data = bytes(_take(list(src.text.encode("utf-8", "replace")), opt))
            out(data.decode("utf-8", "replace"))
    return status


# ------------------------------------------------------------------------------------
# sort

SORT_OPTIONS = Options("bcdfghik:Mmno:RrS:st:T:uVz", {"reverse": "r", "help": None})


def sort(args: list[str], inputs: Inputs, out: Out, err: Out) -> int:
    """sort [-r] [FILE]...: the lines of every input, sorted (byte order, as in the C
    locale); a FILE that cannot be read stops it with nothing printed, status 2."""
    reverse = False

    def act(key: str, _value: str | None) -> None:
        nonlocal reverse
        if key != "r":
            raise _unsupported("sort", key)
        reverse = True
    files = _parse("sort", SORT_OPTIONS, args, act) or [STDIN]
    read: list[str | FileError] = []
    for f in files:
        try:
            read.append(inputs.read(f).text)
        except FileError as e:
            read.append(e)
    # check_inputs: every FILE must be readable before any is read (a directory is, until read)
    failed = [(f, r) for f, r in zip(files, read, strict=True) if isinstance(r, FileError)]
    for f, bad in sorted(failed, key=lambda fe: fe[1].is_dir)[:1]:
        err(f"sort: {'read failed' if bad.is_dir else 'cannot read'}: {quotef(f)}: {bad}")
        return 2
    lines = [ln if ln.endswith("\n") else ln + "\n" for text in read if isinstance(text, str)
             for ln in split_lines(text)]
    out("".join(sorted(lines, reverse=reverse)))
    return 0


# ------------------------------------------------------------------------------------
# wc

WC_FLAGS = {"l": "lines", "w": "words", "m": "chars", "c": "bytes", "L": "max"}
WC_ORDER = ("lines", "words", "chars", "bytes", "max")
# what glibc's iswspace calls a space in a UTF-8 locale
WC_SPACE = re.compile("[ \t\n\v\f\r\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]+")
WC_OPTIONS = Options("lwmcL", {"lines": "l", "words": "w", "chars": "m", "bytes": "c",
                               "max-line-length": "L", "files0-from=": None, "help": None})


def wc_counts(text: str) -> dict[str, int]:
    """Every count wc can print of text."""
    return {
        "lines": text.count("\n"),
        "words": sum(1 for w in WC_SPACE.split(text) if any(c.isprintable() for c in w)),
        "chars": len(text),
        "bytes": len(text.encode("utf-8", "surrogatepass")),
        "max": max((display_width(ln.rstrip("\n")) for ln in split_lines(text)), default=0),
    }


def display_width(line: str) -> int:
    """wc -L's width of a line: tabs to the next multiple of 8, '\r' and '\f' back to
    the start, 2 columns for a wide character, none for a combining or control one."""
    pos = best = 0
    for ch in line:
        if ch == "\t":
            pos += 8 - pos % 8
        elif ch in "\r\f":
            best, pos = max(best, pos), 0
        elif ch.isprintable():
            pos += 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return max(best, pos)


def _wc_width(want: set[str], files: list[str | None], shapes: list[tuple[bool, int] | None]) -> int:
    """coreutils' compute_number_width: 1 for one count of one input; else the digits of
    the total size of the regular files stat(2) found, at least 7 when one of them is not
    a regular file (standard input, a directory)."""
    if len(files) == 1 and len(want) == 1:
        return 1
    ok = [s for s in shapes if s is not None]
    least = 7 if any(not regular for regular, _size in ok) else 1
    return max(len(str(sum(size for regular, size in ok if regular))), least)


def wc(args: list[str], inputs: Inputs, out: Out, err: Out) -> int:
    """coreutils wc: the counts asked for (lines, words, bytes by default) of each input,
    then a total line when there are several."""
    want: set[str] = set()

    def act(key: str, _value: str | None) -> None:
        if key not in WC_FLAGS:
            raise FilterError(f"wc: option '--{key}' is not supported by kmsim's wc", 1)
        want.add(WC_FLAGS[key])
    operands = _parse("wc", WC_OPTIONS, args, act)
    want = want or {"lines", "words", "bytes"}
    files: list[str | None] = list(operands) or [None]
    read: list[Source | FileError] = []
    for f in files:
        try:
            if f == "":
                raise FileError("invalid zero-length file name", 0)
            read.append(inputs.read(STDIN if f is None else f))
        except FileError as e:
            read.append(e)
    shapes = [(r.regular, r.size) if isinstance(r, Source) else r.stat for r in read]
    width = _wc_width(want, files, shapes)
    total = dict.fromkeys(WC_ORDER, 0)
    status = 0
    for f, r in zip(files, read, strict=True):
        if isinstance(r, FileError):
            err(f"wc: {quotef(STDIN if f is None else f)}: {r}" if f else f"wc: {r}")
            status = 1
            if not r.is_dir:
                continue
        counts = wc_counts(r.text if isinstance(r, Source) else "")
        for k, v in counts.items():
            total[k] = max(total[k], v) if k == "max" else total[k] + v
        out(_wc_line(counts, want, width, f))
    if len(files) > 1:
        out(_wc_line(total, want, width, "total"))
    return status


def _wc_line(counts: dict[str, int], want: set[str], width: int, name: str | None) -> str:
    shown = " ".join(f"{counts[k]:{width}d}" for k in WC_ORDER if k in want)
    return shown + (f" {name}" if name is not None else "") + "\n"


# ------------------------------------------------------------------------------------
# cat

CAT_OPTIONS = Options("AbeEnstTuv", {"show-all": "A", "number-nonblank": "b", "show-ends": "E",
                                     "number": "n", "squeeze-blank": "s", "show-tabs": "T",
                                     "show-nonprinting": "v", "help": None})
_CAT_SHORTHANDS = {"A": "vET", "e": "vE", "t": "vT"}


def cat(args: list[str], inputs: Inputs, out: Out, err: Out) -> int:
    """coreutils cat: each input in turn; -n/-b number lines, -s squeezes blank lines,
    -E ends them with '$', -T shows tabs as ^I, -v control characters as ^X.  A line that
    one input leaves unfinished goes on in the next, as cat sees one stream."""
    flags: set[str] = set()
    files = _parse("cat", CAT_OPTIONS, args, lambda key, _v: flags.update(_CAT_SHORTHANDS.get(key, key)))
    status, number, blank_run, at_bol = 0, 0, False, True
    for f in files or [STDIN]:
        try:
            text = inputs.read(f).text
        except FileError as e:
            err(f"cat: {quotef(f)}: {e}")
            status = 1
            continue
        if not flags - {"u"}:
            out(text)
            continue
        pieces = []
        for line in split_lines(text):
            body, nl = (line[:-1], "\n") if line.endswith("\n") else (line, "")
            blank = at_bol and not body
            if "s" in flags and blank and blank_run:
                continue
            if at_bol:
                blank_run = blank
            shown = _cat_show(body, flags)
            if at_bol and ("b" in flags and body or "n" in flags and "b" not in flags):
                number += 1
                shown = f"{number:6d}\t{shown}"
            pieces.append(shown + ("$" if "E" in flags and nl else "") + nl)
            at_bol = bool(nl)
        out("".join(pieces))
    return status


def _cat_show(body: str, flags: set[str]) -> str:
    """-T: tabs as ^I; -v: the other control bytes as ^X, DEL as ^?, the bytes past 127 as
    M- and the same (the UTF-8 bytes of a character, as cat sees bytes)."""
    if "T" in flags:
        body = body.replace("\t", "^I")
    if "v" not in flags or body.isascii() and body.isprintable():
        return body
    out = []
    for b in body.encode("utf-8", "replace"):
        meta, b = ("M-", b - 128) if b >= 128 else ("", b)
        out.append(meta + ("^?" if b == 127 else "^" + chr(b + 64) if b < 32 and b != 9 else chr(b)))
    return "".join(out)
