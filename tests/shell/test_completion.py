"""Tab completion from the live machine."""
from __future__ import annotations

from kmsim.shell.completion import candidates, current_words, quote_completion


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


def test_modprobe_completes_the_parameters_of_the_named_module(shell):
    assert candidates(shell, "modprobe hello ") == ["who="]
    assert candidates(shell, "modprobe hello who=bob ") == []        # already given
    assert candidates(shell, "insmod modules/hello.py who=bob ") == []


def test_modprobe_r_offers_only_loaded_modules(shell):
    assert candidates(shell, "modprobe -r ") == []
    shell.execute("insmod modules/hello.py")
    assert candidates(shell, "modprobe -r ") == ["hello"]
    assert candidates(shell, "modinfo hel") == ["hello"]


def test_module_dir_is_not_offered_beside_its_own_files(shell):
    cands = candidates(shell, "insmod mod")
    assert "modules/" not in cands and "modules/hello.py" in cands


def test_a_quoted_word_completes_and_keeps_its_quote(shell):
    assert current_words("cat '/proc/bud") == ["cat", "/proc/bud"]
    assert candidates(shell, "cat '/proc/bud") == ["/proc/buddyinfo"]
    assert candidates(shell, 'cat "/proc/bud') == ["/proc/buddyinfo"]
    assert quote_completion("'/proc/bud", "/proc/buddyinfo") == "'/proc/buddyinfo' "
    assert quote_completion("/proc/bud", "/proc/buddyinfo") == "/proc/buddyinfo "


def test_a_name_with_a_space_is_completed_quoted(shell):
    shell.execute("insmod modules/slab_cache.py")
    cand = candidates(shell, "cat /sys/kernel/slab/exam")
    assert cand == ["/sys/kernel/slab/example cache/"]
    text = "cat " + quote_completion("/sys/kernel/slab/exam", cand[0])
    assert text == "cat '/sys/kernel/slab/example cache/"
    assert "/sys/kernel/slab/example cache/order" in candidates(shell, text + "or")
    assert quote_completion("exa", "example cache") == "'example cache' "
