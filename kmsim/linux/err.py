"""linux/err.h: error pointers.

The implementation is ``kmsim/lib/err.py``; this header names it.

    #define MAX_ERRNO 4095
    void *ERR_PTR(long error);
    long PTR_ERR(const void *ptr);
    bool IS_ERR(const void *ptr);
    bool IS_ERR_OR_NULL(const void *ptr);
    void *ERR_CAST(const void *ptr);
    int PTR_ERR_OR_ZERO(const void *ptr);
"""
from ..lib.err import (
    ERR_CAST,
    ERR_PTR,
    IS_ERR,
    IS_ERR_OR_NULL,
    MAX_ERRNO,
    PTR_ERR,
    PTR_ERR_OR_ZERO,
)

__all__ = ["IS_ERR", "PTR_ERR", "ERR_PTR", "IS_ERR_OR_NULL", "MAX_ERRNO", "ERR_CAST",
           "PTR_ERR_OR_ZERO"]
