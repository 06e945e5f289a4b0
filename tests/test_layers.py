"""kmsim's layers, read from its imports: arrows point down, and no module-level cycle.

cli -> shell -> fs -> check -> module (loader) -> cc -> linux (headers) -> lib -> kernel
-> mm -> machine, printk, report (docs/internals.md draws it).  kmsim/__init__.py is the
composition root: it imports the loader so that the loader can install itself in the
kernel.  An import inside a function counts as an arrow too; it is allowed only where a
cycle forces it, and then its line says so in a comment naming the cycle, or where
importing it at the top would cost a start-up that most runs never use ("# lazy: ..."
saying what it costs).  Imports under ``if TYPE_CHECKING:`` are for the type checker
only and are not arrows.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "kmsim"

# Higher is further up; a module may import its own layer or lower ones.
LAYERS = [
    (90, ("kmsim", "kmsim.__main__", "kmsim.cli", "kmsim.bench", "kmsim.benchmod", "kmsim.benchfill")),
    (80, ("kmsim.shell",)),
    (70, ("kmsim.fs",)),
    (60, ("kmsim.check", "kmsim.check_pool", "kmsim.check_sandbox", "kmsim.check_worker")),
    (50, ("kmsim.module", "kmsim.modcopy", "kmsim.loader_hints", "kmsim.modsource", "kmsim.modthread")),
    (48, ("kmsim.cc",)),                 # C modules: translated to calls of the headers
    (47, ("kmsim.linux",)),
    (45, ("kmsim.lib",)),
    (40, ("kmsim.kernel",)),
    (30, ("kmsim.mm", "kmsim.watchdog", "kmsim.sched")),
    # the bottom: what every layer may use; mm/gfp.py (gfp_types.h) and linux/errno.h are
    # constants that import nothing
    (10, ("kmsim.machine", "kmsim.printk", "kmsim.report", "kmsim.errors", "kmsim.current", "kmsim.regs",
          "kmsim.mm.gfp", "kmsim.linux.errno", "kmsim.hostpath", "kmsim.version")),
]


def layer_of(name: str) -> int:
    """The layer of a module: the longest prefix in LAYERS that names it or its package."""
    best, level = -1, None
    for lvl, prefixes in LAYERS:
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and len(p) > best and not (
                    p == "kmsim" and name != "kmsim"):
                best, level = len(p), lvl
    assert level is not None, f"{name} is in no layer: add it to LAYERS"
    return level


def _modules() -> dict[str, Path]:
    mods = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


MODULES = _modules()


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


@functools.cache
def imports_of(name: str) -> list[tuple[str, int, bool]]:
    """(imported kmsim module, line, inside a function) for each run-time import of a module
    (parsed once: three tests walk every module)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = _type_checking_lines(tree)
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    in_func = {ln for f in funcs for ln in range(f.lineno, (f.end_lineno or f.lineno) + 1)}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            if node.level:
                base = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names]
        for t in targets:
            if t.startswith("kmsim") and t != name:
                while t not in MODULES:
                    t = t.rpartition(".")[0]
                out.append((t, node.lineno, node.lineno in in_func))
    return out


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_arrows_point_down(name):
    up = [f"{name}:{line} imports {t} (layer {layer_of(t)} > {layer_of(name)})"
          for t, line, _f in imports_of(name) if layer_of(t) > layer_of(name)]
    assert not up, "upward arrows:\n" + "\n".join(up)


def test_function_level_imports_say_which_cycle():
    bare = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for _t, line, in_func in imports_of(name):
            if in_func and "# cycle:" not in lines[line - 1] and "# lazy:" not in lines[line - 1]:
                bare.append(f"{name}:{line}: {lines[line - 1].strip()}")
    assert not bare, ("function-level imports without a '# cycle: ...' or '# lazy: ...' reason:\n"
                      + "\n".join(bare))


def test_no_module_level_cycle():
    graph = {n: {t for t, _l, f in imports_of(n) if not f} for n in MODULES}
    # kmsim/__init__ is the composition root: every submodule's import passes through it
    graph = {n: {t for t in ts if t != "kmsim"} for n, ts in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for t in sorted(graph[n]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(path[path.index(t):] + [t]) if t in path else f"{n} -> {t}")
            elif t not in state:
                visit(t, path + [t])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_layers_test_sees_a_known_arrow():
    """The parser finds the kernel's import of the page allocator (a sanity check)."""
    assert ("kmsim.mm.page_alloc", 0) in [(t, 0) for t, _l, _f in imports_of("kmsim.kernel")]
