"""linux/list.h on list_head structures in simulated memory."""
from __future__ import annotations

import pytest

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
    list_entry,
    list_first_entry,
    list_first_entry_or_null,
    list_for_each,
    list_for_each_entry,
    list_for_each_entry_reverse,
    list_for_each_entry_safe,
    list_head,
    list_is_first,
    list_is_last,
    list_last_entry,
    list_move,
    list_move_tail,
    list_next_entry,
)
from kmsim.linux.types import Struct, addressof, int_, sizeof


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
