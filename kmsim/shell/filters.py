"""The filters: grep, head, tail, wc, sort and cat, over a command's output or FILEs.

They print what GNU grep 3.8 and coreutils 9.1 print, their messages included (in the
C locale's quoting), for standard input (the output of the command before them in a
pipeline) and for FILE operands (``-`` is standard input): grep's ``FILE:`` prefixes,
-H/-h, -l/-L and -s; the coreutils ones are in coreutils.py.  Each reads its options
with the shell's GNU parser (kmsim.shell.options).  ``apply_filter(words, text, err,
opener)`` returns (output, status) or raises ``FilterError`` with the tool's whole
message (a usage error); a FILE that cannot be read is a message and a status, as the
tool goes on to the next one.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

from .coreutils import FilterError, cat, head_tail, sort, split_lines, wc
from .filter_help import HELP, FilterHelp
from .inputs import STDIN, FileError, Inputs, Source
from .options import OptionError, Options
from .regex import RegexError, translate

__all__ = ["FilterError", "apply_filter", "run_filter", "split_lines", "FILTERS", "Inputs", "Source",
           "FileError"]

GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
Out = Callable[[str], None]


def apply_filter(words: list[str], text: str | None, err: Callable[[str], None] | None = None,
                 opener: Callable[[str], Source] | None = None) -> tuple[str, int]:
    """Run one filter stage over text, its standard input (None: it has none); opener reads
    its FILE operands; err receives its messages as lines.  Returns (output, status)."""
    chunks: list[str] = []
    status = run_filter(words, Inputs(text, opener), chunks.append, err or (lambda line: None))
    return "".join(chunks), status


def run_filter(words: list[str], inputs: Inputs, out: Out, err: Out) -> int:
    """Run one filter, its output to out as it comes; its status, or FilterError."""
    if not words:
        raise FilterError("kmsim: empty filter")
    name, args = words[0], words[1:]
    fn = FILTERS.get(name)
    if fn is None:
        raise FilterError(f"{name}: not a filter (use {', '.join(FILTERS)})")
    try:
        return fn(args, inputs, out, err)
    except FilterHelp as e:
        out(str(e))
        return 0


# ------------------------------------------------------------------------------------
# grep

GREP_UNSUPPORTED = "DIPRTUVZabdruz"
# the context digits (-5) arrive as --context-digits, one run of digits each (see _split_cluster)
GREP_OPTIONS = Options(
    "A:B:C:EFGHLe:f:hilm:nocqsvwxy" + GREP_UNSUPPORTED,
    {"ignore-case": "i", "invert-match": "v", "count": "c", "line-number": "n", "word-regexp": "w",
     "line-regexp": "x", "quiet": "q", "silent": "q", "no-messages": "s", "only-matching": "o",
     "fixed-strings": "F", "extended-regexp": "E", "basic-regexp": "G", "regexp=": "e", "file=": "f",
     "after-context=": "A", "before-context=": "B", "context=": "C", "max-count=": "m",
     "with-filename": "H", "no-filename": "h", "files-with-matches": "l", "files-without-match": "L",
     "label=": None, "help": None, "color": None, "colour": None, "context-digits=": None},
    optional=("color", "colour"))
_VALUED = "ABCefm"


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

    def __init__(self, args: list[str], read: Callable[[str], Source] | None = None):
        self.flags: set[str] = set()
        self.read = read                     # -f FILE's reader: grep reads it where the option stands
        self.matcher: str | None = None
        self.patterns: list[str] = []
        self.after = self.before = 0
        self.context = False                 # -A/-B/-C/-NUM given (even 0): groups are separated
        self.given: dict[str, int] = {}      # -A, -B as given; -C and -NUM are the default of both
        self.max_count: int | None = None          # -m NUM (negative: no limit)
        self.with_filename: bool | None = None       # -H / -h, the last one given
        self.list_files = ""                         # -l or -L, the last one given
        self.label = "(standard input)"
        self.pattern_files: list[str] = []           # -f FILE, each read as it is parsed
        operands = self.parse(args)
        self.after = self.given.get("A", self.given.get("C", 0))
        self.before = self.given.get("B", self.given.get("C", 0))
        if not self.patterns and not self.pattern_files:
            if not operands:
                raise FilterError(GREP_USAGE)
            self.patterns.append(operands.pop(0))
        self.files = operands

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
            self.given["C"] = int(value or 0)
            self.context = True
        elif key in ("color", "colour"):
            pass
        elif key == "label":
            self.label = value or ""
        elif key == "help":
            raise FilterHelp(HELP["grep"])
        elif key in ("H", "h"):
            self.with_filename = key == "H"
        elif key in ("l", "L"):
            self.list_files = key
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
        elif c == "f":              # a pattern a line; an empty FILE has none
            self.pattern_files.append(value)
            try:
                text = self.read(value).text if self.read is not None else ""
            except FileError as e:
                raise FilterError(f"grep: {value}: {e}") from None
            if text:
                self.patterns.append(text.removesuffix("\n"))
        elif c == "m":
            if not re.fullmatch(r"-?\d+", value.strip()):
                raise FilterError("grep: invalid max count")
            self.max_count = int(value)
        else:
            if not value.isdigit():
                raise FilterError(f"grep: {value}: invalid context length argument")
            self.context = True
            self.given[c] = int(value)

    def set_matcher(self, m: str) -> None:
        if self.matcher not in (None, m):
            raise FilterError("grep: conflicting matchers specified")
        self.matcher = m


class GrepMatcher:
    """All of grep's patterns as one Python regex, searched as grep searches (-w, -x, -o)."""

    def __init__(self, opt: GrepOptions, warn: Callable[[str], None]):
        body = "|".join(f"(?:{p})" for p in self.pieces(opt, warn)) or "(?!)"    # no pattern: no match
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


def grep(args: list[str], inputs: Inputs, out: Out, err: Out) -> int:
    """GNU grep over each FILE (standard input without one): 0 if a line was selected,
    1 if none, 2 if a FILE could not be read (0 with -q once a line is selected)."""
    opt = GrepOptions(args, inputs.read)
    if opt.list_files != "L" and (opt.max_count == 0 or _selects_nothing(opt)):
        return 1                        # grep sees it cannot match: it reads nothing
    matcher = GrepMatcher(opt, err)
    files = opt.files or [STDIN]
    named = opt.with_filename if opt.with_filename is not None else len(files) > 1
    printed = [False]                 # a line was printed: the next group is separated by '--'
    selected = error = False
    for f in files:
        label = opt.label if f == STDIN else f
        try:
            text = inputs.read(f).text
        except FileError as e:
            if "s" not in opt.flags:
                err(f"grep: {label}: {e}")
            error = True
            if not e.is_dir:
                continue
            text = ""                  # a directory opens: its read fails, and it counts as empty
        if _grep_file(matcher, opt, text, label, named, out, err, printed):
            selected = True
            if "q" in opt.flags:
                return 0
    return 2 if error else 0 if selected else 1


def _selects_nothing(opt: GrepOptions) -> bool:
    """grep 3.8's 'easy to see that matching cannot succeed': no pattern at all (-f with an
    empty FILE), or -v with only empty patterns (without -x, -w)."""
    patterns = [p for pattern in opt.patterns for p in pattern.split("\n")]
    if not patterns:
        return "v" not in opt.flags
    return "v" in opt.flags and not opt.flags & {"x", "w"} and not any(patterns)


def _grep_file(matcher: GrepMatcher, opt: GrepOptions, text: str, label: str, named: bool,
               out: Out, err: Out, printed: list[bool]) -> int:
    """grep one input: prints what it selects; the number of lines selected."""
    if "\0" in text:                   # a binary file: grep takes its NUL bytes for line ends too
        text = text.replace("\0", "\n") + "\0"
    lines = split_lines(text.rstrip("\0"))
    invert = "v" in opt.flags
    hits = [i for i, ln in enumerate(lines) if (matcher.search(ln.rstrip("\n")) is None) == invert]
    if opt.max_count is not None and opt.max_count >= 0:
        hits = hits[:opt.max_count]
    elif opt.max_count is not None and invert:     # grep 3.8: a negative -m selects nothing with -v
        hits = []
    if "q" in opt.flags:
        return len(hits)
    if opt.list_files:
        if bool(hits) == (opt.list_files == "l"):
            out(f"{label}\n")
        return len(hits)
    name = f"{label}:" if named else ""
    if "c" in opt.flags:
        out(f"{name}{len(hits)}\n")
        return len(hits)
    if hits and "\0" in text:          # grep 3.8: a NUL byte makes it a binary file
        err(f"grep: {label}: binary file matches")
        printed[0] = True
        return len(hits)
    only = matcher if "o" in opt.flags else None
    out(_with_context(lines, hits, opt, label if named else None, printed, only))
    return len(hits)


def _with_context(lines: list[str], hits: list[int], opt: GrepOptions, label: str | None,
                  printed: list[bool], only: GrepMatcher | None = None) -> str:
    """The selected lines and their context: 'FILE:N:line', 'FILE-N-context', '--' before a
    group that does not follow the last line printed (in this input or an earlier one).
    With -o (only), each of those lines prints its non-empty matches instead, one a line
    (a context line of -v has some)."""
    keep: set[int] = set()
    for i in hits:
        keep.update(range(max(0, i - opt.before), min(len(lines), i + opt.after + 1)))
    selected = set(hits)
    out: list[str] = []
    prev = None
    for i in sorted(keep):
        if opt.context and printed[0] and (prev is None or i > prev + 1):
            out.append("--\n")
        line = lines[i] if lines[i].endswith("\n") else lines[i] + "\n"
        sep = ":" if i in selected else "-"
        prefix = f"{label}{sep}" if label is not None else ""
        prefix += f"{i + 1}{sep}" if "n" in opt.flags else ""
        if only is None:
            out.append(prefix + line)
        else:
            out += [f"{prefix}{part}\n" for part in only.parts(line[:-1])]
        prev = i
        printed[0] = True
    return "".join(out)


FILTERS: dict[str, Callable[[list[str], Inputs, Out, Out], int]] = {
    "grep": grep, "head": lambda a, i, o, e: head_tail("head", a, i, o, e),
    "tail": lambda a, i, o, e: head_tail("tail", a, i, o, e), "wc": wc, "sort": sort, "cat": cat}
