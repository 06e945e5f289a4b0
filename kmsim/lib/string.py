"""linux/string.h: memset, memcpy, strcpy ... on simulated memory (lib/string.c).

Destinations are addresses or views (``example.example_string`` of a char-array
field remembers its address, so ``strcpy(example.example_string, "Test")`` reads
as the C line does).  Sources may also be Python ``str``/``bytes`` literals, the
translation of a C string literal.  Every byte goes through the kernel's memory,
so a copy past the end of an object really overwrites what follows (and SLUB's
red zones or KASAN see it), as in C.
"""
import types as _types

from ..current import current_kernel

# the helpers live outside kmsim.linux so that an Oops names the string function
# (strlen, strcpy ...) the module called, not a helper
from ..mm.typed import cstr_bytes as _cstr
from ..mm.typed import src_bytes as _src_bytes
from ..mm.typed import to_addr

E2BIG = 7

__all__ = ["memset", "memcpy", "memmove", "memcmp", "strcpy", "strncpy", "strscpy", "strcat",
           "strlen", "strcmp", "strncmp"]


def _vm():
    return current_kernel().vm


def _c_chars(s, limit: int = 1 << 20):
    """The bytes of a C string, its NUL included (at most limit), one at a time as
    lib/string.c reads them: a string in memory is never read past its NUL."""
    if isinstance(s, (str, bytes, bytearray)) and not hasattr(s, "addr"):
        yield from (_cstr(s) + b"\0")[:limit]
        return
    vm, addr = _vm(), to_addr(s, "string")
    for i in range(limit):
        c = vm.read(addr + i, 1)[0]
        yield c
        if not c:
            return


def _c_string(s, limit: int = 1 << 20) -> bytes:
    """The bytes of a C string before its NUL, reading at most limit bytes."""
    return bytes(c for c in _c_chars(s, limit) if c)


def _hidden(fn):
    """A helper whose frames the reports skip, so that a fault or a KASAN report in it
    names the string function the module called (strlen, strcmp ...)."""
    g = dict(globals(), __name__="kmsim.linux_inline.string")
    f = _types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__)
    f.__doc__ = fn.__doc__
    g[fn.__name__] = f
    return f


_c_chars = _hidden(_c_chars)
_c_string = _hidden(_c_string)


def memset(s, c: int, n: int) -> int:
    """void *memset(void *s, int c, size_t n); returns s."""
    addr = to_addr(s, "memset destination")
    _vm().fill(addr, n, c)
    return addr


def memcpy(dest, src, n: int) -> int:
    """void *memcpy(void *dest, const void *src, size_t n); returns dest."""
    addr = to_addr(dest, "memcpy destination")
    if n > 0:
        _vm().write(addr, _src_bytes(src, n))
    return addr


def memmove(dest, src, n: int) -> int:
    """void *memmove(void *dest, const void *src, size_t n): overlapping areas are fine."""
    return memcpy(dest, src, n)   # the source is read whole before writing


def memcmp(s1, s2, n: int) -> int:
    """int memcmp(const void *s1, const void *s2, size_t n): first differing bytes' difference."""
    a, b = _src_bytes(s1, n), _src_bytes(s2, n)
    for x, y in zip(a, b, strict=False):
        if x != y:
            return x - y
    return 0


def strcpy(dest, src) -> int:
    """char *strcpy(char *dest, const char *src): copies the NUL too, whatever dest's size."""
    addr = to_addr(dest, "strcpy destination")
    _vm().write(addr, _c_string(src) + b"\0")
    return addr


def strncpy(dest, src, count: int) -> int:
    """char *strncpy(char *dest, const char *src, size_t count): NUL-padded, maybe unterminated."""
    addr = to_addr(dest, "strncpy destination")
    if count > 0:
        _vm().write(addr, _c_string(src, count).ljust(count, b"\0"))
    return addr


def strscpy(dest, src, count: int) -> int:
    """ssize_t strscpy(char *dest, const char *src, size_t count).

    Copies at most count-1 bytes and always terminates; returns the length
    copied, or -E2BIG when src did not fit (as lib/string.c does).  As there, a
    string that fits is copied a word at a time: the rest of the word holding
    the NUL is zeroed too.
    """
    addr = to_addr(dest, "strscpy destination")
    if count <= 0 or count > 0x7fffffff:
        return -E2BIG
    s = _c_string(src, count)
    if len(s) == count:
        _vm().write(addr, s[:-1] + b"\0")
        return -E2BIG
    _vm().write(addr, s.ljust(_strscpy_end(src, len(s), count) - 1, b"\0") + b"\0")
    return len(s)


def _strscpy_end(src, n: int, count: int) -> int:
    """How many bytes strscpy writes for an n-byte string: whole words while count
    (and, for an unaligned source, its page) has a word left, then byte by byte."""
    w = current_kernel().machine.ptr_size
    limit = count
    a = None if isinstance(src, (str, bytes, bytearray)) and not hasattr(src, "addr") \
        else to_addr(src)
    if a is not None and a % w:
        limit = min(limit, 4096 - a % 4096)
    end = (n // w + 1) * w
    return end if end <= limit else n + 1


def strcat(dest, src) -> int:
    """char *strcat(char *dest, const char *src)."""
    addr = to_addr(dest, "strcat destination")
    _vm().write(addr + len(_c_string(addr)), _c_string(src) + b"\0")
    return addr


def strlen(s) -> int:
    """size_t strlen(const char *s)."""
    return len(_c_string(s))


def strcmp(cs, ct) -> int:
    """int strcmp(const char *cs, const char *ct): -1, 0 or 1, as lib/string.c returns."""
    return _compare(cs, ct, 1 << 20)


def strncmp(cs, ct, count: int) -> int:
    """int strncmp(const char *cs, const char *ct, size_t count)."""
    return _compare(cs, ct, count)


def _compare(cs, ct, count: int) -> int:
    """lib/string.c's loop: a byte of each string in turn, until they differ or end."""
    for _, c1, c2 in zip(range(count), _c_chars(cs), _c_chars(ct), strict=False):
        if c1 != c2:
            return -1 if c1 < c2 else 1
        if not c1:
            break
    return 0


_compare = _hidden(_compare)
