"""/proc/meminfo, /proc/zoneinfo and free: the kernel's fields, order and widths, procps's columns."""
from __future__ import annotations

from pathlib import Path

from conftest import make_shell

REF = Path("/work/shared/reference/out/transcript-main.txt")


def _run(sh, line):
    return sh.execute(line)


def test_meminfo_has_the_kernels_fields_in_order_and_widths():
    sh = make_shell()
    text = _run(sh, "cat /proc/meminfo").out
    names = [line.split(":")[0] for line in text.splitlines()]
    assert names[:4] == ["MemTotal", "MemFree", "MemAvailable", "Buffers"]
    for want in ("Active(anon)", "Zswap", "SecPageTables", "HugePages_Total", "DirectMap2M"):
        assert want in names
    assert names.index("Mlocked") < names.index("SwapTotal") < names.index("Dirty")
    lines = dict((line.split(":")[0], line) for line in text.splitlines())
    assert lines["HardwareCorrupted"] == "HardwareCorrupted:     0 kB"
    assert lines["HugePages_Total"] == "HugePages_Total:       0"
    assert len(lines["MemTotal"]) == 27
    if REF.exists():       # the same field names as Linux 6.1 (512M guest)
        ref = REF.read_text().splitlines()
        i = ref.index("MemTotal:         468416 kB")
        ref_names = [line.split(":")[0] for line in ref[i:i + 53]]
        assert names == ref_names


def test_meminfo_i386_has_highmem_after_mlocked_and_4M_direct_map():
    sh = make_shell(machine="i386")
    names = [line.split(":")[0] for line in _run(sh, "cat /proc/meminfo").out.splitlines()]
    assert names.index("Mlocked") + 1 == names.index("HighTotal")
    assert "DirectMap4M" in names
    rpi = [line.split(":")[0] for line in
           _run(make_shell(machine="rpi2"), "cat /proc/meminfo").out.splitlines()]
    assert "DirectMap4k" not in rpi and "HighTotal" not in rpi


def test_zoneinfo_lists_the_kernels_stats():
    sh = make_shell()
    lines = _run(sh, "cat /proc/zoneinfo").out.splitlines()
    # rootfs's shmem pages (the unpacked initramfs) are on the inactive anon LRU
    assert lines[:3] == ["Node 0, zone      DMA", "  per-node stats",
                         f"      nr_inactive_anon {sh.kernel.shmem_pages}"]
    assert sh.kernel.shmem_pages == 14512 // 4
    assert "      nr_zone_write_pending 0" in lines
    assert "      numa_interleave 0" in lines
    if REF.exists():       # the first 60 lines name the same counters as Linux 6.1
        ref = REF.read_text().splitlines()
        i = ref.index("$ head -60 /proc/zoneinfo") + 1
        assert [x.split()[0] for x in lines[:60]] == [x.split()[0] for x in ref[i:i + 60]]


def test_free_has_procps_columns_and_human_units():
    sh = make_shell()
    out = _run(sh, "free").out.splitlines()
    assert out[0].startswith("               total        used")
    assert out[1].startswith("Mem:") and len(out[1].split()[1]) + out[1].index(out[1].split()[1]) == 20
    h = _run(sh, "free -h").out.splitlines()
    assert h[1].split()[1] == "961Mi" and h[2].split()[1] == "0B"
    r = _run(sh, "free -z")
    assert r.status == 2 and "invalid option -- 'z'" in r.err


def test_free_counts_as_procps_does():
    sh = make_shell()
    mem = _run(sh, "free").out.splitlines()[1].split()
    from kmsim.fs import meminfo_values
    v = meminfo_values(sh.kernel)
    cache = v["Buffers"] + v["Cached"] + v["SReclaimable"]
    assert mem[1:] == [str(v["MemTotal"]), str(v["MemTotal"] - v["MemFree"] - cache),
                       str(v["MemFree"]), str(v["Shmem"]), str(cache), str(v["MemAvailable"])]
