"""The command-line grammar: lists, pipelines, words, comments, redirection.

A line is split on unquoted ``;`` and newlines into commands, each command on
unquoted ``|`` into a pipeline; ``#`` at the start of a word begins a comment;
a backslash before a newline joins the lines (outside single quotes); words are
split as a POSIX shell splits them.  ``py`` keeps its raw text.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

__all__ = ["ParseError", "Stage", "Pipeline", "split_commands", "parse_pipeline", "parse"]


class ParseError(Exception):
    """A line that cannot be split (an unterminated quote)."""


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


def _scan(text: str, seps: str):
    """Yield (piece, separator) splitting text on unquoted characters of seps; drop comments."""
    buf: list[str] = []
    quote = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and text.startswith("\n", i + 1) and quote != "'":
            i += 2              # a line continuation: both characters vanish
            continue
        if quote:
            buf.append(c)
            if c == "\\" and quote == '"' and i + 1 < n:
                buf.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c == "\\" and i + 1 < n:
            buf.append(c)
            buf.append(text[i + 1])
            i += 1
        elif c in "'\"":
            quote = c
            buf.append(c)
        elif c == "#" and (not buf or buf[-1] in " \t\n;|"):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif c in seps:
            yield "".join(buf), c
            buf = []
        else:
            buf.append(c)
        i += 1
    if quote:
        raise ParseError("unterminated quoted string")
    yield "".join(buf), ""


def split_commands(text: str) -> list[str]:
    """The commands of a line or script, split on unquoted ';' and newlines."""
    return [p.strip() for p, _sep in _scan(text, ";\n") if p.strip()]


def parse_pipeline(cmd: str) -> Pipeline:
    """Split one command into pipeline stages and words."""
    stages = []
    for raw, _sep in _scan(cmd, "|"):
        raw = raw.strip()
        if not raw:
            raise ParseError("syntax error near unexpected token `|'")
        stages.append(_stage(raw))
    return Pipeline(stages, cmd)


def _stage(raw: str) -> Stage:
    first = raw.split(None, 1)[0]
    if first == "py":
        return Stage(["py", raw[2:].strip()], raw)
    redirect, append = None, False
    body = raw
    parts = list(_scan(raw, ">"))
    if len(parts) > 1:
        body = parts[0][0]
        rest = [p for p, _s in parts[1:]]
        append = len(rest) > 1 and rest[0] == ""
        target = rest[-1].strip()
        if not target:
            raise ParseError("syntax error near unexpected token `newline'")
        try:
            redirect = (shlex.split(target) or [""])[0]
        except ValueError as e:          # 'echo > \' : no escaped character
            raise ParseError(str(e).lower()) from None
    try:
        words = shlex.split(body, comments=False, posix=True)
    except ValueError as e:
        raise ParseError(str(e).lower()) from None
    return Stage(words, raw, redirect, append)


def parse(text: str) -> list[Pipeline]:
    """Parse a whole line: a list of pipelines."""
    return [parse_pipeline(c) for c in split_commands(text)]


def scan_options(args: list[str], long_option, short_options) -> list[str]:
    """getopt_long's permuting scan: call long_option(arg, it) for '--name[=value]' and
    short_options(cluster, it) for '-abc' (it yields the following arguments, for option
    values); '--' ends the options.  Returns the operands."""
    operands: list[str] = []
    it = iter(args)
    for a in it:
        if a == "--":
            operands.extend(it)
        elif a.startswith("--"):
            long_option(a, it)
        elif a.startswith("-") and len(a) > 1:
            short_options(a[1:], it)
        else:
            operands.append(a)
    return operands
