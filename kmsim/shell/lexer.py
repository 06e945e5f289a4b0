"""A pygments lexer for the kmsim command line: commands, options, paths, numbers, pipes.

It reads the line with the parser's tokenizer (kmsim.shell.parser.tokenize), so a word
is highlighted as the word the shell will run.  The word that starts a command must be
a command (after ``|``: a filter); anything else is an Error token, drawn in red, as
the shell will answer "command not found".
"""
from __future__ import annotations

import re
from collections.abc import Collection

from pygments.lexer import Lexer
from pygments.token import Comment, Error, Name, Number, Operator, Punctuation, String, Text

from .core import COMMANDS
from .parser import tokenize

__all__ = ["KmsimLexer", "FILTERS"]

FILTERS = ("grep", "head", "tail", "wc", "sort", "cat")

# what each part of an argument is, tried in order at each position of the word
_ARG_RULES = [
    (re.compile(r"--?[\w-]+(?==)"), Name.Attribute),
    (re.compile(r"--?[A-Za-z][\w-]*"), Name.Attribute),
    (re.compile(r'"[^"]*"?'), String.Double),
    (re.compile(r"'[^']*'?"), String.Single),
    (re.compile(r"0[xX][0-9a-fA-F]+\b"), Number.Hex),
    (re.compile(r"\d+[KMGkmg]?\b(?![^\s;|>])"), Number.Integer),
    (re.compile(r"""(\w+)(=)("[^"]*"?|'[^']*'?|[^\s;|]*)"""), [Name.Variable, Operator, String]),
    (re.compile(r"(?:/|\./|\.\./|~/)[^\s;|>]*|[\w.-]+\.py\b|[\w.-]+/[^\s;|>]*"), String.Other),
    (re.compile(r"[^\s;|>]+"), Text),
]


def _argument(word: str, start: int):
    """(index, token type, text) of the parts of an argument word."""
    pos = 0
    while pos < len(word):
        for rx, kind in _ARG_RULES:
            m = rx.match(word, pos)
            if m is None or not m.group(0):
                continue
            if isinstance(kind, list):          # by groups (token types are tuples)
                for g, sub in enumerate(kind, 1):
                    if m.group(g):
                        yield start + m.start(g), sub, m.group(g)
            else:
                yield start + pos, kind, m.group(0)
            pos = m.end()
            break
        else:                    # a blank inside quotes, a lone quote: plain text
            yield start + pos, Text, word[pos]
            pos += 1


class KmsimLexer(Lexer):
    """Highlights one command line: the command word (known or not), options, paths,
    hex addresses, numbers, param=value, quotes, ``|``, ``;``, ``>`` and ``# comments``."""
    name = "kmsim"
    aliases = ["kmsim"]

    def get_tokens_unprocessed(self, text):
        """(index, token type, text) for the whole line, from the shell's own tokens."""
        pos = 0
        names: Collection[str] = COMMANDS
        command_next = True
        for t in tokenize(text):
            if t.start > pos:            # a line continuation between tokens
                yield pos, Text, text[pos:t.start]
            piece = text[t.start:t.end]
            pos = t.end
            if t.kind == "word" and command_next:
                yield t.start, Name.Function if t.value in names else Error, piece
                command_next = False
            elif t.kind == "word":
                yield from _argument(piece, t.start)
            elif t.kind in ("sep", "pipe"):
                yield t.start, Punctuation if t.kind == "sep" else Operator, piece
                names = COMMANDS if t.kind == "sep" else FILTERS
                command_next = True
            else:
                yield t.start, {"comment": Comment, "redirect": Operator}.get(t.kind, Text), piece
        if pos < len(text):
            yield pos, Text, text[pos:]
