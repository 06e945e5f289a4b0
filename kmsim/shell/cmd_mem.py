"""The x command: a hex dump of simulated memory, as ``xxd`` prints it.

``x ADDR [LEN]`` shows LEN bytes (64 by default) at a kernel virtual address,
sixteen to a row, the address column being the virtual address.  Reading does
not fault and does not trip KASAN (it peeks); an address that maps nothing ends
the dump with a message.  ``dump_rows`` gives the rows as data for the terminal
renderer, which highlights poison and red-zone bytes.
"""
from __future__ import annotations

from ..machine import PAGE_SIZE
from .core import UsageError, command

__all__ = ["dump_rows", "format_row", "parse_number", "DEFAULT_LEN", "MAX_LEN"]

DEFAULT_LEN = 64
MAX_LEN = 1 << 20
ROW = 16


def parse_number(text: str, what: str) -> int:
    """An address or length: 0x-prefixed hex, plain hex (an address), or decimal."""
    t = text.strip().lower().replace("_", "")
    try:
        if t.startswith("0x"):
            return int(t, 16)
        if what == "address":
            return int(t, 16)
        return int(t, 10)
    except ValueError:
        raise UsageError(f"invalid {what} '{text}'") from None


def dump_rows(kernel, addr: int, length: int) -> tuple[list[tuple[int, bytes]], int | None]:
    """The rows (address, up to 16 bytes) of [addr, addr+length), and the first unmapped address.

    Memory is read page by page with ``vm.peek``; the dump stops at the first
    page that maps nothing, whose address is returned (None if all was mapped).
    """
    vm = kernel.vm
    data = bytearray()
    fault = None
    pos, end = addr, addr + length
    while pos < end:
        step = min(end - pos, PAGE_SIZE - (pos & (PAGE_SIZE - 1)))
        chunk = vm.peek(pos, step)
        if chunk is None:
            fault = pos
            break
        data += chunk
        pos += step
    rows = [(addr + i, bytes(data[i:i + ROW])) for i in range(0, len(data), ROW)]
    return rows, fault


def format_row(addr: int, chunk: bytes, width: int = 8) -> str:
    """One line of xxd: 'ADDR: 6b6b 6b6b ...  kkkk' (hex column padded on a short row)."""
    groups = [chunk[i:i + 2].hex() for i in range(0, len(chunk), 2)]
    hexcol = " ".join(groups).ljust(ROW // 2 * 5 - 1)
    text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
    return f"{addr:0{width}x}: {hexcol}  {text}"


@command("x", help="hex dump of kernel memory, as xxd prints it", usage="x ADDR [LEN]")
def cmd_x(ctx, args):
    """x ADDR [LEN]: print the rows, then say where an unmapped page stopped the dump."""
    if not args or len(args) > 2:
        raise UsageError("usage: x ADDR [LEN]")
    k = ctx.kernel
    addr = parse_number(args[0], "address")
    length = parse_number(args[1], "length") if len(args) > 1 else DEFAULT_LEN
    if not 0 <= addr <= k.machine.addr_mask:
        raise UsageError(f"address {args[0]} is outside the {k.machine.bits}-bit address space")
    if not 0 < length <= MAX_LEN:
        raise UsageError(f"length must be between 1 and {MAX_LEN}")
    length = min(length, k.machine.addr_mask + 1 - addr)
    rows, fault = dump_rows(k, addr, length)
    width = max(8, k.machine.ptr_size * 2) if addr + length > 0xffffffff else 8
    for a, chunk in rows:
        ctx.out(format_row(a, chunk, width))
    if fault is not None:
        ctx.err(f"x: cannot access memory at address {fault:#x}: not mapped")
        return 1
    return 0
