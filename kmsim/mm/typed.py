"""Typed memory: C types, structs laid out by C's rules, and views of simulated memory.

A type describes bytes; a *view* is a type placed at an address of the current
kernel.  Reading ``view.field`` is one ``vm.read_int`` at a precomputed offset,
so every access faults on an unmapped address and passes KASAN's check, as a
load or store of compiled C would.

Layouts depend on the machine (a pointer and a long are 4 bytes on i386 and
rpi2; i386's ABI aligns 8-byte integers to 4 inside structs), so a struct is
laid out lazily, once per ABI, on first use under the current kernel.
"""
from __future__ import annotations

from typing import Any

from ..current import current_kernel

__all__ = ["CType", "Scalar", "Array", "Struct", "StructView", "ArrayView", "ScalarView",
           "CharArrayValue", "sizeof", "offsetof", "alignof", "addressof", "container_of",
           "to_addr", "abi_of", "SCALARS"]


def abi_of(machine) -> tuple[int, int]:
    """(pointer size, alignment of an 8-byte integer inside a struct) for a machine."""
    return machine.ptr_size, 4 if machine.name == "i386" else 8


def _abi() -> tuple[int, int]:
    return abi_of(current_kernel().machine)


def to_addr(x, what: str = "address") -> int:
    """An address from an int, a view, a char-array value, or None (NULL)."""
    if x is None:
        return 0
    if isinstance(x, int):
        return x
    a = getattr(x, "_a", None)
    if a is None:
        a = getattr(x, "addr", None)
    if isinstance(a, int):
        return a
    raise TypeError(f"{what} must be an address (int) or a view, not {type(x).__name__}")


class CType:
    """Base of every C type: size and alignment for an ABI, arrays by ``T * n``."""
    name = "?"

    def size(self, abi) -> int:          # pragma: no cover - overridden
        """Bytes of one object under an ABI (see abi_of)."""
        raise NotImplementedError

    def align(self, abi) -> int:         # pragma: no cover - overridden
        """Alignment of one object inside a struct under an ABI."""
        raise NotImplementedError

    def view(self, vm, addr, abi):       # pragma: no cover - overridden
        """A view of an object of this type at addr."""
        raise NotImplementedError

    def __mul__(self, n):
        return Array(self, n)

    __rmul__ = __mul__

    def at(self, addr):
        """A view of this type at an address."""
        return self.view(current_kernel().vm, to_addr(addr), _abi())

    def array_at(self, addr, n: int):
        """A view of n consecutive objects of this type at an address."""
        return Array(self, n).at(addr)

    def static(self):
        """A zeroed object of this type in the loading module's memory (a C static)."""
        abi = _abi()
        addr = current_kernel().modules.alloc_static(self.size(abi), self.align(abi))
        return self.at(addr)

    def __repr__(self):
        return self.name


class Scalar(CType):
    """A C integer type; `size` is bytes, or 0 for pointer-sized (long, size_t, void *)."""

    def __init__(self, name: str, size: int, signed: bool, pointer: bool = False):
        self.name = name
        self._size = size
        self.signed = signed
        self.pointer = pointer

    def size(self, abi) -> int:
        """The C size: pointer-sized types follow the machine."""
        return self._size or abi[0]

    def align(self, abi) -> int:
        """Natural alignment, except 8-byte integers on i386 (4)."""
        s = self.size(abi)
        return abi[1] if s == 8 else s

    def view(self, vm, addr, abi):
        """A ScalarView (``.value``)."""
        return ScalarView(vm, addr, self.size(abi), self.signed, self)


class Array(CType):
    """T[n]."""

    def __init__(self, elem: CType, n: int):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise TypeError(f"array length must be a non-negative int, not {n!r}")
        self.elem = _ctype(elem)
        self.n = n
        self.name = f"{self.elem.name}[{n}]"

    def size(self, abi) -> int:
        """n times the element's size."""
        return self.elem.size(abi) * self.n

    def align(self, abi) -> int:
        """The element's alignment."""
        return self.elem.align(abi)

    @property
    def is_string(self) -> bool:
        """char[n] (and u8/s8 arrays) read as strings."""
        return self.elem is char

    def view(self, vm, addr, abi):
        """An ArrayView (indexable, iterable)."""
        return ArrayView(vm, addr, self, abi)


def _ctype(t):
    """The CType of a scalar/array instance or of a Struct class."""
    if isinstance(t, CType):
        return t
    if isinstance(t, type) and issubclass(t, Struct):
        return t._ctype
    raise TypeError(f"not a C type: {t!r}")


class CharArrayValue(bytes):
    """The value of a char-array field: bytes up to the first NUL, which remember their address.

    So ``strcpy(example.example_string, "Test")`` works as in C, and ``%s`` prints it.
    An item is a C index: ``s[3] = ord("a")`` writes the byte at ``&s[0] + 3`` and ``s[3]``
    reads it back from memory, even past the NUL; an index outside the array writes
    memory all the same, as C does, so KASAN and the red zones see it.
    """
    addr = 0
    field = ""           # "example_string is char[10]", for error messages

    def __getitem__(self, i):
        if isinstance(i, int) and self.addr:
            return current_kernel().vm.read(self.addr + i, 1)[0]
        return super().__getitem__(i)

    def __setitem__(self, i, v):
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"{self.field or 'a char array'}: an index is an int, not {type(i).__name__}")
        current_kernel().vm.write(self.addr + i, bytes([_char_value(v, self.field)]))


def _char_value(v, field: str) -> int:
    """One char from an int (kept to its low 8 bits, as C converts) or a 1-character string."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v & 0xff
    if isinstance(v, (str, bytes)) and len(_encode(v)) == 1:
        return _encode(v)[0]
    raise TypeError(f"{field or 'a char array'}: an item takes an int (ord('a')) or a "
                    f"one-character string, not {type(v).__name__} {v!r}")


class _AddressView:
    """What a scalar and an array view share: true unless NULL, int() is the address."""
    __slots__ = ()
    _a: int
    _type: Any                       # the CType (Scalar, Array) of the subclass

    def __bool__(self):
        return self._a != 0

    def __int__(self):
        return self._a

    def __repr__(self):
        return f"<{self._type.name} at {self._a:#x}>"


class ScalarView(_AddressView):
    """A view of one scalar: ``.value`` reads and writes it."""
    __slots__ = ("_vm", "_a", "_size", "_signed", "_type")

    def __init__(self, vm, addr, size, signed, ctype):
        self._vm, self._a, self._size, self._signed, self._type = vm, addr, size, signed, ctype

    @property
    def addr(self) -> int:
        """&x."""
        return self._a

    @property
    def value(self) -> int:
        """The scalar's value in simulated memory."""
        return self._vm.read_int(self._a, self._size, self._signed)

    @value.setter
    def value(self, v) -> None:
        self._vm.write_int(self._a, self._size, to_addr(v, "value"))


class ArrayView(_AddressView):
    """An indexable, iterable, assignable view of n consecutive objects."""
    __slots__ = ("_vm", "_a", "_type", "_abi", "_esize", "_get", "_set")

    def __init__(self, vm, addr, atype: Array, abi):
        self._vm, self._a, self._type, self._abi = vm, addr, atype, abi
        elem = atype.elem
        self._esize = elem.size(abi)
        self._get, self._set = _accessors(elem, abi)

    @property
    def addr(self) -> int:
        """&array[0]."""
        return self._a

    def __len__(self):
        return self._type.n

    def _index(self, i) -> int:
        n = self._type.n
        if not isinstance(i, int):
            raise TypeError(f"{self._type.name} index must be an int, not {type(i).__name__}")
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"index {i} is outside {self._type.name} (use memcpy/memset "
                             f"to write beyond an array on purpose)")
        return self._a + i * self._esize

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._type.n))]
        return self._get(self._vm, self._index(i))

    def __setitem__(self, i, v):
        self._set(self._vm, self._index(i), v)

    def __iter__(self):
        get, vm, a, es = self._get, self._vm, self._a, self._esize
        for i in range(self._type.n):
            yield get(vm, a + i * es)


class StructView:
    """Base of the generated view classes: a struct at an address."""
    __slots__ = ("_vm", "_a")
    _struct: Any = None              # the Struct class, set on each generated view class

    def __init__(self, vm, addr):
        self._vm = vm
        self._a = addr

    def __bool__(self):
        return self._a != 0

    def __int__(self):
        return self._a

    def __eq__(self, other):
        if isinstance(other, (int, StructView)):
            return self._a == to_addr(other)
        return NotImplemented

    def __hash__(self):
        return hash(self._a)

    def __repr__(self):
        return f"<struct {self._struct.__name__} at {self._a:#x}>"


def _int_accessors(size, signed, pointer):
    def get(vm, a):
        return vm.read_int(a, size, signed)
    if pointer:
        def set_(vm, a, v):
            vm.write_int(a, size, to_addr(v, "a pointer field"))
    else:
        def set_(vm, a, v):
            if not isinstance(v, int):
                raise TypeError(f"an integer field takes an int, not {type(v).__name__}")
            vm.write_int(a, size, v)
    return get, set_


def _encode(v) -> bytes:
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"a char array takes str or bytes, not {type(v).__name__}")


def _string_accessors(n, field: str = ""):
    def get(vm, a):
        raw = vm.read(a, n)
        i = raw.find(b"\0")
        val = CharArrayValue(raw if i < 0 else raw[:i])
        val.addr = a
        val.field = field
        return val

    def set_(vm, a, v):
        # Copies at most n bytes, NUL-terminated when it fits: never past the array.
        try:
            data = _encode(v)[:n]
        except TypeError:
            if not field:
                raise
            raise TypeError(f"{field}: assign a str or bytes (or strscpy), not "
                            f"{type(v).__name__}") from None
        vm.write(a, data + b"\0" if len(data) < n else data)
    return get, set_


def _array_accessors(t: Array, abi):
    size = t.size(abi)

    def get(vm, a):
        return ArrayView(vm, a, t, abi)

    def set_(vm, a, v):
        if isinstance(v, ArrayView):
            vm.write(a, vm.read(v._a, size))
            return
        view = ArrayView(vm, a, t, abi)
        if isinstance(v, (bytes, bytearray)) and t.elem.size(abi) == 1:
            vm.write(a, bytes(v)[:size])
            return
        vals = list(v)
        if len(vals) > t.n:
            raise IndexError(f"{len(vals)} values do not fit in {t.name}")
        for i, x in enumerate(vals):
            view[i] = x
    return get, set_


def _struct_accessors(st, abi):
    size = st._ctype.size(abi)

    def get(vm, a):
        return st._view_class(abi)(vm, a)

    def set_(vm, a, v):   # struct assignment copies the bytes, as C does
        if not isinstance(v, StructView) or v._struct is not st:
            raise TypeError(f"struct {st.__name__} can only be assigned a view of "
                            f"struct {st.__name__}")
        vm.write(a, vm.read(v._a, size))
    return get, set_


def _accessors(t: CType, abi, field: str = ""):
    """(get(vm, addr), set(vm, addr, value)) for a value of type t (of the member `field`)."""
    if isinstance(t, Scalar):
        return _int_accessors(t.size(abi), t.signed, t.pointer)
    if isinstance(t, Array):
        if t.is_string:
            return _string_accessors(t.n, f"{field} is {t.name}" if field else "")
        return _array_accessors(t, abi)
    if isinstance(t, _StructType):
        return _struct_accessors(t.cls, abi)
    raise TypeError(f"not a C type: {t!r}")


class _StructType(CType):
    """The CType face of a Struct class (size, alignment, layout per ABI)."""

    def __init__(self, cls):
        self.cls = cls
        self.name = f"struct {cls.__name__}"
        self.layouts = {}

    def layout(self, abi):
        """The struct's _Layout under an ABI, computed once."""
        lay = self.layouts.get(abi)
        if lay is None:
            lay = self.layouts[abi] = _Layout(self.cls, abi)
        return lay

    def size(self, abi) -> int:
        """sizeof(struct), trailing padding included."""
        return self.layout(abi).size

    def align(self, abi) -> int:
        """The largest alignment of its members."""
        return self.layout(abi).align

    def view(self, vm, addr, abi):
        """A view of the struct (its generated view class)."""
        return self.cls._view_class(abi)(vm, addr)


class _Layout:
    """A struct laid out by C's rules: each field at its alignment, trailing padding."""

    def __init__(self, cls, abi):
        fields = cls.__dict__.get("_fields_")
        if fields is None:
            raise TypeError(f"struct {cls.__name__} has no _fields_")
        self.offsets: dict[str, int] = {}
        self.types: dict[str, CType] = {}
        off = 0
        align = 1
        for entry in fields:
            name, t = entry[0], _ctype(entry[1])
            if name in self.offsets:
                raise TypeError(f"struct {cls.__name__}: duplicate member '{name}'")
            a = t.align(abi)
            off = (off + a - 1) & ~(a - 1)
            self.offsets[name] = off
            self.types[name] = t
            off += t.size(abi)
            align = max(align, a)
        self.align = align
        self.size = (off + align - 1) & ~(align - 1)
        self.view_class = None


def _field_property(off, get, set_, doc):
    return property(lambda self: get(self._vm, self._a + off),
                    lambda self, v: set_(self._vm, self._a + off, v), doc=doc)


def _scalar_property(off, size, signed, pointer, doc, field=""):
    # The hot path of typed memory: one call into vm per access, nothing else.
    def fget(self):
        return self._vm.read_int(self._a + off, size, signed)

    def fset(self, v):
        if v.__class__ is not int:
            v = _coerce(v, pointer, field)
        self._vm.write_int(self._a + off, size, v)
    return property(fget, fset, doc=doc)


def _coerce(v, pointer: bool, field: str = "") -> int:
    if isinstance(v, int):
        return int(v)
    if pointer:
        try:
            return to_addr(v, "a pointer field")
        except TypeError:
            if not field:
                raise
            raise TypeError(f"{field}: assign an address (int) or a view, not "
                            f"{type(v).__name__}") from None
    if field:
        hint = " (ord() gives a character's code)" if isinstance(v, str) and len(v) == 1 else ""
        raise TypeError(f"{field}: assign an int, not {type(v).__name__} {v!r}{hint}")
    raise TypeError(f"an integer field takes an int, not {type(v).__name__}")


def _make_view_class(cls, lay: _Layout, abi):
    ns = {"__slots__": (), "_struct": cls}
    if "addr" not in lay.offsets:
        ns["addr"] = property(lambda self: self._a, doc="&s (the struct's address)")
    for name, off in lay.offsets.items():
        t = lay.types[name]
        doc = f"{t.name} {name} at offset {off}"
        if isinstance(t, Scalar):
            ns[name] = _scalar_property(off, t.size(abi), t.signed, t.pointer, doc,
                                        f"{name} is {t.name}")
        else:
            get, set_ = _accessors(t, abi, name)
            ns[name] = _field_property(off, get, set_, doc)
    return type(f"struct {cls.__name__}", (StructView,), ns)


# Python types a beginner puts in _fields_, and the C type meant.
_PY_TYPES = {int: "int_ (or unsigned_int, long, u32 ...)", bool: "bool_", str: "char * N",
             bytes: "char * N (or u8 * N)", float: "an integer type (the kernel has no floating point)",
             list: "T * N (an array of N T)", object: "pointer"}


def _check_fields(name: str, fields) -> None:
    """_fields_ as C would check the struct's declaration: at the class statement."""
    if not isinstance(fields, (list, tuple)):
        raise TypeError(f"struct {name}: _fields_ is a list of (\"name\", type) pairs, "
                        f"not {type(fields).__name__}")
    seen = set()
    for entry in fields:
        if not (isinstance(entry, (list, tuple)) and len(entry) >= 2 and isinstance(entry[0], str)):
            raise TypeError(f"struct {name}: each _fields_ entry is a (\"name\", type) pair, "
                            f"not {entry!r}")
        member, t = entry[0], entry[1]
        if member in seen:
            raise TypeError(f"struct {name}: duplicate member '{member}'")
        seen.add(member)
        if isinstance(t, CType) or (isinstance(t, type) and issubclass(t, Struct)):
            continue
        meant = _PY_TYPES.get(t) if isinstance(t, type) else None
        what = f"Python's {t.__name__}" if isinstance(t, type) else repr(t)
        raise TypeError(f"struct {name}: member '{member}' has type {what}, which is not a C "
                        f"type" + (f": use {meant}" if meant else " (use int_, u8, char * N, "
                                   "pointer, list_head or a Struct)"))


class _StructMeta(type):
    """Makes Struct classes C types: ``T * n``, ``T.at``, ``T.array_at``, ``T.static``."""

    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        if "_fields_" in ns:
            _check_fields(name, ns["_fields_"])
        cls._ctype = _StructType(cls)

    def __mul__(cls, n):
        return Array(cls._ctype, n)

    __rmul__ = __mul__

    def _view_class(cls, abi):
        lay = cls._ctype.layout(abi)
        if lay.view_class is None:
            lay.view_class = _make_view_class(cls, lay, abi)
        return lay.view_class

    def at(cls, addr):
        """A view of this struct at an address (``(struct T *)addr``)."""
        return cls._view_class(_abi())(current_kernel().vm, to_addr(addr))

    def array_at(cls, addr, n: int):
        """A view of n consecutive structs at an address."""
        return Array(cls._ctype, n).at(addr)

    def static(cls):
        """A zeroed struct in the loading module's memory (``static struct T s;``)."""
        return cls._ctype.static()

    def __repr__(cls):
        return f"<struct {cls.__name__}>"


class Struct(metaclass=_StructMeta):
    """A C struct: subclass it with ``_fields_ = [("name", type), ...]``."""
    _fields_: list[tuple[str, Any]] = []

    def __new__(cls, *a, **kw):
        raise TypeError(f"struct {cls.__name__} lives in simulated memory: use "
                        f"{cls.__name__}.at(kmalloc(sizeof({cls.__name__}), GFP_KERNEL)) "
                        f"or {cls.__name__}.static()")


def _type_of(x) -> CType:
    if isinstance(x, StructView):
        return x._struct._ctype
    if isinstance(x, ArrayView):
        return x._type
    if isinstance(x, ScalarView):
        return x._type
    return _ctype(x)


def sizeof(t) -> int:
    """sizeof(T) for a type, a struct class or a view, on the current machine."""
    return _type_of(t).size(_abi())


def alignof(t) -> int:
    """__alignof__(T) on the current machine."""
    return _type_of(t).align(_abi())


def offsetof(t, member: str) -> int:
    """offsetof(T, member); a dotted path (``"list.next"``) reaches nested members."""
    st = _type_of(t)
    abi = _abi()
    off = 0
    for part in member.split("."):
        if not isinstance(st, _StructType):
            raise TypeError(f"{st.name} has no member '{part}'")
        lay = st.layout(abi)
        if part not in lay.offsets:
            raise AttributeError(f"{st.name} has no member named '{part}'")
        off += lay.offsets[part]
        st = lay.types[part]
    return off


def addressof(view, member: str | None = None) -> int:
    """&x, or &x->member when a member is named."""
    addr = to_addr(view)
    if member is None:
        return addr
    if not isinstance(view, StructView):
        raise TypeError("addressof(x, member) needs a struct view")
    return addr + offsetof(view._struct, member)


def container_of(ptr, t, member: str):
    """The view of the T that holds ``member`` at ptr (include/linux/container_of.h)."""
    st = _type_of(t)
    if not isinstance(st, _StructType):
        raise TypeError("container_of needs a struct type")
    return st.cls.at(to_addr(ptr) - offsetof(st.cls, member))


def _scalars():
    table = [("u8", 1, False), ("u16", 2, False), ("u32", 4, False), ("u64", 8, False),
             ("s8", 1, True), ("s16", 2, True), ("s32", 4, True), ("s64", 8, True),
             ("char", 1, True), ("short", 2, True), ("unsigned_short", 2, False),
             ("int_", 4, True), ("unsigned_int", 4, False), ("long", 0, True),
             ("unsigned_long", 0, False), ("size_t", 0, False), ("bool_", 1, False)]
    out = {n: Scalar(n if n == "size_t" else n.rstrip("_").replace("_", " "), s, sg) for n, s, sg in table}
    out["pointer"] = Scalar("void *", 0, False, pointer=True)
    return out


SCALARS = _scalars()
char = SCALARS["char"]


# -- C strings for linux/string.h -------------------------------------------------
def src_bytes(src, n: int | None = None) -> bytes:
    """The bytes of a source: a literal, or n bytes (or a C string) from memory."""
    if isinstance(src, str):
        src = src.encode("utf-8")
    if isinstance(src, (bytes, bytearray)) and not hasattr(src, "addr"):
        data = bytes(src)
        return data if n is None else data[:n].ljust(n, b"\0")
    addr = to_addr(src, "source")
    if n is None:
        return current_kernel().vm.read_cstring(addr, 1 << 20)
    return current_kernel().vm.read(addr, n)


def cstr_bytes(s) -> bytes:
    """A C string's bytes (up to its NUL) from a literal or memory."""
    if isinstance(s, (str, bytes, bytearray)) and not hasattr(s, "addr"):
        b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        return b.split(b"\0", 1)[0]
    return current_kernel().vm.read_cstring(to_addr(s, "string"), 1 << 20)
