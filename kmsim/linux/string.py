"""linux/string.h: memset, memcpy, strcpy ... on simulated memory (lib/string.c).

Destinations are addresses or views (``example.example_string`` of a char-array
field remembers its address, so ``strcpy(example.example_string, "Test")`` reads
as the C line does).  Sources may also be Python ``str``/``bytes`` literals, the
translation of a C string literal.  Every byte goes through the kernel's memory,
so a copy past the end of an object really overwrites what follows (and SLUB's
red zones or KASAN see it), as in C.
"""
from ..kernel import current_kernel
# the helpers live outside kmsim.linux so that an Oops names the string function
# (strlen, strcpy ...) the module called, not a helper
from ..mm.typed import cstr_bytes as _cstr, src_bytes as _src_bytes, to_addr

E2BIG = 7

__all__ = ["memset", "memcpy", "memmove", "memcmp", "strcpy", "strncpy", "strscpy", "strcat",
           "strlen", "strcmp", "strncmp"]


def _vm():
    return current_kernel().vm


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
    for x, y in zip(a, b):
        if x != y:
            return x - y
    return 0


def strcpy(dest, src) -> int:
    """char *strcpy(char *dest, const char *src): copies the NUL too, whatever dest's size."""
    addr = to_addr(dest, "strcpy destination")
    _vm().write(addr, _cstr(src) + b"\0")
    return addr


def strncpy(dest, src, count: int) -> int:
    """char *strncpy(char *dest, const char *src, size_t count): NUL-padded, maybe unterminated."""
    addr = to_addr(dest, "strncpy destination")
    if count > 0:
        _vm().write(addr, _cstr(src)[:count].ljust(count, b"\0"))
    return addr


def strscpy(dest, src, count: int) -> int:
    """ssize_t strscpy(char *dest, const char *src, size_t count).

    Copies at most count-1 bytes and always terminates; returns the length
    copied, or -E2BIG when src did not fit (as lib/string.c does).
    """
    addr = to_addr(dest, "strscpy destination")
    if count <= 0:
        return -E2BIG
    s = _cstr(src)
    part = s[:count - 1]
    _vm().write(addr, part + b"\0")
    return len(part) if len(s) < count else -E2BIG


def strcat(dest, src) -> int:
    """char *strcat(char *dest, const char *src)."""
    addr = to_addr(dest, "strcat destination")
    _vm().write(addr + len(_cstr(addr)), _cstr(src) + b"\0")
    return addr


def strlen(s) -> int:
    """size_t strlen(const char *s)."""
    return len(_cstr(s))


def strcmp(cs, ct) -> int:
    """int strcmp(const char *cs, const char *ct): -1, 0 or 1, as lib/string.c returns."""
    return _cmp(_cstr(cs), _cstr(ct))


def strncmp(cs, ct, count: int) -> int:
    """int strncmp(const char *cs, const char *ct, size_t count)."""
    return _cmp(_cstr(cs)[:count], _cstr(ct)[:count])


def _cmp(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)
