"""The command-line lexer: what each word of a line is."""
from __future__ import annotations

from pygments.token import Comment, Error, Name, Number, Operator, String

from kmsim.shell.lexer import KmsimLexer


def _tokens(line):
    return [(t, v) for t, v in KmsimLexer().get_tokens(line) if v.strip()]


def test_a_full_line():
    toks = _tokens('insmod modules/hello.py who="a b" ; x 0xffff8880 64 | grep 6b # look')
    assert toks[0] == (Name.Function, "insmod")
    assert (String.Other, "modules/hello.py") in toks
    assert (Name.Variable, "who") in toks and (String, '"a b"') in toks
    assert (Name.Function, "x") in toks
    assert (Number.Hex, "0xffff8880") in toks and (Number.Integer, "64") in toks
    assert (Operator, "|") in toks and (Name.Function, "grep") in toks
    assert toks[-1] == (Comment, "# look")


def test_unknown_command_and_options():
    toks = _tokens("frobnicate -x --svg=/tmp/a.svg")
    assert toks[0] == (Error, "frobnicate")
    assert toks[1][0] is Name.Attribute
