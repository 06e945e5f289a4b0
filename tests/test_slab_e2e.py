"""End to end: the lab's modules, /proc/slabinfo, sysfs, and each SLUB report as a user sees it."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import MODULES, run_kmsim

SM = Path(__file__).parent / "slab_modules"


def kmsim(cmds: str, append: str = ""):
    args = ["--seed", "1"] + (["--append", append] if append else []) + ["-c", cmds]
    return run_kmsim(*args)


def msgs(out: str) -> list[str]:
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in out.splitlines()]


def after(lines: list[str], start: str) -> list[str]:
    i = next(i for i, ln in enumerate(lines) if ln.startswith(start))
    return lines[i:]


def test_listing2_slab_cache():
    r = kmsim(f"insmod {MODULES}/slab_cache.py; cat /proc/slabinfo; "
              f"cat '/sys/kernel/slab/example cache/object_size' '/sys/kernel/slab/example cache/align' "
              f"'/sys/kernel/slab/example cache/ctor' '/sys/kernel/slab/example cache/objects'; "
              f"rmmod slab_cache; slabinfo example; dmesg")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "slabinfo - version: 2.1"
    assert out[1].startswith("# name            <active_objs> <num_objs> <objsize> <objperslab>")
    assert out[2] == ("example cache          1     64     64   64    1 : tunables    0    0    0 "
                      ": slabdata      1      1      0")
    i = out.index("16")
    assert out[i + 1] == "16" and out[i + 3] == "1 N0=1"
    assert re.fullmatch(r"example_constructor\+0x0/0x[0-9a-f]+ \[slab_cache\]", out[i + 2])
    m = msgs(r.stdout)
    assert "Example struct id: 0" in m and "Example string field content: Test" in m
    assert not any(ln.startswith("example cache ") for ln in out[i + 4:])
    assert any(ln.startswith("kmsim: cache 'example cache' has red zones and poison but no "
                             "consistency checks") for ln in m)


def test_exercise1_ids_in_allocation_order():
    r = kmsim(f"insmod {MODULES}/exercise1.py; slabinfo 'example cache'; rmmod exercise1; dmesg")
    assert r.returncode == 0, r.stderr
    m = msgs(r.stdout)
    assert "Constructor calls after kmem_cache_create: 0" in m
    assert "ids in allocation order: 0 1 2 3 4" in m
    assert "total constructor calls: 64" in m
    assert any(ln.startswith("example cache          5     64     64   64    1") for ln in m)


def test_redzone_without_checks_reports_nothing():
    r = kmsim(f"insmod {SM}/err_redzone.py; echo 1 > /sys/kernel/slab/redzone_cache/validate; dmesg")
    m = msgs(r.stdout)
    assert not any(ln.startswith("BUG ") for ln in m)
    assert any("SLAB_CONSISTENCY_CHECKS" in ln and ln.startswith("kmsim: ") for ln in m)
    assert "err_redzone: kmem_cache_free returned" in m


def test_redzone_with_checks():
    r = kmsim(f"insmod {SM}/err_redzone.py checks=1; rmmod err_redzone; slabinfo redzone; dmesg")
    m = after(msgs(r.stdout), "=====")
    assert m[0] == "=" * 77
    assert m[1] == "BUG redzone_cache (Tainted: G           OE     ): Right Redzone overwritten"
    assert m[2] == "-" * 77 and m[3] == ""
    assert re.fullmatch(r"0x0{8}[0-9a-f]{8}-0x0{8}[0-9a-f]{8} @offset=\d+\. First byte 0x41 "
                        r"instead of 0xcc", m[4])
    assert re.fullmatch(r"Slab 0x0{8}[0-9a-f]{8} objects=102 used=1 fp=0x[0-9a-f]{16} "
                        r"flags=0xfffffc0000200\(slab\|node=0\|zone=\d\|lastcpupid=0x1fffff\)", m[5])
    assert re.fullmatch(r"Object 0x[0-9a-f]{16} @offset=\d+ fp=0x0{16}", m[6]) and m[7] == ""
    assert re.fullmatch(r"Redzone  [0-9a-f]{16}: (cc ){7}cc {26}\.{8}", m[8])
    assert m[9].startswith("Object   ") and m[9][27:50] == "00 00 00 00 00 00 00 00"
    assert re.fullmatch(r"Redzone  [0-9a-f]{16}: 41 (cc ){6}cc {26}A\.{7}", m[10])
    assert m[11].startswith("Padding  ")
    assert any(ln.startswith("FIX redzone_cache: Restoring Right Redzone 0x") and ln.endswith("=0xcc")
               for ln in m)
    assert any(re.fullmatch(r"FIX redzone_cache: Object at 0x[0-9a-f]{16} not freed", ln) for ln in m)
    assert "Disabling lock debugging due to kernel taint" in m
    assert any("Objects remaining in redzone_cache on __kmem_cache_shutdown()" in ln for ln in m)
    assert "redzone_cache          1    102     40  102    1" in r.stdout


def test_redzone_slub_debug_cmdline():
    r = kmsim(f"insmod {SM}/err_redzone.py; dmesg", append="slub_debug=F")
    assert "BUG redzone_cache (Tainted: G           OE     ): Right Redzone overwritten" in r.stdout


def test_poison_with_checks():
    r = kmsim(f"insmod {SM}/err_poison.py checks=1; dmesg")
    m = after(msgs(r.stdout), "=====")
    assert m[1] == "BUG poison_cache (Tainted: G           OE     ): Poison overwritten"
    assert re.search(r"@offset=\d+\. First byte 0x2a instead of 0x6b$", m[4])
    assert m[7] == "" and m[8].startswith("Bytes b4 ")
    assert m[9].endswith("2a 00 00 00 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  *...kkkkkkkkkkk.")
    assert "FIX poison_cache: Marking all objects used" in m
    assert "err_poison: different" in m


def test_poison_without_checks_same_object():
    r = kmsim(f"insmod {SM}/err_poison.py; dmesg")
    assert "err_poison: same" in r.stdout and "BUG poison_cache" not in r.stdout


def test_double_free_lab_flags_empty_slab():
    r = kmsim(f"insmod {SM}/err_dfree.py; lsmod; dmesg")
    assert r.returncode == 0
    m = after(msgs(r.stdout), "=====")
    assert m[1] == ("BUG dfree_cache (Tainted: G           OE     ): Slab has 0 allocated objects "
                    "but 1 are to be freed")
    assert m[2] == "" and m[3] == "-" * 77
    assert re.match(r"Slab 0x[0-9a-f]{16} objects=64 used=0 ", m[5])
    assert any(re.fullmatch(r"FIX dfree_cache: Object at 0x[0-9a-f]{16} not freed", ln) for ln in m)


def test_double_free_with_checks_object_already_free():
    r = kmsim(f"insmod {SM}/err_dfree.py checks=1 keep=1; rmmod err_dfree; dmesg")
    m = after(msgs(r.stdout), "=====")
    assert m[1] == "BUG dfree_cache (Tainted: G           OE     ): Object already free"
    assert any(re.fullmatch(r"Redzone  [0-9a-f]{16}: (bb ){15}bb  \.{16}", ln) for ln in m)
    assert any(ln.endswith("6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.")
               for ln in m)
    assert "err_doublefree: cache destroyed" in m


def test_double_free_plain_oopses():
    # the debug cache (keep=1) BUGs in SLUB's slow path, as transcript-dfree_keep.txt shows
    for args, rip in (("plain=1", "kmem_cache_free+0x2f7/0x310"),
                      ("keep=1", "free_to_partial_list+0x42d/0x4f0")):
        r = kmsim(f"insmod {SM}/err_dfree.py {args}; lsmod; dmesg")
        assert r.returncode == 139
        assert "Segmentation fault" in r.stderr
        m = msgs(r.stdout)
        i = m.index("kernel BUG at mm/slub.c:419!")
        assert m[i - 1] == "------------[ cut here ]------------"
        assert m[i + 1] == "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI"
        assert f"RIP: 0010:{rip}" in m
        assert re.search(r"^err_dfree +\d+  1$", r.stdout, re.M)


def test_destroy_with_objects():
    r = kmsim(f"insmod {SM}/err_busy.py; rmmod err_busy; lsmod; slabinfo busy; dmesg")
    assert r.returncode == 0 and "ERROR" not in r.stderr
    assert "Module                  Size  Used by\nslabinfo - version: 2.1" in r.stdout
    assert "busy_cache             1     32    128   32    1 : tunables" in r.stdout
    m = after(msgs(r.stdout), "=====")
    assert m[1] == ("BUG busy_cache (Tainted: G           OE     ): Objects remaining in busy_cache "
                    "on __kmem_cache_shutdown()")
    assert any(re.fullmatch(r"Object 0x[0-9a-f]{16} @offset=\d+", ln) for ln in m)
    assert any(re.fullmatch(r"Allocated in busy_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[err_busy\] age=\d+ "
                            r"cpu=0 pid=\d+", ln) for ln in m)
    assert any(re.fullmatch(r"kmem_cache_destroy busy_cache: Slab cache still has objects when "
                            r"called from busy_exit\+0x[0-9a-f]+/0x[0-9a-f]+ \[err_busy\]", ln)
               for ln in m)
    assert any(ln.startswith("WARNING: CPU: 0 PID: ") and
               ln.endswith("at mm/slab_common.c:493 kmem_cache_destroy+0x141/0x150") for ln in m)


def test_kfree_bad_pointers():
    r = kmsim(f"insmod {SM}/err_kfree.py mode=0; dmesg")
    assert "could not insert module" in r.stderr and "Invalid parameters" in r.stderr
    m = msgs(r.stdout)
    assert any(ln.endswith("at mm/slab_common.c:904 free_large_kmalloc+0x3c/0x70") for ln in m)
    assert any(re.fullmatch(r"object pointer: 0x[0-9a-f]{16}", ln) for ln in m)
    r = kmsim(f"insmod {SM}/err_kfree.py mode=1; dmesg")
    assert r.returncode == 137 and "Killed" in r.stderr        # transcript-kfree1-run2.txt
    assert re.search(r"BUG: unable to handle page fault for address: [0-9a-f]{16}", r.stdout)
    r = kmsim(f"insmod {SM}/err_kfree.py mode=2; dmesg")
    assert re.search(r"cache_from_obj: Wrong slab cache\. cache_b but object is from \S+", r.stdout)


def test_slabtop_and_slabinfo_commands():
    r = kmsim("slabtop -o -s c | head -n 8; slabinfo kmalloc-1k; slabtop -s q")
    out = r.stdout.splitlines()
    assert out[0].startswith(" Active / Total Objects (% used)    : ")
    assert out[6] == "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   "
    assert out[7].split()[-1] == "inode_cache"
    assert [ln.split()[0] for ln in out[10:]] == ["dma-kmalloc-1k", "kmalloc-1k"]
    assert r.returncode == 2 and "invalid sort criteria" in r.stderr


def test_meminfo_counts_slab():
    r = kmsim("cat /proc/meminfo | grep Slab")
    kb = int(r.stdout.split()[1])
    assert 12000 < kb < 20000
