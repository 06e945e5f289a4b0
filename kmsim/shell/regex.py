"""GNU grep's regular expressions rewritten in Python's ``re`` syntax.

``translate(pattern, extended)`` reads a POSIX basic regular expression (with GNU's
extensions ``\\+ \\? \\| \\< \\> \\w \\s``) or, with ``extended``, an extended one, and
returns the equivalent Python regex.  It rejects what GNU grep 3.8 rejects, with
grep's messages, and collects grep's warnings (``* at start of expression``).

Where grep's two engines disagree (a repetition at the start of an extended
expression, or after an anchor), this follows what grep 3.8 prints: basic
expressions take the operator as a literal character, extended ones drop it (and
an interval there loses only its '{' when glibc's matcher would run).
"""
from __future__ import annotations

import re

__all__ = ["RegexError", "translate"]

DUP_MAX = 32767                       # RE_DUP_MAX
UNMATCHED_BRACKET = "Unmatched [, [^, [:, [., or [="
CLASS_SYNTAX = "character class syntax is [[:space:]], not [:space:]"

CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "0-9A-Za-z", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "blank": " \\t", "punct": "!-/:-@\\[-`{-~",
    "print": " -~", "graph": "!-~", "cntrl": "\\x00-\\x1f\\x7f", "xdigit": "0-9A-Fa-f",
}
ESCAPES = {"w": "\\w", "W": "\\W", "s": "\\s", "S": "\\S"}
ANCHOR_ESCAPES = {"b": "\\b", "B": "\\B", "<": "\\b(?=\\w)", ">": "\\b(?<=\\w)",
                  "`": "\\A", "'": "\\Z"}


class RegexError(Exception):
    """A pattern grep rejects; the message is grep's (``Unmatched ( or \\(``).

    ``warnings`` are the warnings grep prints before this error.
    """

    def __init__(self, message: str, warnings=()):
        super().__init__(message)
        self.warnings = list(warnings)


class _Translator:
    """One pass over a pattern; ``seq`` holds the current branch as [text, kind] items,
    kind "atom", "repeat" or "anchor"; ``laststart`` is true while only anchors and
    repetitions follow the start, a '(' or a '|' (when grep -E warns)."""

    def __init__(self, pattern: str, extended: bool, group_base: int):
        self.p, self.ere, self.base = pattern, extended, group_base
        self.i = 0
        self.groups = 0
        self.closed: set[int] = set()
        self.warnings: list[str] = []
        self.class_error: int | None = None
        self.stack: list[tuple] = []
        self.alts: list[str] = []
        self.seq: list[list[str]] = []
        self.laststart = True
        self.ranges = 0
        # grep matches with glibc's regex, not its DFA, when a pattern has one of these
        self.glibc = re.search(r"\\[<>bBwWsS1-9]|\[\^|\[[^]]*?.-[^]]", pattern) is not None

    def run(self) -> str:
        """The whole pattern as a Python regex."""
        while self.i < len(self.p):
            self.step()
        if self.stack:
            raise RegexError("Unmatched ( or \\(")
        if self.class_error is not None:     # found by grep's second parser, after its warnings
            raise RegexError(CLASS_SYNTAX, self.warnings[:self.class_error])
        return self.branches()

    def branches(self) -> str:
        return "|".join(self.alts + ["".join(t for t, _k in self.seq)])

    def after_anchor(self) -> bool:
        """A repetition here has nothing to repeat: the start, or an anchor before it."""
        return not self.seq or self.seq[-1][1] == "anchor"

    def repeats_anchor(self) -> bool:
        """grep's dfa repeats an anchor as any item (glibc's regex, which matches the
        patterns of self.glibc, does not): in a BRE one that follows an ordinary item, in
        an ERE any but a leading '^' (a$*: the '*' matches empty)."""
        if self.glibc or not self.seq or self.seq[-1][1] != "anchor":
            return False
        if self.ere:
            return self.seq[-1][0] != "^" or not self.laststart
        return self.seq[-1][0] != "^" and any(k != "anchor" for _t, k in self.seq[:-1])

    def step(self) -> None:
        c = self.p[self.i]
        self.i += 1
        if c == "\\":
            self.escape()
        elif c == "[":
            self.atom(self.bracket())
        elif c == ".":
            self.atom(".")
        elif c == "*" or (self.ere and c in "+?"):
            self.repeat(c, c)
        elif c == "{" and self.ere:
            self.interval_ere()
        elif c in "()|" and self.ere:
            self.special(c)
        elif c == "^":
            self.caret()
        elif c == "$":
            self.dollar()
        else:
            self.literal(c)

    def atom(self, text: str) -> None:
        self.seq.append([text, "atom"])
        self.laststart = False

    def anchor(self, text: str) -> None:
        self.seq.append([text, "anchor"])

    def literal(self, c: str) -> None:
        self.atom(re.escape(c))

    def escape(self) -> None:
        if self.i >= len(self.p):
            raise RegexError("Trailing backslash")
        c = self.p[self.i]
        self.i += 1
        if c in "123456789":
            self.backref(int(c))
        elif c in ESCAPES:
            self.atom(ESCAPES[c])
        elif c in ANCHOR_ESCAPES:
            self.anchor(ANCHOR_ESCAPES[c])
        elif self.ere or c not in "(){|+?":
            self.literal(c)
        elif c in "()|":
            self.special(c)
        elif self.after_anchor() and not self.repeats_anchor():   # '\{', '\+', '\?' with nothing to repeat
            if c == "{" and any(k != "anchor" for _t, k in self.seq) and \
                    not re.match(r"(\d*)(,(\d*))?\\\}", self.p[self.i:]):
                raise RegexError("invalid content of \\{\\}")     # glibc took it as itself, grep's dfa not
            self.literal(c)
        elif c == "{":
            self.interval_bre()
        else:
            self.repeat(c, "\\" + c)

    def special(self, c: str) -> None:
        """A group's opening or closing, or an alternation (their spelling depends on the mode)."""
        if c == ")":
            self.close_group()
            return
        if c == "(":
            self.groups += 1
            self.stack.append((self.alts, self.seq, self.groups))
            self.alts, self.seq = [], []
        else:
            self.alts.append("".join(t for t, _k in self.seq))
            self.seq = []
        self.laststart = True

    def close_group(self) -> None:
        if not self.stack:
            if self.ere:              # an unmatched ')' is an ordinary character in grep -E
                self.literal(")")
                return
            raise RegexError("Unmatched ) or \\)")
        body = self.branches()
        self.alts, self.seq, num = self.stack.pop()
        self.closed.add(num)
        self.atom(f"(?P<g{self.base + num}>{body})")

    def backref(self, n: int) -> None:
        if n not in self.closed:
            raise RegexError("Invalid back reference")
        self.atom(f"(?P=g{self.base + n})")

    def caret(self) -> None:
        if self.ere or not self.seq:
            self.anchor("^")
        else:
            self.literal("^")

    def dollar(self) -> None:
        rest = self.p[self.i:]
        if self.ere or not rest or rest.startswith(("\\)", "\\|")):
            self.anchor("$")
        else:
            self.literal("$")

    def repeat(self, quant: str, spelled: str) -> None:
        """Apply a quantifier to the last item (see the module's note for the odd places)."""
        anchor = self.repeats_anchor()
        if self.ere and self.laststart:
            self.warnings.append(f"{'{...}' if quant.startswith('{') else quant} at start of expression")
        if quant.startswith("{"):
            self.laststart = False
        if anchor:                      # a zero-width item repeated: * and ? match empty
            self.seq[-1] = [f"(?:{self.seq[-1][0]}){quant}", "repeat"]
            return
        if self.after_anchor():
            if not self.ere:
                self.literal(spelled[-1])
            return
        text, kind = self.seq[-1]
        self.seq[-1] = [text + quant if kind == "atom" else f"(?:{text}){quant}", "repeat"]

    def interval_ere(self) -> None:
        m = re.match(r"(\d*)(,(\d*))?\}", self.p[self.i:])
        if m is None:
            self.literal("{")         # not an interval: '{' is an ordinary character
            return
        try:
            quant = _interval(m)
        except RegexError:
            if not self.laststart:
                raise
            self.literal("{")
            return
        if self.after_anchor() and self.glibc and not self.repeats_anchor():   # glibc skips the '{' alone
            self.repeat("{", "{")
            return
        self.i += m.end()
        self.repeat(quant, "{")

    def interval_bre(self) -> None:
        m = re.match(r"(\d*)(,(\d*))?\\\}", self.p[self.i:])
        if m is None:        # after an anchor glibc takes '\{' as itself, and grep's dfa says so
            raise RegexError("invalid content of \\{\\}" if self.after_anchor()
                             else _bad_interval(self.p[self.i:]))
        self.i += m.end()
        self.repeat(_interval(m), "{")

    def bracket(self) -> str:
        """A bracket expression at self.i (after '['), as a Python character class."""
        negate = self.p.startswith("^", self.i)
        self.i += negate
        start = self.i
        items: list[str] = []
        self.ranges = 0
        while True:
            if self.i >= len(self.p):
                raise RegexError(UNMATCHED_BRACKET if items else "Invalid regular expression")
            if items and self.p[self.i] == "]":
                break
            items.append(self.bracket_item())
        inner = self.p[start:self.i]
        self.i += 1
        if (len(inner) > 2 and inner[0] == inner[-1] == ":" and inner.strip(":") and not self.ranges
                and self.class_error is None):
            self.class_error = len(self.warnings)
        return "[" + ("^" if negate else "") + "".join(items) + "]"

    def bracket_item(self) -> str:
        if self.p.startswith("[:", self.i):
            end = self.p.find(":]", self.i + 2)
            if end < 0:
                raise RegexError(UNMATCHED_BRACKET)
            name = self.p[self.i + 2:end]
            self.i = end + 2
            if name not in CLASSES:
                raise RegexError("Invalid character class name")
            return CLASSES[name]
        lo = self.bracket_char()
        if self.p.startswith("-", self.i) and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
            self.i += 1
            hi = self.bracket_char()
            if ord(hi) < ord(lo):
                raise RegexError("Invalid range end")
            self.ranges += 1
            return f"{_class_char(lo)}-{_class_char(hi)}"
        return _class_char(lo)

    def bracket_char(self) -> str:
        """One character of a bracket expression: plain, or [.c.] / [=c=]."""
        p, i = self.p, self.i
        if p.startswith(("[.", "[="), i):
            close = p[i + 1] + "]"
            end = p.find(close, i + 2)
            if end < 0:
                raise RegexError(UNMATCHED_BRACKET)
            name = p[i + 2:end]
            if len(name) != 1:
                raise RegexError("Invalid collation character")
            self.i = end + 2
            return name
        self.i += 1
        return p[i]


def _bad_interval(rest: str) -> str:
    """glibc's message for a BRE interval that is not one (parse_dup_op): it reads the
    tokens after '\\{' up to '\\}' or ','; the end of the pattern first is "Unmatched",
    anything else (a non-digit, a second ',') "Invalid content"."""
    i, part, digits = 0, 0, True
    while i < len(rest):
        if rest.startswith("\\}", i):
            return "Invalid content of \\{\\}"
        c = rest[i]
        if c == ",":
            if part or not digits:
                return "Invalid content of \\{\\}"
            part = 1
        digits = digits and c.isdigit() or c == ","
        i += 2 if c == "\\" else 1
    return "Unmatched \\{"


def _interval(m) -> str:
    if not m.group(1) and m.group(2) is None:
        raise RegexError("Invalid content of \\{\\}")
    lo = int(m.group(1)) if m.group(1) else 0
    hi = lo if m.group(2) is None else int(m.group(3)) if m.group(3) else None
    if hi is not None and hi < lo:
        raise RegexError("Invalid content of \\{\\}")
    if max(lo, hi or 0) > DUP_MAX:
        raise RegexError("Regular expression too big")
    return f"{{{lo}}}" if hi == lo else f"{{{lo},{'' if hi is None else hi}}}"


def _class_char(c: str) -> str:
    if c.isalnum():
        return c
    if c.isascii() and c.isprintable():
        return "\\" + c
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else c


def translate(pattern: str, extended: bool = False, group_base: int = 0) -> tuple[str, int, list[str]]:
    """A grep pattern as (Python regex, number of groups, grep's warnings); RegexError if invalid.

    Groups are named ``g<group_base + n>`` so that several patterns can share one regex.
    """
    t = _Translator(pattern, extended, group_base)
    return t.run(), t.groups, t.warnings
