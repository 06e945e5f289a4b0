"""The module loader: insmod/rmmod messages and statuses, taint, params, faults in module code."""
from __future__ import annotations

import textwrap

from conftest import make_shell


def write(tmp_path, name, body):
    p = tmp_path / f"{name}.py"
    p.write_text(textwrap.dedent(body))
    return str(p)


HEAD = """
from kmsim.linux.module import *
from kmsim.linux.printk import *
from kmsim.linux.gfp import *
from kmsim.linux.errno import *
"""


def dmesg(sh):
    return sh.execute("dmesg").out


def test_listing1_loads_lists_and_unloads(shell):
    r = shell.execute("insmod modules/zone_allocator.py")
    assert r.status == 0 and r.err == ""
    r = shell.execute("lsmod")
    assert r.out.splitlines()[0] == "Module                  Size  Used by"
    assert r.out.splitlines()[1].split() == ["zone_allocator", r.out.split()[5], "0"]
    assert shell.execute("rmmod zone_allocator").status == 0
    d = dmesg(shell)
    assert "zone_allocator: loading out-of-tree module taints kernel." in d
    assert ("zone_allocator: module verification failed: signature and/or required key missing - "
            "tainting kernel") in d
    assert d.count("Pages address: ") == 3 and d.count("Page address: ") == 2
    assert shell.execute("cat /proc/sys/kernel/tainted").out == "12288\n"


def test_taint_lines_only_for_first_module_of_boot(shell):
    shell.execute("insmod modules/hello.py; rmmod hello; insmod modules/zone_allocator.py")
    assert dmesg(shell).count("loading out-of-tree module taints kernel.") == 1


def test_insmod_twice_is_file_exists(shell):
    shell.execute("insmod modules/hello.py")
    r = shell.execute("insmod modules/hello.py")
    assert r.err == "insmod: ERROR: could not insert module modules/hello.py: File exists\n"
    assert r.status == 1


def test_rmmod_not_loaded(shell):
    r = shell.execute("rmmod hello")
    assert r.err == "rmmod: ERROR: Module hello is not currently loaded\n" and r.status == 1
    assert shell.execute("rmmod hello.py").err == "rmmod: ERROR: Module hello is not currently loaded\n"


def test_missing_file(shell):
    r = shell.execute("insmod nothere.py")
    assert r.err == "insmod: ERROR: could not load module nothere.py: No such file or directory\n"


def test_init_returning_enomem(shell, tmp_path):
    f = write(tmp_path, "err_enomem", HEAD + """
@module_init
def i():
    pr_alert("err_enomem: init returns -ENOMEM\\n")
    return -ENOMEM
MODULE_LICENSE("GPL")
""")
    r = shell.execute(f"insmod {f}")
    assert r.err == f"insmod: ERROR: could not insert module {f}: Cannot allocate memory\n"
    assert r.status == 1
    assert "err_enomem" not in shell.execute("lsmod").out
    assert "err_enomem: init returns -ENOMEM" in r.console     # pr_alert reaches the console


def test_init_returning_einval_is_invalid_parameters(shell, tmp_path):
    f = write(tmp_path, "einv", HEAD + "module_init(lambda: -EINVAL)\nMODULE_LICENSE('GPL')\n")
    assert shell.execute(f"insmod {f}").err.endswith(": Invalid parameters\n")


def test_proprietary_license_taints_p(shell, tmp_path):
    f = write(tmp_path, "err_proprietary", HEAD + "MODULE_LICENSE('Proprietary')\n")
    assert shell.execute(f"insmod {f}").status == 0
    d = dmesg(shell)
    assert "err_proprietary: module license 'Proprietary' taints kernel." in d
    assert "Disabling lock debugging due to kernel taint" in d
    assert shell.execute("cat /proc/sys/kernel/tainted").out == "12289\n"
    assert shell.execute("cat /proc/modules").out.rstrip().endswith("(POE)")


def test_missing_license_is_unspecified(shell, tmp_path):
    f = write(tmp_path, "nolic", HEAD)
    shell.execute(f"insmod {f}")
    assert "nolic: module license 'unspecified' taints kernel." in dmesg(shell)


def test_syntax_error_is_invalid_module_format(shell, tmp_path):
    f = write(tmp_path, "broken", "def f(:\n")
    r = shell.execute(f"insmod {f}")
    assert r.err.endswith("Invalid module format\n")
    assert "broken: invalid module format: SyntaxError" in dmesg(shell)
    assert "(broken.py, line 1)" in dmesg(shell)


def test_exception_in_init_is_an_oops_and_module_stays_used(shell, tmp_path):
    f = write(tmp_path, "err_raise", HEAD + """
def helper(x):
    return x + "a"
@module_init
def raiser_init():
    return helper(1)
@module_exit
def e():
    pass
MODULE_LICENSE("GPL")
""")
    r = shell.execute(f"insmod {f}")
    assert r.err == "Segmentation fault\n" and r.status == 139
    d = dmesg(shell)
    assert "kernel BUG at err_raise.py:" in d
    assert "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI" in d
    assert "RIP: 0010:helper+0x" in d and " raiser_init+0x" in d and "[err_raise]" in d
    assert not any(line.split("] ", 1)[-1].startswith(" helper+0x") for line in d.splitlines())
    assert "kmsim: the module raised TypeError" in d
    assert shell.execute("lsmod").out.splitlines()[1].split()[2] == "1"
    assert shell.execute("rmmod err_raise").err == "rmmod: ERROR: Module err_raise is in use\n"
    assert shell.execute("rmmod -f err_raise").status == 0
    assert shell.execute("cat /proc/sys/kernel/tainted").out.strip() == str(12288 | 128 | 8)


def test_null_dereference_oops(shell, tmp_path):
    f = write(tmp_path, "nullderef", HEAD + """
from kmsim.linux.err import *
@module_init
def n_init():
    return __import__("kmsim").kernel.current_kernel().vm.read_int(0x10, 4)
MODULE_LICENSE("GPL")
""")
    r = shell.execute(f"insmod {f}")
    assert (r.status, r.err) == (137, "Killed\n")       # page_fault_oops: SIGKILL (kfree1-run2)
    d = dmesg(shell)
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000010" in d
    assert "#PF: supervisor read access in kernel mode" in d
    assert "#PF: error_code(0x0000) - not-present page" in d


def test_exception_in_exit_leaves_the_module_unloading(shell, tmp_path):
    f = write(tmp_path, "badexit", HEAD + """
module_init(lambda: 0)
def ex():
    raise ValueError("boom")
module_exit(ex)
MODULE_LICENSE("GPL")
""")
    shell.execute(f"insmod {f}")
    r = shell.execute("rmmod badexit")
    # issue 14: free_module never runs after an Oops in exit: the module stays, Unloading
    assert "badexit" in shell.execute("lsmod").out
    assert " Unloading " in shell.execute("cat /proc/modules").out
    assert "kernel BUG at badexit.py:" in dmesg(shell)
    assert (r.err, r.status) == ("Segmentation fault\n", 139)
    r = shell.execute("rmmod badexit")
    assert r.status == 1         # delete_module: "already dying"
    assert r.err == "rmmod: ERROR: could not remove module badexit: Device or resource busy\n"
    assert shell.execute("rmmod -f badexit").status == 0
    assert "badexit" not in shell.execute("lsmod").out


def test_params_set_and_shown_in_sysfs(shell):
    assert shell.execute("insmod modules/hello.py who=class").status == 0
    assert shell.execute("cat /sys/module/hello/parameters/who").out == "class\n"
    shell.execute("rmmod hello")
    assert "Goodbye, class!" in dmesg(shell)


def test_unknown_and_invalid_parameters(shell, tmp_path):
    f = write(tmp_path, "prm", HEAD + ("count = 5\nmodule_param('count', 'int', "
                                       "0o644)\nMODULE_LICENSE('GPL')\n"))
    r = shell.execute(f"insmod {f} bogus=1")
    assert r.status == 0 and "prm: unknown parameter 'bogus' ignored" in dmesg(shell)
    shell.execute("rmmod prm")
    r = shell.execute(f"insmod {f} count=abc")
    assert r.err.endswith("Invalid parameters\n")
    assert "prm: `abc' invalid for parameter `count'" in dmesg(shell)
    assert shell.execute(f"insmod {f} count=7; cat /sys/module/prm/parameters/count").out == "7\n"


def test_init_returning_positive_warns_and_loads(shell, tmp_path):
    f = write(tmp_path, "pos", HEAD + "module_init(lambda: 3)\nMODULE_LICENSE('GPL')\n")
    assert shell.execute(f"insmod {f}").status == 0
    assert ("do_init_module: 'pos'->init suspiciously returned 3, it should follow 0/-E convention"
            in dmesg(shell))


def test_modinfo_fields(shell):
    out = shell.execute("modinfo modules/zone_allocator.py").out.splitlines()
    keys = [line.split(":", 1)[0] for line in out]
    # kmod prints the module's own entries last declared first, then srcversion (versioned)
    assert keys[:6] == ["filename", "version", "description", "author", "license", "srcversion"]
    assert "license:        GPL" in out
    assert any(line.startswith("vermagic:       6.1.0-kmsim") for line in out)


def test_module_without_exit_cannot_be_removed(shell, tmp_path):
    f = write(tmp_path, "noexit", HEAD + "module_init(lambda: 0)\nMODULE_LICENSE('GPL')\n")
    shell.execute(f"insmod {f}")
    assert shell.execute("rmmod noexit").err == ("rmmod: ERROR: could not remove 'noexit': Device "
                                                 "or resource busy\n"
                                                 "rmmod: ERROR: could not remove module noexit: "
                                                 "Device or resource busy\n")


def test_symbol_get_makes_module_in_use(shell, tmp_path):
    a = write(tmp_path, "provider", HEAD + ("def f():\n    return 1\nEXPORT_SYMBOL(f)\n"
                                            "module_exit(lambda: None)\nMODULE_LICENSE('GPL')\n"))
    b = write(tmp_path, "user", HEAD + ("g = symbol_get('f')\nmodule_exit(lambda: "
                                        "None)\nMODULE_LICENSE('GPL')\n"))
    shell.execute(f"insmod {a}; insmod {b}")
    assert shell.execute("rmmod provider").err == "rmmod: ERROR: Module provider is in use by: user\n"
    assert "provider" in shell.execute("lsmod").out.split("\n")[2] or "user" in shell.execute("lsmod").out
    assert shell.execute("rmmod user; rmmod provider").status == 0


def test_pages_freed_at_rmmod_return_to_boot_state(shell):
    k = shell.kernel
    k.buddy.drain_all_pages()
    before = [z.nr_free for z in k.buddy.zones]
    shell.execute("insmod modules/zone_allocator.py; rmmod zone_allocator")
    k.buddy.drain_all_pages()
    assert [z.nr_free for z in k.buddy.zones] == before


def test_integer_parameters_parse_as_kstrtox_base_0():
    """010 is octal, 0x hex, a sign where the type has one; out of range is -ERANGE."""
    sh = make_shell()
    mod = "tests/check_modules/params_kstrtox.py"
    r = sh.execute(f"insmod {mod} u=010 i=-0x10 sh=+7 h=255")
    assert r.status == 0
    assert "p: u=8 i=-16 sh=7 h=0xff" in sh.execute("dmesg").out
    assert sh.execute("cat /sys/module/params_kstrtox/parameters/h").out == "0x0000ff\n"
    sh.execute("rmmod params_kstrtox")
    r = sh.execute(f"insmod {mod} sh=40000")
    assert r.err == f"insmod: ERROR: could not insert module {mod}: Numerical result out of range\n"
    for bad in ("u=-1", "u=08", "i=0x", "i=1e3"):
        r = sh.execute(f"insmod {mod} {bad}")
        assert r.err == f"insmod: ERROR: could not insert module {mod}: Invalid parameters\n", bad


def test_lsmod_size_follows_the_module(tmp_path):
    # the reference: 16384 for modules with an exit function, 12288 for err_kfree_bad (none)
    sh = make_shell(mem="512M")
    sh.execute("insmod tests/slab_modules/err_kfree_bad.py mode=1")
    assert "err_kfree_bad          12288  1" in sh.execute("lsmod").out.splitlines()
    assert sh.execute("insmod modules/hello.py; lsmod").out.splitlines()[1].split()[1] == "16384"
    big = tmp_path / "big.py"
    big.write_text("from kmsim.linux import *\n" + "".join(
        f"def f{i}(a, b):\n    return a * {i} + b - {i} if a > b else b * {i} - a\n" for i in range(400))
        + "module_init(lambda: 0)\nmodule_exit(lambda: None)\nbuf = (u8 * 20000).static()\n"
          "MODULE_LICENSE('GPL')\n")
    sh.execute(f"insmod {big}")
    size = int(next(ln for ln in sh.execute("lsmod").out.splitlines() if ln.startswith("big ")).split()[1])
    assert size > 16384 + 20000 and size % 4096 == 0
