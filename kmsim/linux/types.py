"""linux/types.h, stddef.h, kernel.h: C types, Struct, sizeof/offsetof, container_of.

The logic lives in ``kmsim.mm.typed``; this header only names it.

>>> class example_struct(Struct):
...     _fields_ = [("id", unsigned_int), ("example_string", char * 10)]
>>> sizeof(example_struct), offsetof(example_struct, "example_string")
(16, 4)
"""
from ..mm import typed as _t
from ..mm.typed import Struct, addressof, alignof, container_of, offsetof, sizeof

u8, u16, u32, u64 = (_t.SCALARS[n] for n in ("u8", "u16", "u32", "u64"))
s8, s16, s32, s64 = (_t.SCALARS[n] for n in ("s8", "s16", "s32", "s64"))
char, short, unsigned_short = (_t.SCALARS[n] for n in ("char", "short", "unsigned_short"))
int_, unsigned_int = _t.SCALARS["int_"], _t.SCALARS["unsigned_int"]
long, unsigned_long = _t.SCALARS["long"], _t.SCALARS["unsigned_long"]
size_t, bool_, pointer = _t.SCALARS["size_t"], _t.SCALARS["bool_"], _t.SCALARS["pointer"]
NULL = 0

__all__ = ["u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "char", "short",
           "unsigned_short", "int_", "unsigned_int", "long", "unsigned_long", "size_t",
           "bool_", "pointer", "Struct", "sizeof", "offsetof", "alignof", "addressof",
           "container_of", "NULL"]
