"""The pipeline filters: grep, head, tail, wc, sort and cat over a command's output.

They print what GNU grep 3.8 and coreutils 9.1 print for standard input, their
messages included (in the C locale's quoting); each reads its options with the
shell's GNU parser (kmsim.shell.options).  ``apply_filter(words, text, err)``
returns (output, status) or raises ``FilterError`` with the tool's whole message.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

from .options import OptionError, Options
from .regex import RegexError, translate

__all__ = ["FilterError", "apply_filter", "split_lines"]

GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."


class FilterError(Exception):
    """A filter that cannot run: the message is everything it prints, ``status`` its exit status."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def split_lines(text: str) -> list[str]:
    """The lines of text as the tools see them: split at '\\n' only, newlines kept."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def apply_filter(words: list[str], text: str, err: Callable[[str], None] | None = None) -> tuple[str, int]:
    """Run one filter stage over text; err receives warnings (grep's) as lines."""
    if not words:
        raise FilterError("kmsim: empty filter")
    name, args = words[0], words[1:]
    if name == "grep":
        return grep(args, text, err or (lambda line: None))
    if name in ("head", "tail"):
        return head_tail(name, args, text), 0
    if name == "wc":
        return wc(args, text), 0
    if name == "sort":
        lines = [ln if ln.endswith("\n") else ln + "\n" for ln in split_lines(text)]
        return "".join(sorted(lines, reverse=_sort_reverse(args))), 0
    if name == "cat":
        return text, 0
    raise FilterError(f"{name}: not a filter (use grep, head, tail, wc, sort)")


# ------------------------------------------------------------------------------------
# grep

GREP_UNSUPPORTED = "DHILPRTUVZabdfhlruz"
# the context digits (-5) arrive as --context-digits, one run of digits each (see _split_cluster)
GREP_OPTIONS = Options(
    "A:B:C:EFGe:im:nocqsvwxy" + GREP_UNSUPPORTED,
    {"ignore-case": "i", "invert-match": "v", "count": "c", "line-number": "n", "word-regexp": "w",
     "line-regexp": "x", "quiet": "q", "silent": "q", "no-messages": "s", "only-matching": "o",
     "fixed-strings": "F", "extended-regexp": "E", "basic-regexp": "G", "regexp=": "e",
     "after-context=": "A", "before-context=": "B", "context=": "C", "max-count=": "m",
     "color": None, "colour": None, "context-digits=": None},
    optional=("color", "colour"))
_VALUED = "ABCem"


def _split_cluster(a: str) -> list[str]:
    """grep's -NUM (-5, -n5): each run of digits in a cluster of short options becomes
    --context-digits=NUM in its place, as grep counts the digits of one argument:
    '-n5x' -> ['-n', '--context-digits=5', '-x']; a value-taking letter keeps the rest."""
    if a.startswith("--"):
        return [a]
    pieces, flags, i = [], "", 1
    while i < len(a):
        c = a[i]
        if c.isdigit():
            j = i
            while j < len(a) and a[j].isdigit():
                j += 1
            pieces += [f"-{flags}"] if flags else []
            pieces.append(f"--context-digits={a[i:j]}")
            flags, i = "", j
            continue
        flags += c
        if c in _VALUED:
            flags += a[i + 1:]
            break
        i += 1
    return pieces + ([f"-{flags}"] if flags else [])


class GrepOptions:
    """grep's command line, parsed as getopt_long does (options may follow the pattern)."""

    def __init__(self, args: list[str]):
        self.flags: set[str] = set()
        self.matcher: str | None = None
        self.patterns: list[str] = []
        self.after = self.before = 0
        self.max_count = -1
        operands = self.parse(args)
        if not self.patterns:
            if not operands:
                raise FilterError(GREP_USAGE)
            self.patterns.append(operands.pop(0))
        if operands:
            raise FilterError(f"grep: {operands[0]}: kmsim's grep reads the command's output, not files")

    def parse(self, args: list[str]) -> list[str]:
        """Take the options out of args, acting on each in order; returns the operands."""
        try:
            found, operands = GREP_OPTIONS.parse(GREP_OPTIONS.rewrite(args, _split_cluster))
        except OptionError as e:
            for key, value in e.before:
                self.option(key, value)
            raise FilterError(f"grep: {e}\n{GREP_USAGE}") from None
        for key, value in found:
            self.option(key, value)
        return operands

    def option(self, key: str, value: str | None) -> None:
        """Act on one option (its short letter, or its long name when it has none)."""
        if key == "context-digits":
            self.after = self.before = int(value or 0)
        elif key in ("color", "colour"):
            pass
        elif key in _VALUED:
            self.take(key, value)
        elif key in ("E", "F", "G"):
            self.set_matcher(key)
        elif key in GREP_UNSUPPORTED:
            raise FilterError(f"grep: option '-{key}' is not supported by kmsim's grep")
        else:
            self.flags.add("i" if key == "y" else key)

    def take(self, c: str, value: str | None) -> None:
        """An option with an argument: -e PATTERN, -A/-B/-C NUM, -m NUM."""
        value = value or ""
        if c == "e":
            self.patterns.append(value)
        elif c == "m":
            if not re.fullmatch(r"-?\d+", value.strip()):
                raise FilterError("grep: invalid max count")
            self.max_count = int(value)
        else:
            if not value.isdigit():
                raise FilterError(f"grep: {value}: invalid context length argument")
            if c in "AC":
                self.after = int(value)
            if c in "BC":
                self.before = int(value)

    def set_matcher(self, m: str) -> None:
        if self.matcher not in (None, m):
            raise FilterError("grep: conflicting matchers specified")
        self.matcher = m


class GrepMatcher:
    """All of grep's patterns as one Python regex, searched as grep searches (-w, -x, -o)."""

    def __init__(self, opt: GrepOptions, warn: Callable[[str], None]):
        body = "|".join(f"(?:{p})" for p in self.pieces(opt, warn))
        self.word = "w" in opt.flags and "x" not in opt.flags
        self.alternation = "|" in body
        flags = re.IGNORECASE if "i" in opt.flags else 0
        try:
            self.body = re.compile(f"^(?:{body})$" if "x" in opt.flags else body, flags)
            self.rx = re.compile(rf"(?<!\w)(?:{body})(?!\w)", flags) if self.word else self.body
        except (re.error, RecursionError, OverflowError):
            raise FilterError("grep: Regular expression too big") from None

    @staticmethod
    def pieces(opt: GrepOptions, warn: Callable[[str], None]) -> list[str]:
        """Each pattern as a Python regex (each '\\n' in a pattern starts another)."""
        out, groups = [], 0
        for p in (p for pattern in opt.patterns for p in pattern.split("\n")):
            if opt.matcher == "F":
                out.append(re.escape(p))
                continue
            try:
                body, n, warnings = translate(p, opt.matcher == "E", groups)
            except RegexError as e:
                for w in e.warnings:
                    warn(f"grep: warning: {w}")
                raise FilterError(f"grep: {e}") from None
            groups += n
            for w in warnings:
                warn(f"grep: warning: {w}")
            out.append(body)
        return out

    def search(self, line: str, pos: int = 0) -> tuple[int, int] | None:
        """The first match at or after pos; with -w an empty match counts only where
        nothing longer matches (grep tries shorter matches only down to one character)."""
        while pos <= len(line):
            m = self.rx.search(line, pos)
            if m is None or not self.word or m.end() > m.start():
                return m and m.span()
            b = self.body.match(line, m.start())
            if b is None or self.longest(line, b.start(), b.end(), False) == b.start():
                return m.span()
            pos = m.start() + 1
        return None

    def parts(self, line: str):
        """The non-empty matches of -o, each the longest at its start as POSIX wants."""
        pos = 0
        while pos <= len(line):
            span = self.search(line, pos)
            if span is None:
                return
            s, e = span
            e = self.longest(line, s, e, self.word)
            if e > s:
                yield line[s:e]
            pos = max(e, s + 1)

    def longest(self, line: str, s: int, e: int, word: bool) -> int:
        """The end of the longest match starting at s (Python's match there ends at e)."""
        if not self.alternation:           # Python's greedy match is already the longest
            return e
        if word:
            ends = (end for end in range(len(line), e, -1) if _word_bounded(line, s, end))
            return next((end for end in ends if _ending_in(self.body, len(line) - end, 0).match(line, s)), e)
        while e < len(line):
            m = _ending_in(self.body, 0, len(line) - e - 1).match(line, s)
            if m is None:
                break
            e = m.end()
        return e


@functools.lru_cache(maxsize=512)
def _ending_in(rx: re.Pattern, least: int, most: int) -> re.Pattern:
    """rx, matching only where least to least+most characters of the line follow it."""
    return re.compile(f"(?:{rx.pattern})(?=[\\s\\S]{{{least},{least + most}}}\\Z)", rx.flags)


def _word_bounded(line: str, s: int, e: int) -> bool:
    def word(i: int) -> bool:
        return 0 <= i < len(line) and (line[i].isalnum() or line[i] == "_")
    return not word(s - 1) and not word(e)


def grep(args: list[str], text: str, warn: Callable[[str], None]) -> tuple[str, int]:
    """GNU grep over text: (output, 0 if a line was selected else 1)."""
    opt = GrepOptions(args)
    matcher = GrepMatcher(opt, warn)
    lines = split_lines(text)
    invert = "v" in opt.flags
    hits = [i for i, ln in enumerate(lines) if (matcher.search(ln.rstrip("\n")) is None) == invert]
    if opt.max_count >= 0:
        hits = hits[:opt.max_count]
    status = 0 if hits else 1
    if "q" in opt.flags:
        return "", status
    if "c" in opt.flags:
        return f"{len(hits)}\n", status
    if "o" in opt.flags:
        return ("" if invert else _only_matching(matcher, lines, hits, "n" in opt.flags)), status
    return _with_context(lines, hits, opt), status


def _only_matching(matcher: GrepMatcher, lines: list[str], hits: list[int], numbers: bool) -> str:
    prefix = (lambda i: f"{i + 1}:") if numbers else (lambda i: "")
    return "".join(f"{prefix(i)}{part}\n" for i in hits for part in matcher.parts(lines[i].rstrip("\n")))


def _with_context(lines: list[str], hits: list[int], opt: GrepOptions) -> str:
    keep: set[int] = set()
    for i in hits:
        keep.update(range(max(0, i - opt.before), min(len(lines), i + opt.after + 1)))
    selected = set(hits)
    out, prev = [], None
    for i in sorted(keep):
        if prev is not None and i > prev + 1 and (opt.after or opt.before):
            out.append("--\n")
        line = lines[i] if lines[i].endswith("\n") else lines[i] + "\n"
        sep = ":" if i in selected else "-"
        out.append(f"{i + 1}{sep}{line}" if "n" in opt.flags else line)
        prev = i
    return "".join(out)


# ------------------------------------------------------------------------------------
# head, tail

def head_tail(name: str, args: list[str], text: str) -> str:
    """coreutils head/tail -n: N, head -n -N (all but the last N), tail -n +N (from line N)."""
    spec = _lines_spec(name, args)
    lines = split_lines(text)
    n = int(spec.lstrip("+-"))
    if name == "head":
        return "".join(lines[:max(len(lines) - n, 0)] if spec.startswith("-") else lines[:n])
    if spec.startswith("+"):
        return "".join(lines[max(n - 1, 0):])
    return "".join(lines[-n:] if n else [])


UNSUPPORTED = {"head": "cqvz", "tail": "cfFqsvz"}
HEAD_TAIL_OPTIONS = {name: Options("n:" + letters, {"lines=": "n"}) for name, letters in UNSUPPORTED.items()}


def _lines_spec(name: str, args: list[str]) -> str:
    """The line count as written (with its sign); coreutils' messages for bad arguments."""
    if name == "tail" and len(args) == 1 and re.fullmatch(r"\+\d+", args[0]):
        return args[0]
    spec = "10"
    opts = HEAD_TAIL_OPTIONS[name]

    def count(key: str, value: str | None) -> None:
        nonlocal spec
        if key != "n":
            raise FilterError(f"{name}: option '-{key}' is not supported by kmsim's {name}", 1)
        spec = value or ""
        if not re.fullmatch(r"[+-]?\d+", spec):
            shown = spec if name == "tail" else spec.removeprefix("-")
            raise FilterError(f"{name}: invalid number of lines: '{shown}'", 1)
    try:
        found, operands = opts.parse(opts.rewrite(args, _obsolete_count))
    except OptionError as e:
        for key, value in e.before:
            count(key, value)
        raise _usage(name, str(e)) from None
    for key, value in found:
        count(key, value)
    for a in operands:
        _bad_operand(name, a)
    return spec


def _obsolete_count(a: str) -> list[str]:
    """head -5 / tail -5 (the obsolete count) as --lines=5."""
    return ["--lines=" + a[1:]] if re.fullmatch(r"-\d+", a) else [a]


def _usage(name: str, message: str) -> FilterError:
    """A coreutils usage error: the message, then the pointer to --help; status 1."""
    return FilterError(f"{name}: {message}\nTry '{name} --help' for more information.", 1)


def _bad_operand(name: str, a: str) -> None:
    """An option coreutils does not know, or a file operand (filters read only their pipe)."""
    if a.startswith("--"):
        raise _usage(name, f"unrecognized option '{a}'")
    if a.startswith("-") and len(a) > 1:
        if a[1] in UNSUPPORTED.get(name, ""):
            raise FilterError(f"{name}: option '-{a[1]}' is not supported by kmsim's {name}", 1)
        raise _usage(name, f"invalid option -- '{a[1]}'")
    what = f"cannot open '{a}' for reading" if name in ("head", "tail") else a
    raise FilterError(f"{name}: {what}: kmsim's filters read the command's output, not files", 1)


# ------------------------------------------------------------------------------------
# sort

SORT_OPTIONS = Options("bcdfghik:Mmno:RrS:st:T:uVz", {"reverse": "r"})


def _sort_reverse(args: list[str]) -> bool:
    """sort's options: -r (--reverse); GNU sort's others are refused, as usage errors (2)."""
    try:
        found, operands = SORT_OPTIONS.parse(args)
    except OptionError as e:
        raise FilterError(f"sort: {e}\nTry 'sort --help' for more information.") from None
    for key, _value in found:
        if key != "r":
            raise FilterError(f"sort: option '-{key}' is not supported by kmsim's sort")
    if operands:
        raise FilterError(f"sort: cannot read: {operands[0]}: kmsim's filters read the command's output, "
                          "not files")
    return bool(found)


# ------------------------------------------------------------------------------------
# wc

WC_FLAGS = {"l": "lines", "w": "words", "m": "chars", "c": "bytes", "L": "max"}
WC_ORDER = ("lines", "words", "chars", "bytes", "max")
# what glibc's iswspace calls a space in a UTF-8 locale
WC_SPACE = re.compile("[ \t\n\v\f\r\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]+")


def wc(args: list[str], text: str) -> str:
    """coreutils wc over standard input: the counts asked for, right-aligned in 7 columns."""
    want = _wc_options(args) or {"lines", "words", "bytes"}
    counts = {
        "lines": text.count("\n"),
        "words": sum(1 for w in WC_SPACE.split(text) if any(c.isprintable() for c in w)),
        "chars": len(text),
        "bytes": len(text.encode("utf-8", "surrogatepass")),
        "max": max((len(ln.rstrip("\n").expandtabs(8)) for ln in split_lines(text)), default=0),
    }
    shown = [counts[k] for k in WC_ORDER if k in want]
    width = 1 if len(shown) == 1 else 7
    return " ".join(f"{n:{width}d}" for n in shown) + "\n"


WC_OPTIONS = Options("lwmcL", {name[2:]: letter for name, letter in
                               (("--lines", "l"), ("--words", "w"), ("--chars", "m"), ("--bytes", "c"),
                                ("--max-line-length", "L"))})


def _wc_options(args: list[str]) -> set[str]:
    try:
        found, operands = WC_OPTIONS.parse(args)
    except OptionError as e:
        raise _usage("wc", str(e)) from None
    for a in operands:
        _bad_operand("wc", a)
    return {WC_FLAGS[key] for key, _value in found}
