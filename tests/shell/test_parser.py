"""The command-line grammar: one tokenizer (kmsim/shell/parser.py) for parsing, completion
and highlighting."""
from __future__ import annotations

import pytest

from kmsim.shell.parser import ParseError, parse, split_commands, tokenize


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.value if t.kind == "word" else t.raw) for t in tokenize(text) if t.kind != "blank"]


def test_tokens_of_a_line_with_every_kind():
    assert _kinds("cat '/proc/a b' x\\ y | grep -c \"k\\\"m\" > out; ls # done") == [
        ("word", "cat"), ("word", "/proc/a b"), ("word", "x y"), ("pipe", "|"), ("word", "grep"),
        ("word", "-c"), ("word", 'k"m'), ("redirect", ">"), ("word", "out"), ("sep", ";"),
        ("word", "ls"), ("comment", "# done")]


def test_hash_begins_a_comment_only_at_a_words_start():
    assert _kinds("echo a#b '#' #c") == [("word", "echo"), ("word", "a#b"), ("word", "#"), ("comment", "#c")]
    assert _kinds("lsmod|#x") == [("word", "lsmod"), ("pipe", "|"), ("comment", "#x")]


def test_an_open_quote_is_marked_not_raised():
    t = tokenize("cat '/proc/bu")[-1]
    assert (t.kind, t.value, t.quote, t.start) == ("word", "/proc/bu", "'", 4)
    assert tokenize("echo a\\")[-1].escape


def test_a_continuation_joins_lines_and_the_raws_rebuild_the_line():
    tokens = tokenize("ec\\\nho 'a\\\nb' \"c\\\nd\"")
    assert [t.value for t in tokens if t.kind == "word"] == ["echo", "a\\\nb", "cd"]
    assert "".join(t.raw for t in tokens) == "echo 'a\\\nb' \"cd\""


def test_commands_pipelines_and_redirections():
    (first, second) = parse("dmesg | grep -i oom >> log.txt; py print('a|b'); ")
    assert [s.words for s in first.stages] == [["dmesg"], ["grep", "-i", "oom"]]
    assert (first.stages[1].redirect, first.stages[1].append) == ("log.txt", True)
    assert second.stages[0].words == ["py", "print('a|b')"]
    assert split_commands("a;; b\n# c\nd 'x;y'") == ["a", "b", "d 'x;y'"]


@pytest.mark.parametrize("line, message", [
    ("echo 'abc", "unterminated quoted string"), ("lsmod | | wc", "syntax error near unexpected token `|'"),
    ("echo >", "syntax error near unexpected token `newline'"), ("echo a\\", "no escaped character"),
    ("echo >#x", "syntax error near unexpected token `newline'"),
])
def test_lines_that_cannot_be_split(line, message):
    with pytest.raises(ParseError, match=message):
        parse(line)


def test_completion_and_highlighting_read_the_same_words():
    from kmsim.shell.completion import current_words, word_start
    from kmsim.shell.lexer import KmsimLexer
    from tests.conftest import make_shell
    make_shell()                     # every command registered
    assert current_words("lsmod|gr") == ["gr"] and word_start("lsmod|gr") == 6
    assert current_words("echo a\\;b x") == ["echo", "a;b", "x"]
    toks = [(str(t), v) for t, v in KmsimLexer().get_tokens("l's'mod | 'gr'ep x") if v.strip()]
    assert toks[0] == ("Token.Name.Function", "l's'mod") and toks[2] == ("Token.Name.Function", "'gr'ep")
