"""linux/list.h: circular doubly-linked lists of ``struct list_head`` in simulated memory.

list.h is all inline code in the kernel, so it is here too: each helper reads
and writes the real ``next``/``prev`` pointers through the kernel's memory (a
student can look at them with ``x ADDR``).  ``list_del`` poisons the entry with
LIST_POISON1/2 as the kernel does, so touching a deleted entry faults.  Helpers
take views or addresses; the ``*_entry`` helpers and iterators give views.

As on Debian's 6.1 (CONFIG_DEBUG_LIST), adding and deleting first call the
out-of-line checks of lib/list_debug.c, ``__list_add_valid`` and
``__list_del_entry_valid``: a corrupted list is a ``list_add corruption`` or
``list_del corruption`` line and a BUG.  Everything else is inlined into the
module's function in C, so a fault in it is reported in that function.

>>> class node(Struct):
...     _fields_ = [("value", int_), ("list", list_head)]
>>> for n in list_for_each_entry(my_list, node, "list"):   # doctest: +SKIP
...     pr_notice("%d\\n", n.value)
"""
import types as _types

from ..current import current_kernel
from ..errors import KernelBUG
from ..mm.typed import SCALARS, Struct, container_of, offsetof, to_addr

pointer = SCALARS["pointer"]


# LIST_POISON1/2 depend on the machine: ``from kmsim.linux.list import LIST_POISON1``
# reads them from the current kernel (they are not in __all__ for that reason).
__all__ = ["list_head", "LIST_HEAD", "INIT_LIST_HEAD", "list_add", "list_add_tail", "list_del",
           "list_del_init", "list_move",
           "list_move_tail", "list_replace", "list_empty", "list_is_first", "list_is_last",
           "list_is_head", "list_entry", "list_first_entry", "list_last_entry",
           "list_first_entry_or_null", "list_next_entry", "list_prev_entry", "list_for_each",
           "list_for_each_prev", "list_for_each_safe", "list_for_each_entry",
           "list_for_each_entry_reverse", "list_for_each_entry_safe", "list_count_nodes",
           "container_of",
           # added after API.md's list
           "__list_add_valid", "__list_del_entry_valid", "list_replace_init", "list_swap",
           "list_empty_careful", "list_is_singular", "list_rotate_left", "list_splice",
           "list_splice_tail", "list_splice_init", "list_splice_tail_init",
           "list_for_each_entry_safe_reverse", "list_for_each_entry_continue",
           "list_for_each_entry_from"]


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
    k = current_kernel()
    w = k.machine.ptr_size * 2
    k.printk.emit(3, fmt % tuple(f"{a:0{w}x}" for a in args))
    raise KernelBUG(f"lib/list_debug.c:{line}", rip=f"{fn}.cold+0x1d/0x47")


def __list_add_valid(new, prev, next) -> bool:
    """lib/list_debug.c (CONFIG_DEBUG_LIST): may new go between prev and next?
    A corrupted list or a double add is reported and is a BUG."""
    vm, ps = _rw()
    new, prev, nxt = to_addr(new), to_addr(prev), to_addr(next)
    fn = "__list_add_valid"
    if prev == 0:
        _corrupt(23, fn, "list_add corruption. prev is NULL.")
    if nxt == 0:
        _corrupt(25, fn, "list_add corruption. next is NULL.")
    if vm.read_int(nxt + ps, ps) != prev:
        _corrupt(27, fn, "list_add corruption. next->prev should be prev (%s), but was %s. "
                 "(next=%s).", prev, vm.read_int(nxt + ps, ps), nxt)
    if vm.read_int(prev, ps) != nxt:
        _corrupt(30, fn, "list_add corruption. prev->next should be next (%s), but was %s. "
                 "(prev=%s).", nxt, vm.read_int(prev, ps), prev)
    if new in (prev, nxt):
        _corrupt(33, fn, "list_add double add: new=%s, prev=%s, next=%s.", new, prev, nxt)
    return True


def __list_del_entry_valid(entry) -> bool:
    """lib/list_debug.c (CONFIG_DEBUG_LIST): is entry linked in a list?  A NULL or
    poisoned pointer (a second list_del) or a broken neighbour is reported and is a BUG."""
    vm, ps = _rw()
    e = to_addr(entry)
    fn = "__list_del_entry_valid"
    prev, nxt = vm.read_int(e + ps, ps), vm.read_int(e, ps)
    if nxt == 0:
        _corrupt(49, fn, "list_del corruption, %s->next is NULL", e)
    if prev == 0:
        _corrupt(51, fn, "list_del corruption, %s->prev is NULL", e)
    if nxt == _poison(0x100):
        _corrupt(53, fn, "list_del corruption, %s->next is LIST_POISON1 (%s)", e, nxt)
    if prev == _poison(0x122):
        _corrupt(56, fn, "list_del corruption, %s->prev is LIST_POISON2 (%s)", e, prev)
    if vm.read_int(prev, ps) != e:
        _corrupt(59, fn, "list_del corruption. prev->next should be %s, but was %s. (prev=%s)",
                 e, vm.read_int(prev, ps), prev)
    if vm.read_int(nxt + ps, ps) != e:
        _corrupt(62, fn, "list_del corruption. next->prev should be %s, but was %s. (next=%s)",
                 e, vm.read_int(nxt + ps, ps), nxt)
    return True


def _link(vm, ps, prev, new, nxt):
    """__list_add: put new between prev and next."""
    __list_add_valid(new, prev, nxt)
    vm.write_int(nxt + ps, ps, new)
    vm.write_int(new, ps, nxt)
    vm.write_int(new + ps, ps, prev)
    vm.write_int(prev, ps, new)


def _unlink(vm, ps, prev, nxt):
    """__list_del: make prev and next point to each other."""
    vm.write_int(nxt + ps, ps, prev)
    vm.write_int(prev, ps, nxt)


def _del_entry(vm, ps, e):
    """__list_del_entry: check the entry, then unlink it."""
    __list_del_entry_valid(e)
    _unlink(vm, ps, _prev(vm, ps, e), _next(vm, ps, e))


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
    _del_entry(vm, ps, e)
    vm.write_int(e, ps, _poison(0x100))
    vm.write_int(e + ps, ps, _poison(0x122))


def list_del_init(entry) -> None:
    """Unlink entry and make it an empty list of its own."""
    vm, ps = _rw()
    e = to_addr(entry)
    _del_entry(vm, ps, e)
    INIT_LIST_HEAD(e)


def list_move(entry, head) -> None:
    """Delete entry from its list (checked, as list_del) and add it after head."""
    vm, ps = _rw()
    _del_entry(vm, ps, to_addr(entry))
    list_add(entry, head)


def list_move_tail(entry, head) -> None:
    """Delete entry from its list (checked, as list_del) and add it before head."""
    vm, ps = _rw()
    _del_entry(vm, ps, to_addr(entry))
    list_add_tail(entry, head)


def list_replace(old, new) -> None:
    """Put new where old is (old's pointers are left as they were)."""
    vm, ps = _rw()
    o, n = to_addr(old), to_addr(new)
    nxt, prv = _next(vm, ps, o), _prev(vm, ps, o)
    vm.write_int(n, ps, nxt)
    vm.write_int(nxt + ps, ps, n)
    vm.write_int(n + ps, ps, prv)
    vm.write_int(prv, ps, n)


def list_replace_init(old, new) -> None:
    """Put new where old is, and make old an empty list."""
    list_replace(old, new)
    INIT_LIST_HEAD(old)


def list_swap(entry1, entry2) -> None:
    """Exchange the places of two entries (of one list or of two)."""
    vm, ps = _rw()
    e1, e2 = to_addr(entry1), to_addr(entry2)
    pos = _prev(vm, ps, e2)
    list_del(e2)
    list_replace(e1, e2)
    list_add(e1, e2 if pos == e1 else pos)


def list_empty(head) -> bool:
    """True when head->next == head."""
    vm, ps = _rw()
    h = to_addr(head)
    return _next(vm, ps, h) == h


def list_empty_careful(head) -> bool:
    """True when head->next == head and head->prev == head."""
    vm, ps = _rw()
    h = to_addr(head)
    return _next(vm, ps, h) == h and _prev(vm, ps, h) == h


def list_is_singular(head) -> bool:
    """True when the list has exactly one entry."""
    vm, ps = _rw()
    h = to_addr(head)
    return _next(vm, ps, h) != h and _next(vm, ps, h) == _prev(vm, ps, h)


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


def list_rotate_left(head) -> None:
    """Move the first entry to the end."""
    vm, ps = _rw()
    if not list_empty(head):
        list_move_tail(_next(vm, ps, to_addr(head)), head)


def _splice(vm, ps, lst, prev, nxt) -> None:
    """__list_splice: put the entries of lst between prev and next (no checks, as in C)."""
    first, last = _next(vm, ps, lst), _prev(vm, ps, lst)
    vm.write_int(first + ps, ps, prev)
    vm.write_int(prev, ps, first)
    vm.write_int(last, ps, nxt)
    vm.write_int(nxt + ps, ps, last)


def list_splice(list, head) -> None:
    """Join the entries of list right after head (list itself is left as it was)."""
    vm, ps = _rw()
    h = to_addr(head)
    if not list_empty(list):
        _splice(vm, ps, to_addr(list), h, _next(vm, ps, h))


def list_splice_tail(list, head) -> None:
    """Join the entries of list right before head (list itself is left as it was)."""
    vm, ps = _rw()
    h = to_addr(head)
    if not list_empty(list):
        _splice(vm, ps, to_addr(list), _prev(vm, ps, h), h)


def list_splice_init(list, head) -> None:
    """list_splice, then make list empty."""
    if not list_empty(list):
        list_splice(list, head)
        INIT_LIST_HEAD(list)


def list_splice_tail_init(list, head) -> None:
    """list_splice_tail, then make list empty."""
    if not list_empty(list):
        list_splice_tail(list, head)
        INIT_LIST_HEAD(list)


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
    return _walk(head, _next)


def list_for_each_prev(head):
    """Each list_head from the last to the first."""
    return _walk(head, _prev)


def _walk(head, step):
    vm, ps = _rw()
    h = to_addr(head)
    p = step(vm, ps, h)
    while p != h:
        yield list_head.at(p)
        p = step(vm, ps, p)           # read after the body, as the C loop does


def list_for_each_safe(head):
    """Like list_for_each, but the body may delete the current entry."""
    vm, ps = _rw()
    h = to_addr(head)
    p = _next(vm, ps, h)
    while p != h:
        n = _next(vm, ps, p)
        yield list_head.at(p)
        p = n


def _entries(T, off: int, p: int, h: int, step, safe: bool = False):
    """The loop of the list_for_each_entry macros: from the list_head at p until head."""
    vm, ps = _rw()
    while p != h:
        n = step(vm, ps, p) if safe else 0
        yield T.at(p - off)
        p = n if safe else step(vm, ps, p)     # the plain forms read pos's link after the body


def _loop(head, T, member: str, step, safe: bool = False):
    """A list_for_each_entry loop over head's list, starting at head's step."""
    vm, ps = _rw()
    h, off = to_addr(head), offsetof(T, member)
    return _entries(T, off, step(vm, ps, h), h, step, safe)


def list_for_each_entry(head, T, member: str):
    """for pos in list_for_each_entry(head, T, "member"): each entry, first to last."""
    return _loop(head, T, member, _next)


def list_for_each_entry_reverse(head, T, member: str):
    """Each entry, last to first."""
    return _loop(head, T, member, _prev)


def list_for_each_entry_safe(head, T, member: str):
    """Each entry, first to last; the body may list_del and free the current one."""
    return _loop(head, T, member, _next, safe=True)


def list_for_each_entry_safe_reverse(head, T, member: str):
    """Each entry, last to first; the body may list_del and free the current one."""
    return _loop(head, T, member, _prev, safe=True)


def list_for_each_entry_continue(pos, head, T, member: str):
    """Each entry after pos (a view of a T) until the end of the list."""
    vm, ps = _rw()
    off = offsetof(T, member)
    return _entries(T, off, _next(vm, ps, to_addr(pos) + off), to_addr(head), _next)


def list_for_each_entry_from(pos, head, T, member: str):
    """Each entry from pos (included) until the end of the list."""
    off = offsetof(T, member)
    return _entries(T, off, to_addr(pos) + off, to_addr(head), _next)


def list_count_nodes(head) -> int:
    """How many entries the list has."""
    return sum(1 for _ in list_for_each(head))


# -- inline code ---------------------------------------------------------------------
# In C everything above but lib/list_debug.c's two checks is a macro or an inline
# function, compiled into the module's own function: a fault in it (a poisoned or freed
# entry) is reported at the module's line, never in a list.h function.  The reports
# name the innermost kmsim.linux.* function, so the inline ones run with globals of
# another name (their __module__ stays kmsim.linux.list).
_OUT_OF_LINE = {"__getattr__", "_corrupt", "__list_add_valid", "__list_del_entry_valid"}
_INLINE_GLOBALS = dict(globals(), __name__="kmsim.linux_inline.list")


def _inline(fn):
    f = _types.FunctionType(fn.__code__, _INLINE_GLOBALS, fn.__name__, fn.__defaults__,
                            fn.__closure__)
    f.__doc__, f.__qualname__, f.__module__ = fn.__doc__, fn.__qualname__, fn.__module__
    f.__annotations__ = fn.__annotations__
    return f


for _name, _fn in list(globals().items()):
    if (isinstance(_fn, _types.FunctionType) and _fn.__module__ == __name__
            and _name not in _OUT_OF_LINE and _name != "_inline"):
        globals()[_name] = _INLINE_GLOBALS[_name] = _inline(_fn)
del _name, _fn
