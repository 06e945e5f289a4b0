"""Audit of SLUB (issue 3): slub_debug= forms as mm/slub.c:setup_slub_debug parses them."""
from __future__ import annotations

import pytest
from conftest import make_shell


def _flags(sh, cache):
    out = []
    for attr in ("sanity_checks", "red_zone", "poison", "store_user"):
        out.append(int(sh.execute(f"cat /sys/kernel/slab/{cache}/{attr}").out))
    return tuple(out)


@pytest.mark.parametrize("append,cache,want", [
    ("slub_debug=FZ,kmalloc-*", "kmalloc-64", (1, 1, 0, 0)),     # a glob
    ("slub_debug=FZ,kmalloc-*", "dentry", (0, 0, 0, 0)),
    ("slub_debug=U,kmalloc-64;Z,dentry", "kmalloc-64", (0, 0, 0, 1)),   # blocks
    ("slub_debug=U,kmalloc-64;Z,dentry", "dentry", (0, 1, 0, 0)),
    ("slub_debug=FZ;-,kmalloc-64", "kmalloc-64", (0, 0, 0, 0)),  # global, then an exception
    ("slub_debug=FZ;-,kmalloc-64", "dentry", (1, 1, 0, 0)),
    ("slub_debug=,kmalloc-64", "kmalloc-64", (1, 1, 1, 1)),      # no letters: full debugging
    ("slub_debug=P,kmalloc-128,kmalloc-64", "kmalloc-64", (0, 0, 1, 0)),
])
def test_slub_debug_blocks_and_globs(append, cache, want):
    assert _flags(make_shell(append=append), cache) == want


def test_slub_debug_unknown_letter_is_reported_and_skipped():
    sh = make_shell(append="slub_debug=FX")
    assert _flags(sh, "kmalloc-64") == (1, 0, 0, 0)
    assert "slub_debug option 'X' unknown. skipped" in sh.execute("dmesg").out


def test_slub_debug_poison_notes_init_on_alloc():
    sh = make_shell(append="slub_debug=P")
    assert ("mem auto-init: SLAB_POISON will take precedence over init_on_alloc/init_on_free"
            in sh.execute("dmesg").out)
