"""linux/kfifo.h: lib/kfifo.c's in/out semantics on kmalloc'd memory."""
from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inline_modules import load_nodes

from kmsim.kernel import Kernel
from kmsim.linux.gfp import GFP_KERNEL, __get_free_page
from kmsim.linux.kfifo import (
    kfifo,
    kfifo_alloc,
    kfifo_avail,
    kfifo_free,
    kfifo_in,
    kfifo_is_empty,
    kfifo_is_full,
    kfifo_len,
    kfifo_out,
    kfifo_out_peek,
    kfifo_reset,
    kfifo_size,
)
from kmsim.linux.slab import ksize
from kmsim.linux.types import pointer, sizeof


@pytest.fixture
def fifo(kernel):
    return kfifo.at(__get_free_page(GFP_KERNEL))


def test_struct_kfifo_layout(kernel):
    assert sizeof(kfifo) == 24


def test_alloc_rounds_up_to_a_power_of_two(kernel, fifo):
    assert kfifo_alloc(fifo, 100, GFP_KERNEL) == 0
    assert kfifo_size(fifo) == 128 and fifo.mask == 127
    assert ksize(fifo.data) == 128
    assert kfifo_is_empty(fifo) and kfifo_avail(fifo) == 128
    assert kfifo_alloc(fifo, 1, GFP_KERNEL) == -22 and fifo.data == 0


def test_in_copies_what_fits_and_out_returns_in_order(kernel, fifo):
    kfifo_alloc(fifo, 8, GFP_KERNEL)
    assert kfifo_in(fifo, b"0123456789", 10) == 8
    assert kfifo_is_full(fifo) and kfifo_len(fifo) == 8
    buf = __get_free_page(GFP_KERNEL)
    assert kfifo_out(fifo, buf, 3) == 3
    assert kernel.vm.read(buf, 3) == b"012"
    assert kfifo_in(fifo, b"ab", 2) == 2          # wraps around the buffer's end
    assert kernel.vm.read(fifo.data, 8) == b"ab234567"
    assert kfifo_out(fifo, buf, 100) == 7
    assert kernel.vm.read(buf, 7) == b"34567ab"
    assert kfifo_out(fifo, buf, 1) == 0 and kfifo_is_empty(fifo)
    assert (getattr(fifo, "in"), fifo.out) == (10, 10)


def test_peek_reset_and_free(kernel, fifo):
    kfifo_alloc(fifo, 4, GFP_KERNEL)
    kfifo_in(fifo, "xy", 2)
    buf = __get_free_page(GFP_KERNEL)
    assert kfifo_out_peek(fifo, buf, 4) == 2 and kfifo_len(fifo) == 2
    kfifo_reset(fifo)
    assert kfifo_is_empty(fifo)
    kfifo_free(fifo)
    assert fifo.data == 0 and kfifo_size(fifo) == 1


def test_indices_wrap_at_32_bits(kernel, fifo):
    kfifo_alloc(fifo, 4, GFP_KERNEL)
    setattr(fifo, "in", 0xfffffffe)
    fifo.out = 0xfffffffe
    assert kfifo_in(fifo, b"abcd", 4) == 4
    assert getattr(fifo, "in") == 2 and kfifo_len(fifo) == 4
    buf = __get_free_page(GFP_KERNEL)
    assert kfifo_out(fifo, buf, 4) == 4 and kernel.vm.read(buf, 4) == b"abcd"


def test_pointer_fifo_put_and_get(shell):
    mod_src = (
        "from kmsim.linux import *\n"
        "q = DECLARE_KFIFO_PTR(pointer)\np = pointer.static()\n"
        "def i():\n    kfifo_alloc(q, 3, GFP_KERNEL)\n"
        "    for v in (0x1000, 0x2000, 0x3000, 0x4000, 0x5000):\n"
        "        pr_notice('put %d\\n', kfifo_put(q, v))\n"
        "    while kfifo_get(q, p):\n        pr_notice('got %lx\\n', p.value)\n"
        "    pr_notice('esize %u size %u\\n', kfifo_esize(q), kfifo_size(q))\n"
        "    kfifo_free(q)\n    return 0\n"
        "def e():\n    pass\n"
        "module_init(i)\nmodule_exit(e)\nMODULE_LICENSE('GPL')\n")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "pfifo.py")
        with open(path, "w") as f:
            f.write(mod_src)
        assert shell.execute(f"insmod {path}").status == 0
    out = [ln.split("] ", 1)[1] for ln in shell.execute("dmesg").out.splitlines()[-10:]]
    assert out == ["put 1", "put 1", "put 1", "put 1", "put 0",
                   "got 1000", "got 2000", "got 3000", "got 4000", "esize 8 size 4"]


def test_32bit_layout_and_pointer_size():
    Kernel("i386", "64M", "", seed=1)
    assert sizeof(kfifo) == 20 and sizeof(pointer) == 4


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), max_size=30))
def test_kfifo_behaves_like_a_bounded_queue(ops):
    k = Kernel("x86_64", "64M", "", seed=1)
    fifo = kfifo.at(__get_free_page(GFP_KERNEL))
    buf = __get_free_page(GFP_KERNEL)
    kfifo_alloc(fifo, 16, GFP_KERNEL)
    model = bytearray()
    counter = 0
    for is_in, n in ops:
        if is_in:
            data = bytes((counter + i) & 0xff for i in range(n))
            counter += n
            got = kfifo_in(fifo, data, n)
            assert got == min(n, 16 - len(model))
            model += data[:got]
        else:
            got = kfifo_out(fifo, buf, n)
            assert got == min(n, len(model))
            if got:
                assert k.vm.read(buf, got) == bytes(model[:got])
            del model[:got]
        assert kfifo_len(fifo) == len(model)


def test_kfifo_sizes_are_unsigned_int(shell, tmp_path):
    out = load_nodes(shell, tmp_path, "kf", "    q = kfifo.static()\n"
               "    for n in (0, 1, -1, 0x80000001, 5):\n"
               "        pr_info('kfifo_alloc(%d) = %d, size %u\\n', n, kfifo_alloc(q, n, GFP_KERNEL),"
               " kfifo_size(q))\n"
               "    pr_info('in %u len %u\\n', kfifo_in(q, 'abcdefghijk', -1), kfifo_len(q))\n"
               "    kfifo_free(q)\n    return 0")
    assert [ln for ln in out if ln.startswith(("kfifo_alloc", "in "))] == [
        "kfifo_alloc(0) = -22, size 1", "kfifo_alloc(1) = -22, size 1",
        "kfifo_alloc(-1) = -22, size 1", "kfifo_alloc(-2147483647) = -22, size 1",
        "kfifo_alloc(5) = 0, size 8", "in 8 len 8"]
    assert not any(ln.startswith("WARNING") for ln in out)
