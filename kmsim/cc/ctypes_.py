"""C types of the target, as clang lays them out, reduced to what the translator needs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clang import INCLUDE_DIR, CompileError

__all__ = ["CT", "classify", "Unsupported"]

_INTS = {"BOOL": False, "CHAR_U": False, "UCHAR": False, "USHORT": False, "UINT": False,
         "ULONG": False, "ULONGLONG": False, "CHAR_S": True, "SCHAR": True, "SHORT": True,
         "INT": True, "LONG": True, "LONGLONG": True, "WCHAR": True, "CHAR16": False,
         "CHAR32": False, "UINT128": False, "INT128": True}


# kernel objects kmsim keeps as Python objects; their fields read as the objects' attributes
HANDLES = {"kmem_cache", "page", "mempool_s", "zone", "module"}


class Unsupported(Exception):
    """A construct kmsim does not translate (the message says which)."""

    def __init__(self, cursor, message: str):
        super().__init__(message)
        self.cursor = cursor
        self.message = message


@dataclass(eq=False)
class CT:
    """A classified C type: kind is int, bool, ptr, handle, fptr, array, record, void, func."""
    kind: str
    size: int = 0
    signed: bool = False
    align: int = 1
    pointee: CT | None = None       # ptr: the pointed-to type; array: the element
    n: int = 0                      # array: the length
    clang: Any = None
    name: str = ""

    @property
    def esize(self) -> int:
        """The size pointer arithmetic scales by (1 for void *, as GNU C)."""
        p = self.pointee
        if p is None or p.kind in ("void", "func") or p.size <= 0:
            return 1
        return p.size

    @property
    def scalar(self) -> bool:
        """Held in one register: an integer, a pointer, a handle, a function pointer."""
        return self.kind in ("int", "bool", "ptr", "handle", "fptr")


_cache: dict = {}


def _in_include(decl) -> bool:
    loc = decl.location
    return loc.file is not None and loc.file.name.startswith(str(INCLUDE_DIR))


def classify(t, cursor=None) -> CT:
    """The CT of a clang type (cached by its canonical spelling and target)."""
    can = t.get_canonical()
    key = can.spelling
    got = _cache.get(key)
    if got is not None and got.clang is not None:
        return got
    ct = _classify(can, cursor)
    _cache[key] = ct
    return ct


def reset_cache() -> None:
    """Forget classified types (a new translation unit, maybe another target)."""
    _cache.clear()


def _classify(can, cursor) -> CT:
    k = can.kind.name
    if k in _INTS:
        size = can.get_size()
        return CT("bool" if k == "BOOL" else "int", size, _INTS[k], can.get_align(), clang=can,
                  name=can.spelling)
    if k == "ENUM":
        size = can.get_size()
        signed = can.get_declaration().enum_type.get_canonical().kind.name in _INTS and \
            _INTS[can.get_declaration().enum_type.get_canonical().kind.name]
        return CT("int", size, signed, can.get_align(), clang=can, name=can.spelling)
    if k == "VOID":
        return CT("void", 1, clang=can, name="void")
    if k == "POINTER":
        pt = can.get_pointee().get_canonical()
        size = can.get_size()
        if pt.kind.name in ("FUNCTIONPROTO", "FUNCTIONNOPROTO"):
            return CT("fptr", size, False, can.get_align(), clang=can, name=can.spelling)
        if pt.kind.name == "RECORD" and _in_include(pt.get_declaration()) and \
                (pt.get_size() < 0 or pt.get_declaration().spelling in HANDLES):
            return CT("handle", size, False, can.get_align(), clang=can, name=can.spelling)
        ct = CT("ptr", size, False, can.get_align(), clang=can, name=can.spelling)
        ct.pointee = classify(pt)
        return ct
    if k in ("CONSTANTARRAY", "INCOMPLETEARRAY"):
        el = classify(can.get_array_element_type())
        n = max(0, can.get_array_size())
        return CT("array", max(0, can.get_size()), False, can.get_align(), pointee=el, n=n,
                  clang=can, name=can.spelling)
    if k == "RECORD":
        return CT("record", can.get_size(), False, can.get_align(), clang=can, name=can.spelling)
    if k in ("FUNCTIONPROTO", "FUNCTIONNOPROTO"):
        return CT("func", 1, clang=can, name=can.spelling)
    if k in ("FLOAT", "DOUBLE", "LONGDOUBLE", "HALF", "FLOAT128"):
        raise Unsupported(cursor, f"floating point ('{can.spelling}') is not used in the kernel "
                                  f"and kmsim does not support it")
    if k == "VECTOR":
        raise Unsupported(cursor, "vector types are not supported by kmsim")
    raise Unsupported(cursor, f"the type '{can.spelling}' is not supported by kmsim")


def raise_compile(cursor, display: str, message: str, kind: str = "error") -> None:
    """Raise a CompileError naming the line of a cursor."""
    loc = cursor.location if cursor is not None else None
    if loc is None or loc.file is None:
        raise CompileError([f"{display}: {kind}: {message}"])
    raise CompileError([f"{display}:{loc.line}:{loc.column}: {kind}: {message}"])
