"""linux/list.h on list_head structures in simulated memory."""
from __future__ import annotations

import re

import pytest
from inline_modules import load, load_nodes, texts

from kmsim.errors import KernelBUG, PageFault
from kmsim.kernel import Kernel
from kmsim.linux.gfp import GFP_KERNEL, __get_free_page
from kmsim.linux.list import (
    INIT_LIST_HEAD,
    list_add,
    list_add_tail,
    list_count_nodes,
    list_del,
    list_del_init,
    list_empty,
    list_empty_careful,
    list_entry,
    list_first_entry,
    list_first_entry_or_null,
    list_for_each,
    list_for_each_entry,
    list_for_each_entry_continue,
    list_for_each_entry_from,
    list_for_each_entry_reverse,
    list_for_each_entry_safe,
    list_for_each_entry_safe_reverse,
    list_head,
    list_is_first,
    list_is_last,
    list_is_singular,
    list_last_entry,
    list_move,
    list_move_tail,
    list_next_entry,
    list_rotate_left,
    list_splice,
    list_splice_tail_init,
    list_swap,
)
from kmsim.linux.types import Struct, addressof, int_, sizeof
from tests.conftest import make_shell


class node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]


def build(values, add=None):
    """A page of nodes linked on a head at the page's start."""
    page = __get_free_page(GFP_KERNEL)
    head = list_head.at(page)
    INIT_LIST_HEAD(head)
    for i, v in enumerate(values):
        n = node.at(page + 64 + i * sizeof(node))
        n.value = v
        (add or list_add_tail)(n.list, head)
    return head


def values(it):
    return [n.value for n in it]


def test_init_list_head_points_to_itself(kernel):
    head = build([])
    assert head.next == head.prev == head.addr
    assert list_empty(head)


def test_add_tail_is_fifo_add_is_lifo(kernel):
    h1 = build([1, 2, 3])
    assert values(list_for_each_entry(h1, node, "list")) == [1, 2, 3]
    assert values(list_for_each_entry_reverse(h1, node, "list")) == [3, 2, 1]
    h2 = build([1, 2, 3], list_add)
    assert values(list_for_each_entry(h2, node, "list")) == [3, 2, 1]


def test_pointers_are_real_memory(kernel):
    head = build([7])
    first = list_first_entry(head, node, "list")
    assert kernel.vm.read_int(head.addr, 8) == addressof(first, "list")
    assert first.list.next == head.addr and first.list.prev == head.addr
    assert list_is_last(first.list, head) and list_is_first(first.list, head)


def test_first_last_entry_and_container_of(kernel):
    head = build([4, 5, 6])
    assert list_first_entry(head, node, "list").value == 4
    assert list_last_entry(head, node, "list").value == 6
    pos = next(iter(list_for_each(head)))
    assert list_entry(pos, node, "list").value == 4
    assert list_next_entry(list_first_entry(head, node, "list"), "list").value == 5
    assert list_count_nodes(head) == 3


def test_list_del_poisons_the_entry(kernel):
    head = build([1, 2])
    first = list_first_entry(head, node, "list")
    list_del(first.list)
    assert first.list.next == 0xdead000000000100
    assert first.list.prev == 0xdead000000000122
    assert values(list_for_each_entry(head, node, "list")) == [2]
    with pytest.raises(KernelBUG) as e:              # CONFIG_DEBUG_LIST, as Debian's 6.1
        list_del(first.list)
    assert e.value.where == "lib/list_debug.c:53"
    assert kernel.printk.records[-1].text == (
        f"list_del corruption, {first.list.addr:016x}->next is LIST_POISON1 (dead000000000100)")
    with pytest.raises(PageFault) as e:              # following the poison faults
        _ = list_head.at(first.list.next).next
    assert e.value.addr == 0xdead000000000100


def test_list_poison_on_32bit_is_near_null():
    Kernel("i386", "64M", "", seed=1)
    from kmsim.linux import list as L
    assert (L.LIST_POISON1, L.LIST_POISON2) == (0x100, 0x122)


def test_safe_iteration_survives_deleting_the_current_entry(kernel):
    head = build([1, 2, 3, 4])
    seen = []
    for n in list_for_each_entry_safe(head, node, "list"):
        seen.append(n.value)
        list_del(n.list)
    assert seen == [1, 2, 3, 4] and list_empty(head)


def test_unsafe_iteration_after_delete_faults(kernel):
    head = build([1, 2])
    with pytest.raises(PageFault):
        for n in list_for_each_entry(head, node, "list"):
            list_del(n.list)


def test_del_init_move_and_replace(kernel):
    head = build([1, 2, 3])
    first = list_first_entry(head, node, "list")
    list_del_init(first.list)
    assert list_empty(first.list)
    list_add_tail(first.list, head)
    assert values(list_for_each_entry(head, node, "list")) == [2, 3, 1]
    list_move(first.list, head)
    assert values(list_for_each_entry(head, node, "list")) == [1, 2, 3]
    list_move_tail(first.list, head)
    assert values(list_for_each_entry(head, node, "list")) == [2, 3, 1]
    assert list_first_entry_or_null(build([]), node, "list") == 0


def test_static_list_head_in_a_module(shell, tmp_path):
    mod = tmp_path / "listmod.py"
    mod.write_text(
        "from kmsim.linux import *\n"
        "class item(Struct):\n    _fields_ = [('v', int_), ('list', list_head)]\n"
        "my_list = LIST_HEAD()\npage = 0\n"
        "def i():\n    global page\n    page = __get_free_page(GFP_KERNEL)\n"
        "    for k in range(3):\n        it = item.at(page + k * sizeof(item))\n"
        "        it.v = k * 10\n        list_add(addressof(it, 'list'), my_list)\n"
        "    pr_notice('%px %d\\n', my_list, list_empty(my_list))\n    return 0\n"
        "def e():\n    for it in list_for_each_entry(my_list, item, 'list'):\n"
        "        pr_notice('v=%d\\n', it.v)\n    free_page(page)\n"
        "module_init(i)\nmodule_exit(e)\nMODULE_LICENSE('GPL')\n")
    assert shell.execute(f"insmod {mod}").status == 0
    k = shell.kernel
    head_addr = int(shell.execute("dmesg").out.splitlines()[-1].split()[-2], 16)
    mod_obj = k.modules.modules["listmod"]
    assert any(a <= head_addr < a + s for a, s in mod_obj.chunks)
    assert shell.execute("rmmod listmod").status == 0
    assert [ln.split()[-1] for ln in shell.execute("dmesg").out.splitlines()[-3:]] == \
        ["v=20", "v=10", "v=0"]


DOUBLE_DEL = """
class node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]
head = LIST_HEAD()
def t_init():
    n = node.at(kzalloc(sizeof(node), GFP_KERNEL))
    list_add(addressof(n, "list"), head)
    list_del(addressof(n, "list"))
    list_del(addressof(n, "list"))
    return 0
def t_exit():
    pass
"""


USE_AFTER_DEL = DOUBLE_DEL.replace("    list_del(addressof(n, \"list\"))\n    return 0",
                                   "    list_head.at(n.list.next).next = 0\n    return 0")


def test_double_list_del_is_the_list_debug_bug(tmp_path):
    sh, st = load(tmp_path, DOUBLE_DEL)
    assert st != 0
    lines = texts(sh)
    assert any(ln.startswith("list_del corruption, ") and
               ln.endswith("->next is LIST_POISON1 (dead000000000100)") for ln in lines)
    assert "kernel BUG at lib/list_debug.c:53!" in lines


def test_deleted_list_entry_on_x86_64_is_a_general_protection_fault(tmp_path):
    assert USE_AFTER_DEL != DOUBLE_DEL
    sh, st = load(tmp_path, USE_AFTER_DEL)
    assert st != 0
    lines = texts(sh)
    assert ("general protection fault, probably for non-canonical address "
            "0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI") in lines
    assert not any(ln.startswith(("#PF:", "BUG: unable")) or ln.startswith("CR2:") and "CR3:" not in ln
                   for ln in lines)


def test_deleted_list_entry_on_i386_is_a_null_dereference(tmp_path):
    sh, st = load(tmp_path, USE_AFTER_DEL, "i386")
    assert st != 0
    assert "BUG: kernel NULL pointer dereference, address: 00000100" in texts(sh)


def lst(values):
    """A list of nodes on a page of its own (test_list's builder)."""
    from lib.test_list import build
    return build(values)


def vals(head):
    """The values, first to last."""
    return [n.value for n in list_for_each_entry(head, node, "list")]


def test_list_move_of_a_deleted_entry_is_a_list_del_report(shell, tmp_path):
    out = load_nodes(shell, tmp_path, "mv", "    build(2)\n    n = list_first_entry(numbers, node, 'list')\n"
               "    list_del(addressof(n, 'list'))\n    pr_info('%px\\n', addressof(n, 'list'))\n"
               "    list_move(addressof(n, 'list'), numbers)\n    return 0")
    entry = out[out.index("kernel BUG at lib/list_debug.c:53!") - 3]
    assert out[out.index(entry) + 1] == (f"list_del corruption, {entry}->next is LIST_POISON1 "
                                         f"(dead000000000100)")
    assert "RIP: 0010:__list_del_entry_valid.cold+0x1d/0x47" in out


def test_deleting_in_a_plain_loop_faults_in_list_del_entry_valid(shell, tmp_path):
    out = load_nodes(shell, tmp_path, "walk", "    build(3)\n    for pos in list_for_each(numbers):\n"
               "        list_del(pos)\n    return 0")
    assert ("general protection fault, probably for non-canonical address 0xdead000000000108: "
            "0000 [#1] PREEMPT SMP NOPTI") in out
    rip = [ln for ln in out if ln.startswith("RIP: 0010:")]      # the Oops, then its executive summary
    assert len(rip) == 2 and rip[0] == rip[1] and rip[0].startswith("RIP: 0010:__list_del_entry_valid+0x")
    assert not any(re.match(r" ?_(next|prev|link|unlink|entries)\+", ln) for ln in out)


def test_kasan_use_after_free_in_a_list_loop_is_in_the_module_function():
    import tempfile
    from pathlib import Path

    shell = make_shell(append="kasan")
    with tempfile.TemporaryDirectory() as d:
        out = load_nodes(shell, Path(d), "uaf", "    build(3)\n"
                   "    for n in list_for_each_entry(numbers, node, 'list'):\n"
                   "        kfree(n.addr)\n    return 0")
    title = next(ln for ln in out if ln.startswith("BUG: KASAN"))
    assert re.fullmatch(r"BUG: KASAN: use-after-free in i\+0x[0-9a-f]+/0x[0-9a-f]+ \[uaf\]", title)
    trace = out[out.index(" kasan_report+0xc2/0x100") + 1]
    assert trace.startswith(" i+0x") and trace.endswith(" [uaf]")


def test_a_typo_in_the_member_names_the_macro(shell, tmp_path):
    out = load_nodes(shell, tmp_path, "typo", "    for n in list_for_each_entry(numbers, node, 'lst'):\n"
               "        pass\n    return 0")
    assert "kmsim: list_for_each_entry(): AttributeError: struct node has no member named 'lst'" in out
    assert any(re.fullmatch(r"RIP: 0010:i\+0x[0-9a-f]+/0x[0-9a-f]+ \[typo\]", ln) for ln in out)


def test_double_add_reports(shell, tmp_path):
    out = load_nodes(shell, tmp_path, "dadd",
                     "    build(1)\n    n = list_first_entry(numbers, node, 'list')\n"
                     "    list_add(addressof(n, 'list'), numbers)\n    return 0")
    line = next(ln for ln in out if ln.startswith("list_add double add"))
    new, prev, nxt = re.fullmatch(r"list_add double add: new=([0-9a-f]{16}), prev=([0-9a-f]{16}), "
                                  r"next=([0-9a-f]{16})\.", line).groups()
    assert new == nxt != prev
    assert "kernel BUG at lib/list_debug.c:33!" in out


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
