"""linux/list.h: circular doubly-linked lists of ``struct list_head`` (lib/list_debug.c checks them).

The implementation is ``kmsim/lib/list.py``; this header names it.

    struct list_head { struct list_head *next, *prev; };
    LIST_HEAD(name);  void INIT_LIST_HEAD(struct list_head *list);
    void list_add(struct list_head *new, struct list_head *head);
    void list_add_tail(struct list_head *new, struct list_head *head);
    void list_del(struct list_head *entry);  void list_del_init(struct list_head *entry);
    void list_move(struct list_head *list, struct list_head *head);
    void list_move_tail(struct list_head *list, struct list_head *head);
    void list_replace(struct list_head *old, struct list_head *new);
    void list_replace_init(struct list_head *old, struct list_head *new);
    void list_swap(struct list_head *entry1, struct list_head *entry2);
    int list_empty(const struct list_head *head);  int list_empty_careful(const struct list_head *head);
    int list_is_first(const struct list_head *list, const struct list_head *head);
    int list_is_last(const struct list_head *list, const struct list_head *head);
    int list_is_head(const struct list_head *list, const struct list_head *head);
    int list_is_singular(const struct list_head *head);
    void list_rotate_left(struct list_head *head);
    void list_splice(const struct list_head *list, struct list_head *head);  (and _tail, _init, _tail_init)
    size_t list_count_nodes(struct list_head *head);
    list_entry(ptr, type, member)  list_first_entry(ptr, type, member)  list_last_entry(ptr, type, member)
    list_first_entry_or_null(ptr, type, member)  list_next_entry(pos, member)  list_prev_entry(pos, member)
    list_for_each(pos, head)  list_for_each_prev(pos, head)  list_for_each_safe(pos, n, head)
    list_for_each_entry(pos, head, member)  (and _reverse, _safe, _safe_reverse, _continue, _from)
    container_of(ptr, type, member)
    bool __list_add_valid(struct list_head *new, struct list_head *prev, struct list_head *next);
    bool __list_del_entry_valid(struct list_head *entry);
    LIST_POISON1, LIST_POISON2 (of the current machine: from kmsim.linux.list import LIST_POISON1)
"""
from ..lib import list as _impl
from ..lib.list import (
    INIT_LIST_HEAD,
    LIST_HEAD,
    __list_add_valid,
    __list_del_entry_valid,
    container_of,
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
    list_for_each_prev,
    list_for_each_safe,
    list_head,
    list_is_first,
    list_is_head,
    list_is_last,
    list_is_singular,
    list_last_entry,
    list_move,
    list_move_tail,
    list_next_entry,
    list_prev_entry,
    list_replace,
    list_replace_init,
    list_rotate_left,
    list_splice,
    list_splice_init,
    list_splice_tail,
    list_splice_tail_init,
    list_swap,
)


def __getattr__(name: str) -> int:
    """LIST_POISON1 and LIST_POISON2 of the current machine."""
    return _impl.__getattr__(name)


__all__ = ["list_head", "LIST_HEAD", "INIT_LIST_HEAD", "list_add", "list_add_tail", "list_del",
           "list_del_init", "list_move", "list_move_tail", "list_replace", "list_empty",
           "list_is_first", "list_is_last", "list_is_head", "list_entry", "list_first_entry",
           "list_last_entry", "list_first_entry_or_null", "list_next_entry", "list_prev_entry",
           "list_for_each", "list_for_each_prev", "list_for_each_safe", "list_for_each_entry",
           "list_for_each_entry_reverse", "list_for_each_entry_safe", "list_count_nodes",
           "container_of", "__list_add_valid", "__list_del_entry_valid", "list_replace_init",
           "list_swap", "list_empty_careful", "list_is_singular", "list_rotate_left",
           "list_splice", "list_splice_tail", "list_splice_init", "list_splice_tail_init",
           "list_for_each_entry_safe_reverse", "list_for_each_entry_continue",
           "list_for_each_entry_from"]
