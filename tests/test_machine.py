"""Machine profiles (kmsim/machine.py): what each machine can address."""
from __future__ import annotations

import pytest
from conftest import run_kmsim


@pytest.mark.e2e
def test_32_bit_profiles_refuse_more_ram_than_they_address():
    r = run_kmsim("--machine", "i386", "--mem", "16G", "-c", "true")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("kmsim: --mem must be at most 4096M on i386")
    r = run_kmsim("--machine", "rpi2", "--mem", "2G", "-c", "true")
    assert r.returncode == 2 and r.stderr.startswith("kmsim: --mem must be at most 1792M on rpi2")
    r = run_kmsim("--machine", "rpi2", "--mem", "1792M", "-c",
                  "insmod modules/slab_cache.py; insmod modules/zone_allocator.py; lsmod | wc -l")
    assert r.returncode == 0 and r.stdout.strip().endswith("3")
