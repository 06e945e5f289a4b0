"""The corpus of broken modules (tests/bad_modules/): each gives its message, the machine survives.

Each file's header says what it does wrong and what the kernel must print:

    # BAD: what the module does wrong
    # EXPECT: a regex searched in everything the session printed (shell output and dmesg)
    # APPEND: kernel command line for the boot
    # ARGS: insmod parameters
    # RUN: more shell commands after the insmod, ';'-separated
    # STATUS: the insmod's expected exit status (default: whatever, but no internal error)

Afterwards: no traceback, no internal error, check_kernel() == [] (a double free must not
corrupt the allocator), and the same session loads and unloads Listing 2 cleanly.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, make_shell

from kmsim.mm.debug_vm import check_kernel

CORPUS = ROOT / "tests" / "bad_modules"

# Files that cannot carry a header (empty, binary): their expectations live here.
TABLE = {
    "empty.py": {"EXPECT": r"empty: module license 'unspecified' taints kernel",
                 "RUN": "lsmod; rmmod empty"},
    "binary_garbage.py": {"EXPECT": r"insmod: ERROR: could not load module "
                                    r".*binary_garbage\.py: Invalid module format"},
}


FORBIDDEN = ("Traceback", "internal error")


def parse_header(path: Path) -> dict:
    """The '# KEY: value' lines at the top of a corpus file (or its TABLE entry)."""
    if path.name in TABLE:
        return dict(TABLE[path.name])
    head = {}
    for line in path.read_bytes().decode("latin-1").splitlines():
        m = re.match(r"#\s*([A-Z]+):\s*(.*)", line)
        if m:
            head[m.group(1)] = m.group(2).strip()
        elif line.strip() and not line.startswith("#"):
            break
    return head


def corpus_params():
    """One pytest param per corpus file."""
    return [pytest.param(path, parse_header(path), id=path.stem) for path in sorted(CORPUS.glob("*.py"))]


def listing2() -> tuple[str, str]:
    """Listing 2 (modules/slab_cache.py): its file and its name."""
    return "modules/slab_cache.py", "slab_cache"


def session_text(sh, results) -> str:
    """Everything the session printed: the whole log (first: it comes first), then each result's streams."""
    parts = [rec.text for rec in sh.kernel.printk.records]
    for r in results:
        parts += [r.out, r.err, r.console]
    return "\n".join(parts)


def run_bad(path: Path, head: dict):
    """Boot, insmod the bad module, run its extra commands; returns (shell, results)."""
    sh = make_shell(append=head.get("APPEND", ""))
    rel = path.relative_to(ROOT)
    args = head.get("ARGS", "")
    results = [sh.execute(f"insmod {rel} {args}".strip())]
    if head.get("RUN"):
        results.append(sh.execute(head["RUN"]))
    return sh, results


def test_corpus_is_big_enough():
    """At least 30 broken modules, each with an expectation."""
    files = sorted(CORPUS.glob("*.py"))
    assert len(files) >= 30
    for f in files:
        assert parse_header(f).get("EXPECT"), f"{f.name} has no EXPECT line"


@pytest.mark.parametrize("path,head", corpus_params())
def test_bad_module(path: Path, head: dict, monkeypatch):
    """Expected message, no traceback, invariants hold, Listing 2 still loads and unloads."""
    monkeypatch.chdir(ROOT)
    sh, results = run_bad(path, head)
    text = session_text(sh, results)
    for bad in FORBIDDEN:
        assert bad not in text, f"{path.name}: '{bad}' in output:\n{text[-3000:]}"
    assert re.search(head["EXPECT"], text), f"{path.name}: /{head['EXPECT']}/ not in:\n{text[-4000:]}"
    if "STATUS" in head:
        assert results[0].status == int(head["STATUS"])
    assert all(r.status in (0, 1, 2, 130, 137, 139) for r in results)
    assert check_kernel(sh.kernel) == []
    _listing2_still_works(sh)


def _listing2_still_works(sh) -> None:
    file, name = listing2()
    seq = sh.kernel.printk.next_seq
    r1 = sh.execute(f"insmod {file}")
    assert r1.status == 0, r1.err
    assert name in sh.execute("lsmod").out
    r2 = sh.execute(f"rmmod {name}")
    assert r2.status == 0, r2.err
    new = [rec.text for rec in sh.kernel.printk.since(seq)]
    assert not any(t.startswith(("BUG", "WARNING", "Oops", "kernel BUG")) for t in new), new
    assert name not in sh.execute("lsmod").out
    assert check_kernel(sh.kernel) == []


def _accounted(k) -> bool:
    """Every frame is free (counted once), owned, or a hole."""
    from kmsim.mm.physmem import PG_hole
    owned = int((k.phys.owner != 0).sum())
    holes = int(((k.phys.flags & PG_hole) != 0).sum())
    return k.buddy.nr_free_pages() + owned + holes == k.nr_pages


def test_double_free_keeps_page_once(monkeypatch):
    """After a double free the page is on exactly one free list, and the free count is right."""
    monkeypatch.chdir(ROOT)
    sh = make_shell()
    k = sh.kernel
    assert _accounted(k)
    sh.execute("insmod tests/bad_modules/double_free_pages.py")
    sh.execute("insmod tests/bad_modules/double_free_order4.py")
    assert check_kernel(k) == []
    assert _accounted(k)
    assert k.taint & (1 << 5)        # B: bad page


def test_leak_stays_owned(monkeypatch):
    """Leaked pages stay owned by the unloaded module: the allocator is consistent, not free."""
    monkeypatch.chdir(ROOT)
    sh = make_shell()
    sh.execute("insmod tests/bad_modules/leak_pages.py; rmmod leak_pages")
    k = sh.kernel
    owners = [o.id for o in k.owners if o.kind == "module" and o.name == "leak_pages"]
    assert (k.phys.owner == owners[0]).sum() == 4
    assert check_kernel(k) == []


def test_float_order_frees_nothing(monkeypatch):
    """free_pages(addr, 2.0) is refused before it changes the page (no frame is lost)."""
    monkeypatch.chdir(ROOT)
    sh = make_shell()
    k = sh.kernel
    sh.execute("insmod tests/bad_modules/float_order.py")
    owner = [o.id for o in k.owners if o.kind == "module" and o.name == "float_order"][0]
    owned = k.phys.owner == owner
    assert owned.sum() >= 4
    assert check_kernel(k) == []
    assert _accounted(k)


def test_sys_exit_does_not_end_the_shell(monkeypatch):
    """A module calling sys.exit() gets an Oops; the shell goes on."""
    monkeypatch.chdir(ROOT)
    sh = make_shell()
    r = sh.execute("insmod tests/bad_modules/sys_exit.py; echo alive")
    assert "alive" in r.out
    assert not r.exit
