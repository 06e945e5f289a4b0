"""The benchmark's C twin: the same allocation loop in C and in Python, timed per iteration."""
from __future__ import annotations

from kmsim.bench import bench_c_twin, report


def test_the_c_twin_and_its_python_twin_both_run_the_loop():
    res = bench_c_twin(2000, repeat=1)
    assert res["c_loop_iteration_s"] > 0 and res["py_loop_iteration_s"] > 0
    assert res["c_over_python"] == res["c_loop_iteration_s"] / res["py_loop_iteration_s"]


def test_the_report_prints_the_c_figure():
    res = {"yardstick_s": 1e-7, "c_twin": {"c_loop_iteration_s": 2e-5, "py_loop_iteration_s": 1e-5,
                                          "c_over_python": 2.0}}
    res.update({m: {"boot_s": 0.1, "peak_rss_mb": 1, **{f"{k}_s": 1e-6 for k in (
        "order0_pair", "mixed_pair", "api_order0_pair", "order0_written_pair", "order0_nozero_pair",
        "mixed_nozero_pair")}, **{f"{k}_x": 1.0 for k in (
        "order0_pair", "mixed_pair", "api_order0_pair", "order0_written_pair", "order0_nozero_pair",
        "mixed_nozero_pair")}} for m in ("64M", "1G", "16G")})
    assert "C module loop (kmalloc(64), store, kfree): 50,000/s, 2.00x its Python twin's time" in report(res)
