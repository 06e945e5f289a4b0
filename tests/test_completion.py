"""Tab completion from the live machine."""
from __future__ import annotations

from kmsim.shell.completion import candidates, current_words


def test_words_of_the_last_command():
    assert current_words("lsmod; rmmod he") == ["rmmod", "he"]
    assert current_words("insmod x.py ") == ["insmod", "x.py", ""]
    assert current_words("dmesg | gr") == ["gr"]


def test_commands_options_and_filters(shell):
    assert candidates(shell, "ins") == ["insmod"]
    assert "-w" in candidates(shell, "dmesg -")
    assert candidates(shell, "lsmod | g") == ["grep"]
    assert "memmap" in candidates(shell, "help mem")


def test_module_files_params_and_loaded_modules(shell):
    assert "modules/hello.py" in candidates(shell, "insmod ")
    assert candidates(shell, "insmod modules/hel") == ["modules/hello.py"]
    assert candidates(shell, "insmod modules/hello.py ") == ["who="]
    assert candidates(shell, "rmmod ") == []
    shell.execute("insmod modules/hello.py")
    assert candidates(shell, "rmmod ") == ["hello"]
    assert "hello" in candidates(shell, "modinfo ")
    assert candidates(shell, "modprobe hel") == ["hello"]


def test_virtual_paths_and_zones(shell):
    assert candidates(shell, "cat /proc/bud") == ["/proc/buddyinfo"]
    assert "/proc/sys/" in candidates(shell, "cat /proc/")
    assert candidates(shell, "memmap ") == ["DMA", "DMA32"]


def test_cache_names(shell):
    slab = shell.kernel.slab
    if slab is None:
        return
    assert "kmalloc-64" in candidates(shell, "slabinfo kmalloc-6")
