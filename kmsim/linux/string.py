"""linux/string.h: memory and C-string functions (lib/string.c).

The implementation is ``kmsim/lib/string.py``; this header names it.

    void *memset(void *s, int c, size_t n);
    void *memcpy(void *dest, const void *src, size_t n);
    void *memmove(void *dest, const void *src, size_t n);
    int memcmp(const void *s1, const void *s2, size_t n);
    char *strcpy(char *dest, const char *src);
    char *strncpy(char *dest, const char *src, size_t count);
    ssize_t strscpy(char *dest, const char *src, size_t count);
    char *strcat(char *dest, const char *src);
    size_t strlen(const char *s);
    int strcmp(const char *cs, const char *ct);
    int strncmp(const char *cs, const char *ct, size_t count);
"""
from ..lib.string import (
    memcmp,
    memcpy,
    memmove,
    memset,
    strcat,
    strcmp,
    strcpy,
    strlen,
    strncmp,
    strncpy,
    strscpy,
)

__all__ = ["memset", "memcpy", "memmove", "memcmp", "strcpy", "strncpy", "strscpy", "strcat",
           "strlen", "strcmp", "strncmp"]
