"""Kernel virtual memory access: every typed read and write goes through here.

The direct map is a subtraction; any other address is handed to the
translator registered for its range (vmalloc, modules, pkmap: page-table walks).
An address nothing maps raises PageFault, which the loader turns into an Oops.
KASAN, when on, checks every access first.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import PageFault
from ..machine import PAGE_SHIFT, PAGE_SIZE

if TYPE_CHECKING:
    from .kasan import Kasan

__all__ = ["VirtMem"]


def _int_codec(size: int, signed: bool):
    """(unpack_from, pack_into) of a little-endian integer of size bytes."""
    code = {1: "b", 2: "h", 4: "i", 8: "q"}.get(size)
    if code is not None:
        st = struct.Struct("<" + (code if signed else code.upper()))
        return st.unpack_from, st.pack_into

    def unpack_from(buf, off):
        return (int.from_bytes(buf[off:off + size], "little", signed=signed),)

    def pack_into(buf, off, v):
        buf[off:off + size] = v.to_bytes(size, "little")
    return unpack_from, pack_into


# Indexed by size + 16 * signed (sizes 1..8): struct's codecs are three times faster
# than slicing the mapping and calling int.from_bytes.
_UNPACK: list[Any] = [None] * 32       # struct.Struct.unpack_from / pack_into, or a fallback
_PACK: list[Any] = [None] * 9
_MASK = [(1 << (8 * n)) - 1 for n in range(9)]
for _n in range(1, 9):
    _UNPACK[_n], _PACK[_n] = _int_codec(_n, False)
    _UNPACK[_n + 16] = _int_codec(_n, True)[0]


class VirtMem:
    """Reads and writes simulated memory by kernel virtual address."""

    def __init__(self, kernel, lowmem_bytes: int):
        self.k = kernel
        self.phys = kernel.phys
        self.mm = kernel.phys.mm
        self.dirty = kernel.phys.dirty
        self.page_offset = kernel.machine.page_offset
        self.direct_end = self.page_offset + lowmem_bytes
        self.translators: list[tuple[int, int, Callable[[int, bool], int]]] = []   # fn(addr, write)
        self.kasan: Kasan | None = None                        # with --append kasan
        self.mask = kernel.machine.addr_mask
        self.tlb: dict[int, int] = {}    # virtual page -> physical page, filled by translators

    def register(self, start: int, end: int, fn) -> None:
        """Route [start, end) through fn(addr, write) -> physical address or raise PageFault."""
        self.translators.append((start, end, fn))

    def is_direct(self, addr: int) -> bool:
        """True for an address of the direct map."""
        return self.page_offset <= addr < self.direct_end

    def translate(self, addr: int, write: bool = False) -> int:
        """Virtual to physical, or PageFault."""
        if self.page_offset <= addr < self.direct_end:
            return addr - self.page_offset
        for start, end, fn in self.translators:
            if start <= addr < end:
                return fn(addr, write)
        raise PageFault(addr & self.mask, write)

    def _span(self, addr: int, n: int, write: bool):
        """Yield (phys, length) pieces of [addr, addr+n), page by page outside the direct map."""
        if self.page_offset <= addr and addr + n <= self.direct_end:
            yield addr - self.page_offset, n
            return
        while n > 0:
            chunk = min(n, PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
            yield self.translate(addr, write), chunk
            addr += chunk
            n -= chunk

    def read(self, addr: int, n: int) -> bytes:
        """Read n bytes at a virtual address."""
        if not isinstance(addr, int) or not isinstance(n, int):
            raise TypeError("address and length must be int")
        if self.kasan is not None:
            self.kasan.check(addr, n, False)
        off = self.page_offset
        if off <= addr and addr + n <= self.direct_end:
            p = addr - off
            return self.mm[p:p + n]
        base = self.tlb.get(addr >> PAGE_SHIFT)
        if base is not None and (addr & (PAGE_SIZE - 1)) + n <= PAGE_SIZE:
            p = base | (addr & (PAGE_SIZE - 1))
            return self.mm[p:p + n]
        return b"".join(self.mm[p:p + c] for p, c in self._span(addr, n, False))

    def write(self, addr: int, data: bytes) -> None:
        """Write bytes at a virtual address."""
        n = len(data)
        if self.kasan is not None:
            self.kasan.check(addr, n, True)
        off = self.page_offset
        if off <= addr and addr + n <= self.direct_end:
            p = addr - off
            self.phys.mark_dirty(p, n)
            self.mm[p:p + n] = data
            return
        base = self.tlb.get(addr >> PAGE_SHIFT)
        if base is not None and (addr & (PAGE_SIZE - 1)) + n <= PAGE_SIZE:
            self.dirty[base >> PAGE_SHIFT] = 1
            p = base | (addr & (PAGE_SIZE - 1))
            self.mm[p:p + n] = data
            return
        pos = 0
        for p, c in self._span(addr, n, True):
            self.phys.mark_dirty(p, c)
            self.mm[p:p + c] = data[pos:pos + c]
            pos += c

    def read_int(self, addr: int, size: int, signed: bool = False) -> int:
        """Read a little-endian integer of size bytes."""
        if self.kasan is None and size <= 8:
            if self.page_offset <= addr and addr + size <= self.direct_end:
                return _UNPACK[size + (signed << 4)](self.mm, addr - self.page_offset)[0]
            base = self.tlb.get(addr >> PAGE_SHIFT)
            if base is not None and (addr & (PAGE_SIZE - 1)) + size <= PAGE_SIZE:
                return _UNPACK[size + (signed << 4)](self.mm, base | (addr & (PAGE_SIZE - 1)))[0]
        return int.from_bytes(self.read(addr, size), "little", signed=signed)

    def write_int(self, addr: int, size: int, value: int) -> None:
        """Write a little-endian integer of size bytes (truncated to its width, as C does)."""
        if self.kasan is None and size <= 8:
            if self.page_offset <= addr and addr + size <= self.direct_end:
                p = addr - self.page_offset
                self.dirty[p >> PAGE_SHIFT] = 1
                if (p & (PAGE_SIZE - 1)) + size > PAGE_SIZE:
                    self.dirty[(p + size - 1) >> PAGE_SHIFT] = 1
                _PACK[size](self.mm, p, value & _MASK[size])
                return
            base = self.tlb.get(addr >> PAGE_SHIFT)
            if base is not None and (addr & (PAGE_SIZE - 1)) + size <= PAGE_SIZE:
                self.dirty[base >> PAGE_SHIFT] = 1
                _PACK[size](self.mm, base | (addr & (PAGE_SIZE - 1)), value & _MASK[size])
                return
        self.write(addr, (value & ((1 << (size * 8)) - 1)).to_bytes(size, "little"))

    def fill(self, addr: int, n: int, byte: int) -> None:
        """memset."""
        if n <= 0:
            return
        if self.kasan is not None:
            self.kasan.check(addr, n, True)
        for p, c in self._span(addr, n, True):
            self.phys.fill(p, c, byte & 0xff)

    def read_cstring(self, addr: int, limit: int = 4096) -> bytes:
        """Bytes up to the first NUL (at most limit).  Read in chunks, but KASAN checks
        only the bytes a byte-at-a-time loop would read: the string and its NUL."""
        out = bytearray()
        start, found = addr, False
        while len(out) < limit:
            step = min(64, limit - len(out), PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
            chunk = self._read_unchecked(addr, step)
            i = chunk.find(b"\0")
            if i >= 0:
                out += chunk[:i]
                found = True
                break
            out += chunk
            addr += step
        if self.kasan is not None:
            self.kasan.check(start, len(out) + found, False)
        return bytes(out)

    def _read_unchecked(self, addr: int, n: int) -> bytes:
        """read() without KASAN's check (PageFault still raised)."""
        kasan, self.kasan = self.kasan, None
        try:
            return self.read(addr, n)
        finally:
            self.kasan = kasan

    def peek(self, addr: int, n: int) -> bytes | None:
        """Read without KASAN and without faulting: None if unmapped (for x, reports)."""
        try:
            return self._read_unchecked(addr, n)
        except PageFault:
            return None

    def virt_to_pfn(self, addr: int) -> int:
        """pfn of a direct-map address (no check)."""
        return (addr - self.page_offset) >> PAGE_SHIFT
