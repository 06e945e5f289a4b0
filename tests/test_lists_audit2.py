"""Audit of list.h, kfifo.h and string.h against Linux 6.1 (lib/list_debug.c, lib/kfifo.c,
lib/string.c): the text a user sees for the mistakes students make."""
from __future__ import annotations

import re

from kmsim.linux.gfp import GFP_KERNEL, __get_free_page
from kmsim.linux.list import (
    list_empty,
    list_empty_careful,
    list_first_entry,
    list_for_each_entry,
    list_for_each_entry_continue,
    list_for_each_entry_from,
    list_for_each_entry_safe_reverse,
    list_head,
    list_is_singular,
    list_last_entry,
    list_next_entry,
    list_rotate_left,
    list_splice,
    list_splice_tail_init,
    list_swap,
)
from kmsim.linux.string import strcmp, strncmp, strscpy
from kmsim.linux.types import Struct, int_

HEAD = '''from kmsim.linux import *
class node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]
numbers = LIST_HEAD()
def build(k):
    for v in range(k):
        n = node.at(kmalloc(sizeof(node), GFP_KERNEL))
        n.value = v
        list_add_tail(addressof(n, "list"), numbers)
def e():
    pass
module_init(i); module_exit(e); MODULE_LICENSE("GPL")
'''


def load(shell, tmp_path, name, body):
    """insmod a module whose init is body; its dmesg lines, without timestamps."""
    (tmp_path / f"{name}.py").write_text("def i():\n" + body + "\n" + HEAD)
    seq = shell.kernel.printk.next_seq
    shell.execute(f"insmod {tmp_path / name}.py")
    return [r.text for r in shell.kernel.printk.since(seq)]


def test_list_move_of_a_deleted_entry_is_a_list_del_report(shell, tmp_path):
    out = load(shell, tmp_path, "mv", "    build(2)\n    n = list_first_entry(numbers, node, 'list')\n"
               "    list_del(addressof(n, 'list'))\n    pr_info('%px\\n', addressof(n, 'list'))\n"
               "    list_move(addressof(n, 'list'), numbers)\n    return 0")
    entry = out[out.index("kernel BUG at lib/list_debug.c:53!") - 3]
    assert out[out.index(entry) + 1] == (f"list_del corruption, {entry}->next is LIST_POISON1 "
                                         f"(dead000000000100)")
    assert "RIP: 0010:__list_del_entry_valid.cold+0x1d/0x47" in out


def test_deleting_in_a_plain_loop_faults_in_list_del_entry_valid(shell, tmp_path):
    out = load(shell, tmp_path, "walk", "    build(3)\n    for pos in list_for_each(numbers):\n"
               "        list_del(pos)\n    return 0")
    assert ("general protection fault, probably for non-canonical address 0xdead000000000108: "
            "0000 [#1] PREEMPT SMP NOPTI") in out
    rip = [ln for ln in out if ln.startswith("RIP: 0010:")]      # the Oops, then its executive summary
    assert len(rip) == 2 and rip[0] == rip[1] and rip[0].startswith("RIP: 0010:__list_del_entry_valid+0x")
    assert not any(re.match(r" ?_(next|prev|link|unlink|entries)\+", ln) for ln in out)


def test_kasan_use_after_free_in_a_list_loop_is_in_the_module_function():
    import tempfile
    from pathlib import Path

    from tests.conftest import make_shell
    shell = make_shell(append="kasan")
    with tempfile.TemporaryDirectory() as d:
        out = load(shell, Path(d), "uaf", "    build(3)\n"
                   "    for n in list_for_each_entry(numbers, node, 'list'):\n"
                   "        kfree(n.addr)\n    return 0")
    title = next(ln for ln in out if ln.startswith("BUG: KASAN"))
    assert re.fullmatch(r"BUG: KASAN: use-after-free in i\+0x[0-9a-f]+/0x[0-9a-f]+ \[uaf\]", title)
    trace = out[out.index(" kasan_report+0xc2/0x100") + 1]
    assert trace.startswith(" i+0x") and trace.endswith(" [uaf]")


def test_a_typo_in_the_member_names_the_macro(shell, tmp_path):
    out = load(shell, tmp_path, "typo", "    for n in list_for_each_entry(numbers, node, 'lst'):\n"
               "        pass\n    return 0")
    assert "kmsim: list_for_each_entry(): AttributeError: struct node has no member named 'lst'" in out
    assert any(re.fullmatch(r"RIP: 0010:i\+0x[0-9a-f]+/0x[0-9a-f]+ \[typo\]", ln) for ln in out)


def test_double_add_reports(shell, tmp_path):
    out = load(shell, tmp_path, "dadd", "    build(1)\n    n = list_first_entry(numbers, node, 'list')\n"
               "    list_add(addressof(n, 'list'), numbers)\n    return 0")
    line = next(ln for ln in out if ln.startswith("list_add double add"))
    new, prev, nxt = re.fullmatch(r"list_add double add: new=([0-9a-f]{16}), prev=([0-9a-f]{16}), "
                                  r"next=([0-9a-f]{16})\.", line).groups()
    assert new == nxt != prev
    assert "kernel BUG at lib/list_debug.c:33!" in out


class node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]


def lst(values):
    """A list of nodes on a page of its own (test_list's builder)."""
    from test_list import build
    return build(values)


def vals(head):
    """The values, first to last."""
    return [n.value for n in list_for_each_entry(head, node, "list")]


def test_splice_singular_rotate_and_swap(kernel):
    a, b = lst([1, 2]), lst([100, 101])
    list_splice(b, a)
    assert vals(a) == [100, 101, 1, 2]
    c, d = lst([1, 2]), lst([100, 101])
    list_splice_tail_init(d, c)
    assert vals(c) == [1, 2, 100, 101] and list_empty(d) and list_empty_careful(d)
    assert not list_is_singular(c) and list_is_singular(lst([5]))
    list_rotate_left(c)
    assert vals(c) == [2, 100, 101, 1]
    first, last = list_first_entry(c, node, "list"), list_last_entry(c, node, "list")
    list_swap(first.list, last.list)
    assert vals(c) == [1, 100, 101, 2]
    assert [n.value for n in list_for_each_entry_safe_reverse(c, node, "list")] == [2, 101, 100, 1]
    second = list_next_entry(list_first_entry(c, node, "list"), "list")
    assert [n.value for n in list_for_each_entry_continue(second, c, node, "list")] == [101, 2]
    assert [n.value for n in list_for_each_entry_from(second, c, node, "list")] == [100, 101, 2]


def test_string_functions_read_no_further_than_lib_string_c(shell, tmp_path):
    from tests.conftest import make_shell
    shell = make_shell(append="kasan")
    out = load(shell, tmp_path, "strk", "    p = kmalloc(8, GFP_KERNEL)\n    strcpy(p, 'abc')\n"
               "    q = kmalloc(8, GFP_KERNEL)\n    memcpy(q, 'abcdefgh', 8)\n"
               "    d = kmalloc(8, GFP_KERNEL)\n"
               "    pr_info('%d %d %d %d\\n', strlen(p), strcmp(p, 'abd'), strncmp(q, 'abcdefgh', 8),"
               " strscpy(d, q, 8))\n    return 0")
    assert "3 -1 0 -7" in out
    assert not any("KASAN" in ln for ln in out)


def test_strscpy_zeroes_the_rest_of_the_word(kernel):
    page = __get_free_page(GFP_KERNEL)
    kernel.vm.write(page, b"\xff" * 16)
    assert strscpy(page, "Test", 10) == 4
    assert kernel.vm.read(page, 12) == b"Test\0\0\0\0\xff\xff\xff\xff"
    kernel.vm.write(page, b"\xff" * 16)
    assert strscpy(page, "Testing", 6) == -7
    assert kernel.vm.read(page, 8) == b"Testi\0\xff\xff"
    kernel.vm.write(page, b"\xff" * 16)
    assert strscpy(page, "abcdefghij", 12) == 10             # the NUL's word passes count
    assert kernel.vm.read(page, 12) == b"abcdefghij\0\xff"
    assert strcmp("a", "b") == -1 and strncmp("abc", "abd", 2) == 0


def test_kfifo_sizes_are_unsigned_int(shell, tmp_path):
    out = load(shell, tmp_path, "kf", "    q = kfifo.static()\n"
               "    for n in (0, 1, -1, 0x80000001, 5):\n"
               "        pr_info('kfifo_alloc(%d) = %d, size %u\\n', n, kfifo_alloc(q, n, GFP_KERNEL),"
               " kfifo_size(q))\n"
               "    pr_info('in %u len %u\\n', kfifo_in(q, 'abcdefghijk', -1), kfifo_len(q))\n"
               "    kfifo_free(q)\n    return 0")
    assert [ln for ln in out if ln.startswith(("kfifo_alloc", "in "))] == [
        "kfifo_alloc(0) = -22, size 1", "kfifo_alloc(1) = -22, size 1",
        "kfifo_alloc(-1) = -22, size 1", "kfifo_alloc(-2147483647) = -22, size 1",
        "kfifo_alloc(5) = 0, size 8", "in 8 len 8"]
    assert not any(ln.startswith("WARNING") for ln in out)
