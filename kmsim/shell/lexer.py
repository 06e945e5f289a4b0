"""A pygments lexer for the kmsim command line: commands, options, paths, numbers, pipes.

The word that starts a command must be a command (after ``|``: a filter); anything
else is an Error token, drawn in red, as the shell will answer "command not found".
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Error, Name, Number, Operator, Punctuation, String, Text

from .core import COMMANDS

__all__ = ["KmsimLexer", "FILTERS"]

FILTERS = ("grep", "head", "tail", "wc", "sort")

# a word as the parser splits it: unquoted runs and quoted strings (an open quote runs on)
_WORD = r"""(?:[^\s;|>'"]+|"[^"]*"?|'[^']*'?)+"""


def _unquote(word: str) -> str:
    return word.replace('"', "").replace("'", "")


def _command_word(lexer, match):
    """A known command is a function name; anything else is an error."""
    word = match.group(0)
    yield match.start(), Name.Function if _unquote(word) in COMMANDS else Error, word


def _filter_word(lexer, match):
    """After '|' only a filter (grep, head, tail, wc, sort) runs."""
    word = match.group(0)
    yield match.start(), Name.Function if _unquote(word) in FILTERS else Error, word


class KmsimLexer(RegexLexer):
    """Highlights one command line: the command word (known or not), options, paths,
    hex addresses, numbers, param=value, quotes, ``|``, ``;``, ``>`` and ``# comments``."""
    name = "kmsim"
    aliases = ["kmsim"]

    tokens = {
        "root": [
            (r"\s+", Text),
            (r"#.*$", Comment),
            (r";", Punctuation),
            (r"\|", Operator, "filter"),
            (_WORD, _command_word, "args"),
        ],
        "filter": [
            (r"[ \t]+", Text),
            (_WORD, _filter_word, ("#pop", "args")),
            (r"", Text, "#pop"),
        ],
        "args": [
            (r"[ \t]+", Text),
            (r"#.*$", Comment, "#pop"),         # '#' starts a comment only at a word's start
            (r"[;\n]", Punctuation, "#pop"),
            (r"\|", Operator, ("#pop", "filter")),
            (r">>?", Operator),
            (r"--?[\w-]+(?==)", Name.Attribute),
            (r"--?[A-Za-z][\w-]*", Name.Attribute),
            (r'"[^"]*"?', String.Double),
            (r"'[^']*'?", String.Single),
            (r"0[xX][0-9a-fA-F]+\b", Number.Hex),
            (r"\d+[KMGkmg]?\b(?![^\s;|>])", Number.Integer),
            (r"""(\w+)(=)("[^"]*"?|'[^']*'?|[^\s;|]*)""", bygroups(Name.Variable, Operator, String)),
            (r"(?:/|\./|\.\./|~/)[^\s;|>]*|[\w.-]+\.py\b|[\w.-]+/[^\s;|>]*", String.Other),
            (r"[^\s;|>]+", Text),
        ],
    }
