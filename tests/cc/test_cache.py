"""A C module is translated once: later loads come from the cache (memory, then disk)."""
from __future__ import annotations

import pytest

import kmsim.cc as cc
from tests.conftest import MODULES, make_shell, run_kmsim


def test_second_load_does_not_translate_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []
    real = cc.translate_source

    def counting(*a, **kw):
        calls.append(a[0])
        return real(*a, **kw)

    monkeypatch.setattr(cc, "translate_source", counting)
    src = (MODULES / "slab_cache.c").read_text() + "\n/* cache test */\n"
    f = tmp_path / "cached_mod.c"
    f.write_text(src)
    sh = make_shell()
    for _ in range(2):
        assert sh.execute(f"insmod {f}").status == 0
        assert sh.execute("rmmod cached_mod").status == 0
    assert len(calls) == 1
    assert list((tmp_path / "kmsim" / "cc").glob("*.bin"))      # on disk for the next run
    cc._MEMO.clear()
    assert make_shell().execute(f"insmod {f}").status == 0
    assert len(calls) == 1                                       # from the disk cache


def test_an_edit_is_translated_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    f = tmp_path / "edited.c"
    body = ("#include <linux/module.h>\nstatic int __init e_init(void)\n{\n\tpr_info(\"v%d\\n\", %d);\n"
            "\treturn 0;\n}\nmodule_init(e_init);\nMODULE_LICENSE(\"GPL\");\n")
    sh = make_shell()
    for v in (1, 2):
        f.write_text(body.replace("%d);", f"{v});"))
        assert sh.execute(f"insmod {f}").status == 0
        sh.execute("rmmod -f edited")
        assert f"v{v}" in sh.execute("dmesg").out


@pytest.mark.e2e
def test_insmod_of_a_c_file_from_the_command_line():
    r = run_kmsim("-c", f"insmod {MODULES / 'slab_cache.c'}; lsmod; rmmod slab_cache; dmesg | tail -n 2")
    assert r.returncode == 0, r.stderr
    assert "slab_cache             16384  0" in r.stdout
    assert "Example string field content: Test" in r.stdout
