"""The command-line grammar: one tokenizer, then lists, pipelines, words, redirection.

``tokenize(text)`` splits a line into tokens as a POSIX shell reads it: words (quotes
and backslashes removed in ``Token.value``, as ``shlex`` in POSIX mode removes them),
``;`` and newlines, ``|``, ``>`` and ``>>``, ``#`` comments (at the start of a word)
and the blanks between.  A backslash before a newline joins the lines (outside single
quotes).  It never fails: a quote left open is marked on its word (``Token.quote``), so
completion and highlighting read unfinished lines with the same tokens the parser uses.
The parser then splits a line on ``;`` and newlines into commands, each command on
``|`` into a pipeline; ``py`` keeps its raw text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ParseError", "Token", "tokenize", "Stage", "Pipeline", "split_commands", "parse_pipeline",
           "parse"]

BLANKS = " \t\r"             # what splits words (shlex's whitespace, less the newline)
COMMENT_AFTER = " \t;|\n"    # '#' after one of these (or at the start) begins a comment
_PLAIN = re.compile(r"[^ \t\r;\n|>\\'\"]+")   # no blank, separator, quote or backslash
_ENDS_WORD = BLANKS + ";\n|>"


class ParseError(Exception):
    """A line that cannot be split (an unterminated quote)."""


@dataclass
class Token:
    """One token of a line.

    kind is "word", "blank", "sep" (``;`` or a newline), "pipe", "redirect" (``>``,
    ``>>``) or "comment"; raw its text with line continuations removed, start and end
    its span in the line.  A word's value is the word as the command sees it; quote is
    the quote it leaves open (the value then reads as if it were closed) and escape is
    True when it ends in a lone backslash."""
    kind: str
    raw: str
    start: int
    end: int
    value: str = ""
    quote: str | None = None
    escape: bool = False


def tokenize(text: str, comments: bool = True, after_redirect: bool = False) -> list[Token]:
    """The tokens of text, in order; their raws put together give text without its line
    continuations.  '#' begins a comment at the start of a command and after a blank,
    ';' or '|' (with after_redirect, right after '>' too); never without comments (as in a
    redirection's target).  Never raises."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    prev = ""                        # the last character of the current command, "" at its start
    while i < n:
        c = text[i]
        if c == "\\" and text.startswith("\n", i + 1):
            i += 2                   # a line continuation: both characters vanish
        elif c in BLANKS:
            j = i
            while j < n and text[j] in BLANKS:
                j += 1
            tokens.append(Token("blank", text[i:j], i, j))
            prev, i = text[j - 1], j
        elif c in ";\n":
            tokens.append(Token("sep", c, i, i + 1))
            prev, i = "", i + 1
        elif c == "|":
            tokens.append(Token("pipe", c, i, i + 1))
            prev, i = c, i + 1
        elif c == ">":
            j = i + 2 if text.startswith(">", i + 1) else i + 1
            tokens.append(Token("redirect", text[i:j], i, j))
            prev, i = "" if after_redirect else ">", j
        elif c == "#" and comments and (not prev or prev in COMMENT_AFTER):
            j = text.find("\n", i)
            j = n if j < 0 else j
            tokens.append(Token("comment", text[i:j], i, j))
            i = j
        else:
            tok = _word(text, i, comments)
            tokens.append(tok)
            prev, i = tok.raw[-1:] or prev, tok.end
    return tokens


def _word(text: str, i: int, comments: bool) -> Token:
    """The word starting at text[i]: shlex's POSIX rules for quotes and backslashes.  A
    '#' after an escaped blank, ';' or '|' ends it and begins a comment."""
    m = _PLAIN.match(text, i)
    j = m.end() if m else i
    if j > i and (j == len(text) or text[j] in _ENDS_WORD):
        return Token("word", text[i:j], i, j, text[i:j])   # a plain word: no '#' rule can end it
    raw: list[str] = []
    value: list[str] = []
    quote = None
    start, n = i, len(text)
    escape = False
    while i < n:
        c = text[i]
        if c == "\\" and text.startswith("\n", i + 1) and quote != "'":
            i += 2
            continue
        if quote is None and (c in BLANKS or c in ";\n|>"
                              or c == "#" and comments and raw and raw[-1] in COMMENT_AFTER):
            break
        raw.append(c)
        if quote == "'":
            quote = None if c == "'" else quote
            if quote:
                value.append(c)
        elif quote == '"':
            if c == "\\" and i + 1 < n:
                nxt = text[i + 1]
                raw.append(nxt)
                value.append(nxt if nxt in '"\\' else c + nxt)
                i += 1
            elif c == '"':
                quote = None
            else:
                value.append(c)
        elif c == "\\":
            if i + 1 < n:
                raw.append(text[i + 1])
                value.append(text[i + 1])
                i += 1
            else:
                escape = True
        elif c in "'\"":
            quote = c
        else:
            value.append(c)
        i += 1
    return Token("word", "".join(raw), start, i, "".join(value), quote, escape)


@dataclass
class Stage:
    """One command of a pipeline: its words, raw text and '>' redirection target."""
    words: list[str]
    raw: str
    redirect: str | None = None
    append: bool = False


@dataclass
class Pipeline:
    """Commands joined by '|'."""
    stages: list[Stage] = field(default_factory=list)
    text: str = ""


def _split(tokens: list[Token], kinds: tuple[str, ...]) -> list[list[Token]]:
    """The tokens in groups between the tokens of the given kinds."""
    groups: list[list[Token]] = [[]]
    for t in tokens:
        if t.kind in kinds:
            groups.append([])
        else:
            groups[-1].append(t)
    return groups


def _text(tokens: list[Token]) -> str:
    """The raw text of tokens, without their comments."""
    return "".join(t.raw for t in tokens if t.kind != "comment")


def split_commands(text: str) -> list[str]:
    """The commands of a line or script, split on unquoted ';' and newlines."""
    tokens = tokenize(text)
    _check_quotes(tokens)
    pieces = (_text(group).strip() for group in _split(tokens, ("sep",)))
    return [p for p in pieces if p]


def parse_pipeline(cmd: str) -> Pipeline:
    """Split one command into pipeline stages and words."""
    stages = []
    tokens = tokenize(cmd)
    _check_quotes(tokens)
    for group in _split(tokens, ("pipe",)):
        raw = _text(group).strip()
        if not raw:
            raise ParseError("syntax error near unexpected token `|'")
        stages.append(_stage(raw))
    return Pipeline(stages, cmd)


def _stage(raw: str) -> Stage:
    if raw.split(None, 1)[0] == "py":
        return Stage(["py", raw[2:].strip()], raw)
    tokens = tokenize(raw, after_redirect=True)      # '#' right after '>' is a comment: 'echo >#x'
    _check_quotes(tokens)
    redirects = [i for i, t in enumerate(tokens) if t.kind == "redirect"]
    if not redirects and "#" in raw:                 # the words of a command know no comments
        tokens = tokenize(raw, comments=False)
    if any(t.escape for t in tokens):
        raise ParseError("no escaped character")
    if not redirects:
        return Stage([t.value for t in tokens if t.kind == "word"], raw)
    words = [t.value for t in tokens[:redirects[0]] if t.kind == "word"]
    after = _text(tokens[redirects[-1] + 1:]).strip()       # the target: the first word after the last '>'
    if not after:
        raise ParseError("syntax error near unexpected token `newline'")
    target = next((t.value for t in tokenize(after, comments=False) if t.kind == "word"), "")
    return Stage(words, raw, target, tokens[redirects[0]].raw == ">>")


def _check_quotes(tokens: list[Token]) -> None:
    if any(t.quote for t in tokens):
        raise ParseError("unterminated quoted string")


def parse(text: str) -> list[Pipeline]:
    """Parse a whole line: a list of pipelines."""
    return [parse_pipeline(c) for c in split_commands(text)]
