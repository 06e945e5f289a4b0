"""Second audit of the interactive shell: what a student at a terminal ran into.

Completion (quotes, modprobe's parameters), the lexer (filters, '#' inside a word),
the toolbar on a narrow terminal, the memmap legend, NO_COLOR, history of binary
garbage, Enter in a Ctrl-R search and the line after an interrupted command.
"""
from __future__ import annotations

import io
import re

import pytest
from pygments.token import Comment, Error, Name, Text

from kmsim.shell.completion import candidates, current_words, quote_completion, word_start
from kmsim.shell.lexer import KmsimLexer
from kmsim.shell.repl import Repl, _safe_file_history, clean_line
from kmsim.shell.toolbar import Toolbar, fit

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|9[0-7]|38;[0-9;]+)m")


def _tokens(line):
    return [(t, v) for t, v in KmsimLexer().get_tokens(line) if v.strip()]


# -- completion ----------------------------------------------------------------------------

def test_modprobe_completes_the_parameters_of_the_named_module(shell):
    assert candidates(shell, "modprobe hello ") == ["who="]
    assert candidates(shell, "modprobe hello who=bob ") == []        # already given
    assert candidates(shell, "insmod modules/hello.py who=bob ") == []


def test_modprobe_r_offers_only_loaded_modules(shell):
    assert candidates(shell, "modprobe -r ") == []
    shell.execute("insmod modules/hello.py")
    assert candidates(shell, "modprobe -r ") == ["hello"]
    assert candidates(shell, "modinfo hel") == ["hello"]


def test_module_dir_is_not_offered_beside_its_own_files(shell):
    cands = candidates(shell, "insmod mod")
    assert "modules/" not in cands and "modules/hello.py" in cands


def test_a_quoted_word_completes_and_keeps_its_quote(shell):
    assert current_words("cat '/proc/bud") == ["cat", "/proc/bud"]
    assert candidates(shell, "cat '/proc/bud") == ["/proc/buddyinfo"]
    assert candidates(shell, 'cat "/proc/bud') == ["/proc/buddyinfo"]
    assert quote_completion("'/proc/bud", "/proc/buddyinfo") == "'/proc/buddyinfo' "
    assert quote_completion("/proc/bud", "/proc/buddyinfo") == "/proc/buddyinfo "


def test_a_name_with_a_space_is_completed_quoted(shell):
    shell.execute("insmod modules/slab_cache.py")
    cand = candidates(shell, "cat /sys/kernel/slab/exam")
    assert cand == ["/sys/kernel/slab/example cache/"]
    text = "cat " + quote_completion("/sys/kernel/slab/exam", cand[0])
    assert text == "cat '/sys/kernel/slab/example cache/"
    assert "/sys/kernel/slab/example cache/order" in candidates(shell, text + "or")
    assert quote_completion("exa", "example cache") == "'example cache' "


def test_separators_inside_quotes_do_not_start_a_command():
    line = 'echo "a|b;c" | gr'
    assert current_words(line) == ["gr"]
    assert word_start("echo 1 >/proc/sy") == len("echo 1 >")


# -- lexer ---------------------------------------------------------------------------------

def test_a_filter_as_a_command_and_a_command_after_a_pipe_are_errors():
    assert _tokens("grep x")[0] == (Error, "grep")              # 'command not found'
    assert _tokens("lsmod | lsmod")[-1] == (Error, "lsmod")     # 'not a filter'
    assert (Name.Function, "grep") in _tokens("lsmod|grep x")


def test_hash_inside_a_word_is_not_a_comment():
    assert _tokens("echo a#b") == [(Name.Function, "echo"), (Text, "a#b")]
    assert _tokens("lsmod # c")[-1] == (Comment, "# c")


def test_a_quoted_command_word_is_the_command():
    assert _tokens('ls"mod"')[0][0] is Name.Function


# -- toolbar -------------------------------------------------------------------------------

def test_narrow_toolbar_keeps_taint_and_unread_whole(shell):
    shell.execute("insmod modules/hello.py")
    tb = Toolbar(shell)
    for width in (60, 45, 30, 22):
        text = "".join(t for _s, t in fit(tb.variants, width))
        assert len(text) <= width and "taint OE" in text and "unread" in text
    assert "free 943M" in "".join(t for _s, t in fit(tb.variants, 45))


# -- memmap --------------------------------------------------------------------------------

def test_memmap_legend_names_a_module_cache_and_stays_short():
    from conftest import make_shell
    sh = make_shell(mem="64M")
    sh.execute("insmod modules/slab_cache.py")
    out = sh.execute("memmap").out
    legend = [ln.strip() for ln in out[out.index("Legend:"):].splitlines()]
    slabs = [ln for ln in legend if ln.startswith("s slab:")]
    assert slabs[0] == "s slab: example cache (1 frame)"       # the module's cache first
    assert len(legend) < 20
    assert re.search(r"s slab: \d+ other caches \(\d+ frames; slabinfo lists them\)", out)
    assert "DMA32: pfn 0x1000-0x3fdf, 49024K," in out


def test_memmap_sizes_are_exact_on_16g():
    from conftest import make_shell
    out = make_shell(mem="16G").execute("memmap").out
    assert "DMA32: pfn 0x1000-0xfffff, 4080M, one cell = 1024 frames (4M)" in out
    assert "Normal: pfn 0x100000-0x43ffff, 13G," in out


# -- NO_COLOR, history, binary garbage -----------------------------------------------------

def test_no_color_leaves_dmesg_and_messages_uncoloured(shell, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    repl = Repl(shell, out, out)
    repl.run_line("dmesg | head -2")
    repl.run_line("insmod modules/hello.py")
    repl.run_line("x 0xffff888000000000 16")
    assert not COLOUR.search(out.getvalue())
    assert "Hello, world!" in out.getvalue()
    assert shell.highlight_file is None


def test_undecodable_bytes_are_stored_in_history_as_replacement_chars(tmp_path):
    path = tmp_path / "history"
    h = _safe_file_history(str(path))
    h.store_string("echo \udcb4\udcff ok")
    assert "+echo \ufffd\ufffd ok" in path.read_text(encoding="utf-8")
    assert clean_line("a\udc80b") == "a\ufffdb"
    path.unlink()
    path.mkdir()                                   # unwritable: the entry is lost, no error
    h.store_string("lsmod")


# -- in a terminal ---------------------------------------------------------------------------

@pytest.fixture
def term(tmp_path):
    pytest.importorskip("pexpect")
    from test_repl import Term
    t = Term(tmp_path)
    t.prompt()
    yield t
    t.child.close(force=True)


def test_enter_in_ctrl_r_search_runs_the_line(term):
    term.send("uname -r\r")
    term.wait("6.1.0-kmsim")
    term.prompt()
    term.send("\x12unam")
    term.wait("reverse-i-search")
    term.send("\r")                       # one Enter, as in bash
    term.wait("6.1.0-kmsim")
    term.prompt()
    assert term.finish() == 0


def test_binary_garbage_and_interrupt_leave_the_shell_usable(term):
    import os
    os.write(term.child.child_fd, b"echo \xb4\xff\xfe garbage\r")   # not UTF-8
    term.wait("garbage")
    term.prompt()
    term.send("py while True: pass\r")
    term.wait("pass")
    import time
    time.sleep(0.5)
    term.send("\x03")
    term.wait(r"(^|\n)py: interrupted")   # on its own line, not after the echoed ^C
    term.prompt()
    term.send("uname -m\r")
    term.wait("x86_64")
    assert "Traceback" not in term.text
    assert term.finish() == 0
