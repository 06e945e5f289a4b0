"""The command-line lexer: what each word of a line is."""
from __future__ import annotations

from pygments.token import Comment, Error, Name, Number, Operator, String, Text

from kmsim.shell.completion import current_words, word_start
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


def test_separators_inside_quotes_do_not_start_a_command():
    line = 'echo "a|b;c" | gr'
    assert current_words(line) == ["gr"]
    assert word_start("echo 1 >/proc/sy") == len("echo 1 >")


def test_a_filter_is_a_command_and_a_command_after_a_pipe_is_an_error():
    assert _tokens("grep x /proc/slabinfo")[0] == (Name.Function, "grep")     # reads its FILE
    assert _tokens("lsmod | lsmod")[-1] == (Error, "lsmod")     # 'not a filter'
    assert (Name.Function, "grep") in _tokens("lsmod|grep x")


def test_hash_inside_a_word_is_not_a_comment():
    assert _tokens("echo a#b") == [(Name.Function, "echo"), (Text, "a#b")]
    assert _tokens("lsmod # c")[-1] == (Comment, "# c")


def test_a_quoted_command_word_is_the_command():
    assert _tokens('ls"mod"')[0][0] is Name.Function
