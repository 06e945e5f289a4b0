"""Struct layouts: clang's for each target machine equal kmsim's Struct layout (typed.py)."""
from __future__ import annotations

import pytest

from kmsim.cc.clang import parse
from kmsim.linux.kfifo import kfifo
from kmsim.linux.list import list_head
from kmsim.linux.types import Struct, char, int_, long, pointer, s64, u8, u16, unsigned_int
from kmsim.machine import PROFILES
from kmsim.mm.typed import _ctype, abi_of


class example_struct(Struct):
    _fields_ = [("id", unsigned_int), ("example_string", char * 10)]


class dlist_node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]


class stack_node(Struct):
    _fields_ = [("value", int_), ("next", pointer)]


class mixed(Struct):
    _fields_ = [("c", char), ("x", s64), ("h", u16), ("p", pointer), ("b", u8), ("l", long)]


class nested(Struct):
    _fields_ = [("b", u8), ("m", mixed), ("a", int_ * 3), ("e", example_struct)]


C = """
#include <linux/types.h>
#include <linux/list.h>
#include <linux/kfifo.h>
struct example_struct { unsigned int id; char example_string[10]; };
struct dlist_node { int value; struct list_head list; };
struct stack_node { int value; struct stack_node *next; };
struct mixed { char c; s64 x; u16 h; void *p; u8 b; long l; };
struct nested { u8 b; struct mixed m; int a[3]; struct example_struct e; };
"""
STRUCTS = {"example_struct": example_struct, "dlist_node": dlist_node, "stack_node": stack_node,
           "mixed": mixed, "nested": nested, "list_head": list_head, "kfifo": kfifo}


def clang_layouts(machine: str) -> dict[str, tuple[int, int, dict[str, int]]]:
    """{struct: (size, align, {field: offset})} as clang lays them out for a machine."""
    from clang.cindex import CursorKind
    tu, _w = parse("/tmp/kmsim_layout.c", C, machine)
    out = {}
    for c in tu.cursor.walk_preorder():
        if c.kind == CursorKind.STRUCT_DECL and c.spelling in STRUCTS and c.is_definition():
            t = c.type
            out[c.spelling] = (t.get_size(), t.get_align(),
                               {f.spelling: t.get_offset(f.spelling) // 8 for f in t.get_fields()})
    return out


@pytest.mark.parametrize("machine", ["x86_64", "i386", "rpi2"])
def test_clang_and_kmsim_lay_out_the_labs_structs_alike(machine):
    abi = abi_of(PROFILES[machine])
    got = clang_layouts(machine)
    assert set(got) == set(STRUCTS)
    for name, cls in STRUCTS.items():
        lay = _ctype(cls).layout(abi)
        size, align, offsets = got[name]
        assert (lay.size, lay.align) == (size, align), f"{name} on {machine}"
        assert lay.offsets == offsets, f"{name} on {machine}"


def test_the_targets_differ_where_their_abis_do():
    x86, i386, arm = (clang_layouts(m)["mixed"] for m in ("x86_64", "i386", "rpi2"))
    assert x86[0] == 48 and x86[2]["x"] == 8
    assert i386[2]["x"] == 4 and arm[2]["x"] == 8       # i386 aligns s64 to 4 in a struct
