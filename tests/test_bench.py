"""kmsim/bench.py: the figures are produced and reported (no timing is asserted)."""
from __future__ import annotations

import pytest

from kmsim import bench


def test_best_pairs_each_figure_with_its_own_yardstick():
    calls = []
    t = bench._best(lambda n: calls.append(n), 7, repeat=3)
    assert calls == [7, 7, 7]
    assert isinstance(t, bench.Timing) and t > 0 and t.yard > 0


def test_ratios_are_added_beside_every_timing_and_nested_dict():
    a, b = bench.Timing(6e-7), bench.Timing(2e-6)
    a.yard, b.yard = 5e-8, 1e-7
    res = {"order0_pair_s": a, "64M": {"mixed_pair_s": b, "boot_s": 0.2}}
    bench._add_ratios(res)
    assert abs(res["order0_pair_x"] - 12.0) < 1e-9
    assert abs(res["64M"]["mixed_pair_x"] - 20.0) < 1e-9
    assert "boot_x" not in res["64M"]          # a plain float is not a timing


def test_buddy_figures_on_a_small_machine_read_as_the_report_prints_them():
    res = bench.bench_buddy("64M", 300)
    for key in ("order0_pair_s", "mixed_pair_s", "api_order0_pair_s", "order0_written_pair_s",
                "order0_nozero_pair_s", "mixed_nozero_pair_s"):
        assert isinstance(res[key], bench.Timing), key
    bench._add_ratios(res)
    line = bench._line("order-0 alloc+free pair (buddy)", res, "order0_pair_s")
    assert line.startswith("  order-0 alloc+free pair (buddy)")
    assert line.endswith(f"{res['order0_pair_x']:6.2f}x yardstick")


def test_the_floor_allocator_runs_its_pairs():
    assert bench.floor_pair(500) > 0


def test_module_context_figures_come_from_a_loaded_module_with_the_kernel_figures_beside():
    res = bench.bench_module("64M", "", n=50, repeat=1, figures=("cache", "kmalloc", "order0", "mixed"),
                             live=(1, 10))
    for name in ("cache", "kmalloc", "order0", "mixed"):
        for ctx in ("module", "kernel"):
            t = res[f"{ctx}_{name}_pair_s"]
            assert isinstance(t, bench.Timing) and t > 0 and t.yard > 0
    assert {"module_cache_live_1_pair_s", "module_cache_live_10_pair_s"} <= set(res)
    bench._add_ratios(res)
    text = "\n".join(bench.report_module({"1G": res, "64M": res, "16G": res, "live": res,
                                          "module_bytes_per_object": 100.0}))
    assert "kmalloc(64)+kfree" in text and "1 / 10 live objects" in text


def test_module_memory_counts_the_bytes_of_each_live_object():
    assert bench.module_memory(200)["module_bytes_per_object"] > 0


@pytest.mark.e2e
def test_allocate_until_failure_runs_the_kmsim_command_and_counts_the_pages():
    res = bench.fill_probe("64M")
    assert res["fill_pages"] > 10_000 and res["fill_status"] == "Killed"     # the OOM killer chose insmod
    assert res["fill_rss_mb"] > 0 and res["fill_wall_s"] > 0
    text = "\n".join(bench.report_big({"64M": res}))
    assert f"{res['fill_pages']:,} pages" in text and "insmod: Killed" in text
