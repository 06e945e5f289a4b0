"""linux/kfifo.h: the kernel's lock-free FIFO, in simulated memory (lib/kfifo.c).

``struct kfifo`` is a Struct (``in``, ``out``, ``mask``, ``esize``, ``data``) and
its buffer comes from kmalloc, so both can be looked at with ``x ADDR``.  The
indices run freely and wrap at 2**32; the buffer size is a power of two and
``in & mask`` is the slot, exactly as lib/kfifo.c does it.

C and Python, line by line::

    static struct kfifo fifo;                 fifo = kfifo.static()
    DECLARE_KFIFO_PTR(fifo, struct node *);   fifo = DECLARE_KFIFO_PTR(pointer)
    ret = kfifo_alloc(&fifo, 64, GFP_KERNEL); ret = kfifo_alloc(fifo, 64, GFP_KERNEL)
    kfifo_in(&fifo, buf, n);                  kfifo_in(fifo, buf, n)
    kfifo_put(&fifo, p);                      kfifo_put(fifo, p)
    kfifo_get(&fifo, &p);                     kfifo_get(fifo, p_slot)  # p_slot = pointer.static()
    kfifo_free(&fifo);                        kfifo_free(fifo)
"""
from ..current import current_kernel
from ..errors import KernelBUG
from ..linux.errno import EINVAL, ENOMEM
from ..mm import kmalloc as slab  # kmalloc and kfree: the functions linux/slab.h exports
from ..mm.typed import SCALARS, Struct, sizeof, to_addr
from .string import memcpy

pointer, unsigned_int = SCALARS["pointer"], SCALARS["unsigned_int"]

__all__ = ["kfifo", "DECLARE_KFIFO_PTR", "kfifo_alloc", "kfifo_init", "kfifo_free", "kfifo_in",
           "kfifo_out", "kfifo_out_peek", "kfifo_put", "kfifo_get", "kfifo_len", "kfifo_is_empty",
           "kfifo_is_full", "kfifo_size", "kfifo_avail", "kfifo_reset", "kfifo_esize",
           "kfifo_initialized"]

_U32 = 0xffffffff


class kfifo(Struct):
    """struct kfifo (struct __kfifo): a byte FIFO unless declared with an element type."""
    _fields_ = [("in", unsigned_int), ("out", unsigned_int), ("mask", unsigned_int),
                ("esize", unsigned_int), ("data", pointer)]


class _F:
    """The five fields of a struct __kfifo at an address, read once."""
    __slots__ = ("vm", "a", "ps", "in_", "out", "mask", "esize", "data")

    def __init__(self, fifo):
        k = current_kernel()
        self.vm, self.a, self.ps = k.vm, to_addr(fifo, "fifo"), k.machine.ptr_size
        if not self.a:
            self.vm.read_int(0, 4)          # &fifo is NULL: fault as the kernel would
        raw = self.vm.read(self.a, 16)
        self.in_, self.out, self.mask, self.esize = (int.from_bytes(raw[i:i + 4], "little")
                                                    for i in (0, 4, 8, 12))
        self.esize = self.esize or 1
        self.data = self.vm.read_int(self.a + 16, self.ps)
        if self.esize > 4096:                # no element type is that large: not a kfifo
            raise KernelBUG("include/linux/kfifo.h:0", hint=f"{self.a:#x} is not an initialised "
                            f"struct kfifo (its esize reads {self.esize})")

    def store(self, **fields) -> None:
        """Write fields back to memory (in_, out, mask, esize, data)."""
        offs = {"in_": 0, "out": 4, "mask": 8, "esize": 12}
        for name, value in fields.items():
            if name == "data":
                self.vm.write_int(self.a + 16, self.ps, value)
            else:
                self.vm.write_int(self.a + offs[name], 4, value & _U32)
            setattr(self, name, value)

    def used(self) -> int:
        """in - out, modulo 2**32."""
        return (self.in_ - self.out) & _U32

    def unused(self) -> int:
        """kfifo_unused: free slots."""
        return self.mask + 1 - self.used()


def _slab():
    return slab


def DECLARE_KFIFO_PTR(T=None):
    """A static struct kfifo whose elements are of type T (bytes when T is None)."""
    fifo = kfifo.static()
    if T is not None:
        current_kernel().vm.write_int(fifo.addr + 12, 4, sizeof(T))
    return fifo


def _roundup_pow_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def kfifo_alloc(fifo, size: int, gfp_mask) -> int:
    """Allocate the buffer: size elements rounded up to a power of two (0, -EINVAL, -ENOMEM)."""
    f = _F(fifo)
    size &= _U32                      # unsigned int size: -1 is 4294967295
    size = _roundup_pow_of_two(size) & _U32 if size else 0     # 2**32 truncates to 0
    f.store(in_=0, out=0, esize=f.esize)
    if size < 2:
        f.store(data=0, mask=0)
        return -EINVAL
    data = _slab().kmalloc(size * f.esize, gfp_mask)
    if not data:
        f.store(mask=0, data=0)
        return -ENOMEM
    f.store(data=data, mask=size - 1)
    return 0


def kfifo_init(fifo, buffer, size: int) -> int:
    """Use a buffer of size bytes; the element count is rounded *down* to a power of two."""
    f = _F(fifo)
    n = (size & _U32) // f.esize
    if n & (n - 1):
        n = 1 << (n.bit_length() - 1)
    f.store(in_=0, out=0, data=to_addr(buffer, "buffer"))
    if n < 2:
        f.store(mask=0)
        return -EINVAL
    f.store(mask=n - 1)
    return 0


def kfifo_free(fifo) -> None:
    """kfree the buffer and clear the fifo."""
    f = _F(fifo)
    _slab().kfree(f.data)
    f.store(in_=0, out=0, mask=0, data=0)


def _copy_in(f: _F, src, n: int, off: int) -> None:
    size, es = f.mask + 1, f.esize
    off &= f.mask
    first = min(n, size - off)
    memcpy(f.data + off * es, src, first * es)
    if n > first:
        rest = _shift(src, first * es)
        memcpy(f.data, rest, (n - first) * es)


def _copy_out(f: _F, dst, n: int, off: int) -> None:
    size, es = f.mask + 1, f.esize
    off &= f.mask
    first = min(n, size - off)
    d = to_addr(dst, "destination")
    memcpy(d, f.data + off * es, first * es)
    if n > first:
        memcpy(d + first * es, f.data, (n - first) * es)


def _shift(src, nbytes: int):
    if isinstance(src, str):
        src = src.encode("utf-8")
    if isinstance(src, (bytes, bytearray)) and not hasattr(src, "addr"):
        return bytes(src)[nbytes:]
    return to_addr(src, "source") + nbytes


def kfifo_in(fifo, buf, n: int) -> int:
    """Copy up to n elements from buf (an address, a view or bytes); returns how many fitted."""
    f = _F(fifo)
    n = min(n & _U32, f.unused())          # unsigned int n
    if n > 0:
        _copy_in(f, buf, n, f.in_)
    f.store(in_=f.in_ + n)
    return n


def _peek(f, buf, n: int) -> int:
    n = min(n & _U32, f.used())
    if n > 0:
        _copy_out(f, buf, n, f.out)
    return n


def kfifo_out_peek(fifo, buf, n: int) -> int:
    """Copy up to n elements to buf without removing them; returns how many."""
    return _peek(_F(fifo), buf, n)


def kfifo_out(fifo, buf, n: int) -> int:
    """Move up to n elements to buf (an address or view); returns how many."""
    f = _F(fifo)
    n = _peek(f, buf, n)
    f.store(out=f.out + n)
    return n


def kfifo_put(fifo, val) -> int:
    """Put one element (an int, or a view for a pointer fifo); 0 when full."""
    f = _F(fifo)
    if f.used() > f.mask:
        return 0
    f.vm.write_int(f.data + (f.in_ & f.mask) * f.esize, f.esize, to_addr(val, "value"))
    f.store(in_=f.in_ + 1)
    return 1


def kfifo_get(fifo, dst) -> int:
    """Take one element into *dst (an address or a view, e.g. ``pointer.static()``).

    Returns 1, or 0 when the fifo is empty.
    """
    f = _F(fifo)
    if f.used() == 0:
        return 0
    val = f.vm.read_int(f.data + (f.out & f.mask) * f.esize, f.esize)
    f.vm.write_int(to_addr(dst, "destination"), f.esize, val)
    f.store(out=f.out + 1)
    return 1


def kfifo_len(fifo) -> int:
    """Elements in the fifo."""
    return _F(fifo).used()


def kfifo_is_empty(fifo) -> bool:
    """True when in == out."""
    return _F(fifo).used() == 0


def kfifo_is_full(fifo) -> bool:
    """True when len > mask."""
    f = _F(fifo)
    return f.used() > f.mask


def kfifo_size(fifo) -> int:
    """Capacity in elements (mask + 1)."""
    return _F(fifo).mask + 1


def kfifo_avail(fifo) -> int:
    """Free element slots."""
    return _F(fifo).unused()


def kfifo_esize(fifo) -> int:
    """Size of one element in bytes."""
    return _F(fifo).esize


def kfifo_reset(fifo) -> None:
    """Empty the fifo (in = out = 0)."""
    _F(fifo).store(in_=0, out=0)


def kfifo_initialized(fifo) -> bool:
    """True once a buffer was allocated (mask != 0)."""
    return _F(fifo).mask != 0
