"""linux/list.h: circular doubly-linked lists of ``struct list_head`` in simulated memory.

list.h is all inline code in the kernel, so it is here too: each helper reads
and writes the real ``next``/``prev`` pointers through the kernel's memory (a
student can look at them with ``x ADDR``).  ``list_del`` poisons the entry with
LIST_POISON1/2 as the kernel does, so touching a deleted entry faults.  Helpers
take views or addresses; the ``*_entry`` helpers and iterators give views.

>>> class node(Struct):
...     _fields_ = [("value", int_), ("list", list_head)]
>>> for n in list_for_each_entry(my_list, node, "list"):   # doctest: +SKIP
...     pr_notice("%d\\n", n.value)
"""
from ..kernel import current_kernel
from ..mm.typed import Struct, container_of, offsetof, to_addr
from .types import pointer

# LIST_POISON1/2 depend on the machine: ``from kmsim.linux.list import LIST_POISON1``
# reads them from the current kernel (they are not in __all__ for that reason).
__all__ = ["list_head", "LIST_HEAD", "INIT_LIST_HEAD", "list_add", "list_add_tail", "list_del",
           "list_del_init", "list_move",
           "list_move_tail", "list_replace", "list_empty", "list_is_first", "list_is_last",
           "list_is_head", "list_entry", "list_first_entry", "list_last_entry",
           "list_first_entry_or_null", "list_next_entry", "list_prev_entry", "list_for_each",
           "list_for_each_prev", "list_for_each_safe", "list_for_each_entry",
           "list_for_each_entry_reverse", "list_for_each_entry_safe", "list_count_nodes",
           "container_of"]


class list_head(Struct):
    """struct list_head { struct list_head *next, *prev; };"""
    _fields_ = [("next", pointer), ("prev", pointer)]


def _poison(low: int) -> int:
    # POISON_POINTER_DELTA is CONFIG_ILLEGAL_POINTER_VALUE: 0xdead000000000000 on x86_64.
    return low + (0xdead000000000000 if current_kernel().machine.ptr_size == 8 else 0)


def __getattr__(name):
    """LIST_POISON1 and LIST_POISON2 of the current machine."""
    if name == "LIST_POISON1":
        return _poison(0x100)
    if name == "LIST_POISON2":
        return _poison(0x122)
    raise AttributeError(name)


def _rw():
    """(vm, pointer size) of the current kernel."""
    k = current_kernel()
    return k.vm, k.machine.ptr_size


def _next(vm, ps, a):
    return vm.read_int(a, ps)


def _prev(vm, ps, a):
    return vm.read_int(a + ps, ps)


def _corrupt(line: int, fn: str, fmt: str, *args) -> None:
    """CHECK_DATA_CORRUPTION with CONFIG_BUG_ON_DATA_CORRUPTION=y (Debian's config):
    pr_err the finding, then BUG() at its line of lib/list_debug.c."""
    from ..errors import KernelBUG
    k = current_kernel()
    w = k.machine.ptr_size * 2
    k.printk.emit(3, fmt % tuple(f"{a:0{w}x}" for a in args))
    raise KernelBUG(f"lib/list_debug.c:{line}", rip=f"{fn}.cold+0x1d/0x47")


def _list_add_valid(vm, ps, new, prev, nxt) -> None:
    """__list_add_valid (CONFIG_DEBUG_LIST)."""
    fn = "__list_add_valid"
    if prev == 0:
        _corrupt(23, fn, "list_add corruption. prev is NULL.")
    if nxt == 0:
        _corrupt(25, fn, "list_add corruption. next is NULL.")
    if _prev(vm, ps, nxt) != prev:
        _corrupt(27, fn, "list_add corruption. next->prev should be prev (%s), but was %s. "
                 "(next=%s).", prev, _prev(vm, ps, nxt), nxt)
    if _next(vm, ps, prev) != nxt:
        _corrupt(30, fn, "list_add corruption. prev->next should be next (%s), but was %s. "
                 "(prev=%s).", nxt, _next(vm, ps, prev), prev)
    if new in (prev, nxt):
        _corrupt(33, fn, "list_add double add: new=%s, prev=%s, next=%s.", new, prev, nxt)


def _list_del_entry_valid(vm, ps, e) -> tuple[int, int]:
    """__list_del_entry_valid (CONFIG_DEBUG_LIST): (prev, next) of a linked entry."""
    fn = "__list_del_entry_valid"
    prev, nxt = _prev(vm, ps, e), _next(vm, ps, e)
    if nxt == 0:
        _corrupt(49, fn, "list_del corruption, %s->next is NULL", e)
    if prev == 0:
        _corrupt(51, fn, "list_del corruption, %s->prev is NULL", e)
    if nxt == _poison(0x100):
        _corrupt(53, fn, "list_del corruption, %s->next is LIST_POISON1 (%s)", e, nxt)
    if prev == _poison(0x122):
        _corrupt(56, fn, "list_del corruption, %s->prev is LIST_POISON2 (%s)", e, prev)
    if _next(vm, ps, prev) != e:
        _corrupt(59, fn, "list_del corruption. prev->next should be %s, but was %s. (prev=%s)",
                 e, _next(vm, ps, prev), prev)
    if _prev(vm, ps, nxt) != e:
        _corrupt(62, fn, "list_del corruption. next->prev should be %s, but was %s. (next=%s)",
                 e, _prev(vm, ps, nxt), nxt)
    return prev, nxt


def _link(vm, ps, prev, new, nxt):
    """__list_add: put new between prev and next."""
    _list_add_valid(vm, ps, new, prev, nxt)
    vm.write_int(nxt + ps, ps, new)
    vm.write_int(new, ps, nxt)
    vm.write_int(new + ps, ps, prev)
    vm.write_int(prev, ps, new)


def _unlink(vm, ps, prev, nxt):
    """__list_del: make prev and next point to each other."""
    vm.write_int(nxt + ps, ps, prev)
    vm.write_int(prev, ps, nxt)


def LIST_HEAD():
    """LIST_HEAD(name) at a module's top level: an empty static head in module memory."""
    head = list_head.static()
    INIT_LIST_HEAD(head)
    return head


def INIT_LIST_HEAD(head) -> None:
    """Make head an empty list (next = prev = head)."""
    vm, ps = _rw()
    h = to_addr(head)
    vm.write_int(h, ps, h)
    vm.write_int(h + ps, ps, h)


def list_add(new, head) -> None:
    """Insert new right after head (a stack push)."""
    vm, ps = _rw()
    h = to_addr(head)
    _link(vm, ps, h, to_addr(new), _next(vm, ps, h))


def list_add_tail(new, head) -> None:
    """Insert new right before head (a queue's tail)."""
    vm, ps = _rw()
    h = to_addr(head)
    _link(vm, ps, _prev(vm, ps, h), to_addr(new), h)


def list_del(entry) -> None:
    """Unlink entry and poison its pointers: deleting it again is a list_debug BUG, and
    following its pointers faults."""
    vm, ps = _rw()
    e = to_addr(entry)
    _unlink(vm, ps, *_list_del_entry_valid(vm, ps, e))
    vm.write_int(e, ps, _poison(0x100))
    vm.write_int(e + ps, ps, _poison(0x122))


def list_del_init(entry) -> None:
    """Unlink entry and make it an empty list of its own."""
    vm, ps = _rw()
    e = to_addr(entry)
    _unlink(vm, ps, *_list_del_entry_valid(vm, ps, e))
    INIT_LIST_HEAD(e)


def list_move(entry, head) -> None:
    """Delete entry from its list and add it after head."""
    vm, ps = _rw()
    e = to_addr(entry)
    _unlink(vm, ps, _prev(vm, ps, e), _next(vm, ps, e))
    list_add(e, head)


def list_move_tail(entry, head) -> None:
    """Delete entry from its list and add it before head."""
    vm, ps = _rw()
    e = to_addr(entry)
    _unlink(vm, ps, _prev(vm, ps, e), _next(vm, ps, e))
    list_add_tail(e, head)


def list_replace(old, new) -> None:
    """Put new where old is (old's pointers are left as they were)."""
    vm, ps = _rw()
    o, n = to_addr(old), to_addr(new)
    nxt, prv = _next(vm, ps, o), _prev(vm, ps, o)
    vm.write_int(n, ps, nxt)
    vm.write_int(nxt + ps, ps, n)
    vm.write_int(n + ps, ps, prv)
    vm.write_int(prv, ps, n)


def list_empty(head) -> bool:
    """True when head->next == head."""
    vm, ps = _rw()
    h = to_addr(head)
    return _next(vm, ps, h) == h


def list_is_first(entry, head) -> bool:
    """True when entry is the first of the list."""
    vm, ps = _rw()
    return _prev(vm, ps, to_addr(entry)) == to_addr(head)


def list_is_last(entry, head) -> bool:
    """True when entry is the last of the list."""
    vm, ps = _rw()
    return _next(vm, ps, to_addr(entry)) == to_addr(head)


def list_is_head(entry, head) -> bool:
    """True when entry is the head itself."""
    return to_addr(entry) == to_addr(head)


def list_entry(ptr, T, member: str):
    """The T containing the list_head at ptr (container_of)."""
    return container_of(ptr, T, member)


def list_first_entry(head, T, member: str):
    """The first entry (the list must not be empty, as in C)."""
    vm, ps = _rw()
    return container_of(_next(vm, ps, to_addr(head)), T, member)


def list_last_entry(head, T, member: str):
    """The last entry (the list must not be empty, as in C)."""
    vm, ps = _rw()
    return container_of(_prev(vm, ps, to_addr(head)), T, member)


def list_first_entry_or_null(head, T, member: str):
    """The first entry, or NULL (0) when the list is empty."""
    return 0 if list_empty(head) else list_first_entry(head, T, member)


def list_next_entry(pos, member: str):
    """The entry after pos in its list."""
    vm, ps = _rw()
    T = pos._struct
    return container_of(_next(vm, ps, to_addr(pos) + offsetof(T, member)), T, member)


def list_prev_entry(pos, member: str):
    """The entry before pos in its list."""
    vm, ps = _rw()
    T = pos._struct
    return container_of(_prev(vm, ps, to_addr(pos) + offsetof(T, member)), T, member)


def list_for_each(head):
    """for pos in list_for_each(head): each list_head after head, as views."""
    vm, ps = _rw()
    h = to_addr(head)
    p = _next(vm, ps, h)
    while p != h:
        yield list_head.at(p)
        p = _next(vm, ps, p)          # read after the body, as the C loop does


def list_for_each_prev(head):
    """Each list_head from the last to the first."""
    vm, ps = _rw()
    h = to_addr(head)
    p = _prev(vm, ps, h)
    while p != h:
        yield list_head.at(p)
        p = _prev(vm, ps, p)


def list_for_each_safe(head):
    """Like list_for_each, but the body may delete the current entry."""
    vm, ps = _rw()
    h = to_addr(head)
    p = _next(vm, ps, h)
    while p != h:
        n = _next(vm, ps, p)
        yield list_head.at(p)
        p = n


def list_for_each_entry(head, T, member: str):
    """for pos in list_for_each_entry(head, T, "member"): each entry, first to last."""
    vm, ps = _rw()
    h, off = to_addr(head), offsetof(T, member)
    p = _next(vm, ps, h)
    while p != h:
        yield T.at(p - off)
        p = _next(vm, ps, p)


def list_for_each_entry_reverse(head, T, member: str):
    """Each entry, last to first."""
    vm, ps = _rw()
    h, off = to_addr(head), offsetof(T, member)
    p = _prev(vm, ps, h)
    while p != h:
        yield T.at(p - off)
        p = _prev(vm, ps, p)


def list_for_each_entry_safe(head, T, member: str):
    """Each entry, first to last; the body may list_del and free the current one."""
    vm, ps = _rw()
    h, off = to_addr(head), offsetof(T, member)
    p = _next(vm, ps, h)
    while p != h:
        n = _next(vm, ps, p)
        yield T.at(p - off)
        p = n


def list_count_nodes(head) -> int:
    """How many entries the list has."""
    return sum(1 for _ in list_for_each(head))
