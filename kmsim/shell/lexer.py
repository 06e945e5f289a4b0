"""A pygments lexer for the kmsim command line: commands, options, paths, numbers, pipes."""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Error, Name, Number, Operator, Punctuation, String, Text

__all__ = ["KmsimLexer", "FILTERS"]

FILTERS = ("grep", "head", "tail", "wc", "sort")


def _command_word(lexer, match):
    """A known command (or filter) is a function name; anything else is an error."""
    from .core import COMMANDS
    word = match.group(0)
    yield match.start(), Name.Function if word in COMMANDS or word in FILTERS else Error, word


class KmsimLexer(RegexLexer):
    """Highlights one command line: the command word (known or not), options, paths,
    hex addresses, numbers, param=value, quotes, ``|``, ``;``, ``>`` and ``# comments``."""
    name = "kmsim"
    aliases = ["kmsim"]

    tokens = {
        "root": [
            (r"\s+", Text),
            (r"#.*$", Comment),
            (r"[^\s;|#]+", _command_word, "args"),
        ],
        "args": [
            (r"[ \t]+", Text),
            (r"#.*$", Comment, "#pop"),
            (r"[;\n]", Punctuation, "#pop"),
            (r"\|", Operator, "#pop"),
            (r">>?", Operator),
            (r"--?[\w-]+(?==)", Name.Attribute),
            (r"--?[A-Za-z][\w-]*", Name.Attribute),
            (r'"[^"]*"?', String.Double),
            (r"'[^']*'?", String.Single),
            (r"0[xX][0-9a-fA-F]+\b", Number.Hex),
            (r"\d+[KMGkmg]?\b", Number.Integer),
            (r"""(\w+)(=)("[^"]*"?|'[^']*'?|[^\s;|#]*)""", bygroups(Name.Variable, Operator, String)),
            (r"(?:/|\./|\.\./|~/)[^\s;|#>]*|[\w.-]+\.py\b|[\w.-]+/[^\s;|#>]*", String.Other),
            (r"[^\s;|#>]+", Text),
        ],
    }

