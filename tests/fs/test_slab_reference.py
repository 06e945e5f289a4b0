"""/proc/slabinfo and /sys/kernel/slab against Linux 6.1 (transcript-main.txt)."""
from __future__ import annotations

from tests.conftest import make_shell
from tests.reference import ref_text


def test_slabinfo_ends_with_kmem_cache_node_then_kmem_cache():
    ref = [ln.split()[0] for ln in ref_text("transcript-main.txt").splitlines()
           if ln.startswith(("kmem_cache ", "kmem_cache_node "))]
    out = make_shell().execute("cat /proc/slabinfo").out.splitlines()
    assert [ln.split()[0] for ln in out[-2:]] == ref[:2] == ["kmem_cache_node", "kmem_cache"]


def test_remote_node_defrag_ratio_as_a_numa_kernel_has_it():
    sh = make_shell()
    assert "remote_node_defrag_ratio" in sh.execute("ls /sys/kernel/slab/kmalloc-64").out.split()
    assert sh.execute("cat /sys/kernel/slab/kmalloc-64/remote_node_defrag_ratio").out == "100\n"
