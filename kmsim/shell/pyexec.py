"""The py command: Python with the kernel and every kmsim.linux name in scope."""
from __future__ import annotations

import traceback

import kmsim.linux as L

from ..errors import KernelEvent

__all__ = ["run_py", "py_namespace"]


def py_namespace(shell) -> dict:
    """The namespace py runs in: kernel (k), every kmsim.linux name."""
    ns = shell.py_namespace
    if ns is None or ns.get("kernel") is not shell.kernel:
        ns = {n: getattr(L, n) for n in L.__all__}
        ns.update(kernel=shell.kernel, k=shell.kernel, __name__="__kmsim_py__")
        shell.py_namespace = ns
    return ns


def run_py(ctx, src: str) -> int:
    """Evaluate an expression (printing its repr) or execute a statement."""
    src = _unquote(src)
    ns = py_namespace(ctx.shell)
    out: list[str] = []
    ns["print"] = lambda *a, sep=" ", end="\n", **_k: out.append(sep.join(map(str, a)) + end)
    wd = ctx.kernel.watchdog
    seq = ctx.kernel.printk.next_seq
    if wd is not None:
        wd.arm()                        # a py loop that never ends must not hang a batch
    ctx.kernel.py_depth += 1            # only then can an allocator's caller be py's code
    try:
        try:
            code = compile(src, "<py>", "eval")
            is_expr = True
        except SyntaxError:
            code = compile(src, "<py>", "exec")
            is_expr = False
        val = eval(code, ns)
        if is_expr and val is not None:
            out.append((f"{val:#x}" if isinstance(val, int) and not isinstance(val, bool) and val > 0xffff
                        else repr(val)) + "\n")
    except KeyboardInterrupt:
        ctx.out("".join(out), end="")
        if wd is not None and wd.fired:
            ctx.err(f"py: stopped after {wd.timeout_seconds()}s of simulated time "
                    f"(the soft-lockup watchdog's limit, watchdog_thresh={wd.thresh})")
        else:
            ctx.err("py: interrupted")
        return 130
    except KernelEvent as e:
        ctx.out("".join(out), end="")
        logged = ctx.kernel.printk.next_seq > seq      # a report, or nothing the kernel printed
        ctx.err(f"py: {type(e).__name__}: {e}" + (" (see dmesg)" if logged else ""))
        return 1
    except SyntaxError as e:
        ctx.err(f"py: SyntaxError: {e.msg}")
        return 1
    except SystemExit:
        raise                           # cmd_py's message: 'use exit to leave kmsim'
    except BaseException as e:          # GeneratorExit, BaseException itself: an error line too
        ctx.out("".join(out), end="")
        last = traceback.extract_tb(e.__traceback__)[-1]
        ctx.err(f"py: {type(e).__name__}: {e} (line {last.lineno})")
        return 1
    finally:
        ctx.kernel.py_depth -= 1
        if wd is not None:
            wd.disarm()
        ns.pop("print", None)
    ctx.out("".join(out), end="")
    return 0


def _unquote(src: str) -> str:
    """py 'a = 1; b = 2': the shell keeps py's text raw, so a statement quoted whole
    (the only way to put ';' in it) loses its quotes, as sh would remove them."""
    src = src.strip()
    if len(src) < 2 or src[0] not in "'\"" or src[-1] != src[0]:
        return src
    import shlex
    try:
        words = shlex.split(src)
    except ValueError:
        return src
    return words[0] if len(words) == 1 else src
