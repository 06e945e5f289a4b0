"""linux/kfifo.h: a power-of-two ring buffer of fixed-size elements (lib/kfifo.c).

The implementation is ``kmsim/lib/kfifo.py``; this header names it.

    struct kfifo { unsigned int in, out, mask, esize; void *data; };
    DECLARE_KFIFO_PTR(fifo, type);
    int kfifo_alloc(fifo, unsigned int size, gfp_t gfp_mask);
    int kfifo_init(fifo, void *buffer, unsigned int size);
    void kfifo_free(fifo);  void kfifo_reset(fifo);
    unsigned int kfifo_in(fifo, const void *buf, unsigned int n);
    unsigned int kfifo_out(fifo, void *buf, unsigned int n);
    unsigned int kfifo_out_peek(fifo, void *buf, unsigned int n);
    int kfifo_put(fifo, val);  int kfifo_get(fifo, val);
    unsigned int kfifo_len(fifo);  kfifo_size(fifo);  kfifo_avail(fifo);  kfifo_esize(fifo);
    bool kfifo_is_empty(fifo);  bool kfifo_is_full(fifo);  bool kfifo_initialized(fifo);
"""
from ..lib.kfifo import (
    DECLARE_KFIFO_PTR,
    kfifo,
    kfifo_alloc,
    kfifo_avail,
    kfifo_esize,
    kfifo_free,
    kfifo_get,
    kfifo_in,
    kfifo_init,
    kfifo_initialized,
    kfifo_is_empty,
    kfifo_is_full,
    kfifo_len,
    kfifo_out,
    kfifo_out_peek,
    kfifo_put,
    kfifo_reset,
    kfifo_size,
)

__all__ = ["kfifo", "DECLARE_KFIFO_PTR", "kfifo_alloc", "kfifo_init", "kfifo_free", "kfifo_in",
           "kfifo_out", "kfifo_out_peek", "kfifo_put", "kfifo_get", "kfifo_len", "kfifo_is_empty",
           "kfifo_is_full", "kfifo_size", "kfifo_avail", "kfifo_reset", "kfifo_esize",
           "kfifo_initialized"]
