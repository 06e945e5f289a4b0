"""linux/err.h: error pointers.

``IS_ERR(0)`` and ``IS_ERR(None)`` are False, as in C: the allocators return
NULL on failure, never an error pointer, so a module that tests them only with
IS_ERR never sees the failure.
"""
from ..current import current_kernel

MAX_ERRNO = 4095

__all__ = ["IS_ERR", "PTR_ERR", "ERR_PTR", "IS_ERR_OR_NULL", "MAX_ERRNO", "ERR_CAST", "PTR_ERR_OR_ZERO"]


def _value(x) -> int:
    if x is None:
        return 0
    if isinstance(x, int):
        return x
    for attr in ("err_ptr", "addr"):
        v = getattr(x, attr, None)
        if isinstance(v, int):
            return v
    return 1      # a kernel object: a valid pointer


def _mask() -> int:
    try:
        return current_kernel().machine.addr_mask
    except RuntimeError:
        return (1 << 64) - 1


def ERR_PTR(error: int) -> int:
    """The pointer value that encodes -errno: ERR_PTR(-ENOMEM) == 0xfffffffffffffff4."""
    return error & _mask()


def IS_ERR(ptr) -> bool:
    """True if ptr is an error pointer (the top MAX_ERRNO addresses)."""
    v = _value(ptr) & _mask()
    return v >= (_mask() + 1 - MAX_ERRNO)


def IS_ERR_OR_NULL(ptr) -> bool:
    """True for NULL (0, None) or an error pointer."""
    return _value(ptr) == 0 or IS_ERR(ptr)


def PTR_ERR(ptr) -> int:
    """The (negative) errno in an error pointer; for other pointers the value as a long."""
    v = _value(ptr) & _mask()
    bits = _mask().bit_length()
    return v - (1 << bits) if v >> (bits - 1) else v


def ERR_CAST(ptr):
    """Pass an error pointer on unchanged."""
    return ptr


def PTR_ERR_OR_ZERO(ptr) -> int:
    """PTR_ERR if ptr is an error pointer, else 0."""
    return PTR_ERR(ptr) if IS_ERR(ptr) else 0
