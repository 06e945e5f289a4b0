"""The soft-lockup watchdog (kernel/watchdog.c) for module code that runs too long.

A real soft lockup fires when a CPU has not scheduled for ``2 * watchdog_thresh``
seconds (``watchdog_thresh=`` on the command line, default 10).  kmsim maps host
CPU time to simulated time at ``SIM_SECONDS_PER_HOST_SECOND`` (10): with the
default threshold a ``while True:`` in a module is reported after 2.2 seconds of
host CPU, as "stuck for 22s".  A timer thread armed around each outermost call
into module code calls ``_thread.interrupt_main()``; the loader turns the
KeyboardInterrupt into the report when ``fired`` is set.  Nothing runs per bytecode, so normal
module code is not slowed, and nothing can fire outside module code.
"""
from __future__ import annotations

import _thread
import signal
import threading
import time

from .report import TAINT_SOFTLOCKUP

__all__ = ["Watchdog", "watchdog_init", "SIM_SECONDS_PER_HOST_SECOND"]

SIM_SECONDS_PER_HOST_SECOND = 10


class Watchdog:
    """One kernel's soft-lockup detector."""

    def __init__(self, kernel, thresh: int = 10):
        self.k = kernel
        self.thresh = thresh
        self.depth = 0
        self.fired = False
        self.started = 0.0
        self._lock = threading.Lock()
        self._saved_handler = None
        self._timer: _Watcher | None = None

    def timeout_seconds(self) -> float:
        """Simulated seconds a function may run: the kernel reports after 2*thresh (+2 s tick)."""
        return 2 * self.thresh + 2

    def arm(self) -> None:
        """Called when module code starts (nested calls share the outermost timer)."""
        self.depth += 1
        if self.depth > 1 or self.thresh <= 0:
            return
        if threading.current_thread() is not threading.main_thread():
            return
        self.fired = False
        self.started = time.process_time()
        # interrupt_main() does nothing while SIGINT is ignored (a background job)
        self._saved_handler = None
        if not callable(signal.getsignal(signal.SIGINT)):
            self._saved_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
        self._timer = _Watcher(self, self.timeout_seconds() / SIM_SECONDS_PER_HOST_SECOND)
        self._timer.start()

    def disarm(self) -> None:
        """Called when module code returns; idempotent for the outermost call."""
        if self.depth <= 0:
            return
        self.depth -= 1
        if self.depth == 0:
            with self._lock:
                t, self._timer = self._timer, None
            if t is not None:
                t.cancel()
            if self._saved_handler is not None:
                signal.signal(signal.SIGINT, self._saved_handler)
                self._saved_handler = None

    def _fire(self, watcher) -> None:
        with self._lock:
            if self._timer is not watcher or self.depth == 0:
                return
            self.fired = True
        _thread.interrupt_main()

    def stuck_seconds(self) -> int:
        """The simulated time the CPU was stuck."""
        if self.k.seed is not None:
            return int(self.timeout_seconds())
        return int((time.process_time() - self.started) * SIM_SECONDS_PER_HOST_SECOND)

    def report(self, tb) -> None:
        """watchdog_timer_fn: 'watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:PID]'."""
        k = self.k
        r = k.reporter
        secs = self.stuck_seconds()
        k.tick(secs * 1_000_000_000)
        lines = [f"watchdog: BUG: soft lockup - CPU#0 stuck for {secs}s! "
                 f"[{k.current.comm}:{k.current.pid}]", r.modules_linked_in(),
                 r.cpu_line(), r.hardware_line(), r.rip_of(tb)]
        lines += r.trace_lines([], tb=tb)
        r.emit(lines[:1], level=0)
        r.emit(lines[1:], level=4)
        k.add_taint(TAINT_SOFTLOCKUP)
        k.printk.emit(4, "kmsim: the module function never returned (an endless loop?): a real "
                         "kernel would stay stuck, kmsim stopped it")
        self.fired = False


class _Watcher(threading.Thread):
    """The watchdog's timer: fires once the process has spent `limit` seconds of CPU
    (a CPU that is busy, not a task that sleeps, is what a soft lockup means; and a
    loaded host does not make it fire early)."""

    def __init__(self, wd: Watchdog, limit: float):
        super().__init__(name="kmsim-watchdog", daemon=True)
        self.wd = wd
        self.limit = limit
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.process_time()
        while not self.stop.wait(0.05):
            if time.process_time() - start >= self.limit:
                self.wd._fire(self)
                return

    def cancel(self) -> None:
        """Stop watching (the module code returned)."""
        self.stop.set()


def watchdog_init(kernel) -> Watchdog:
    """Boot step: read watchdog_thresh= and register the watchdog."""
    thresh = 10
    val = kernel.params.get("watchdog_thresh")
    if isinstance(val, str):
        try:
            thresh = max(0, min(60, int(val)))
        except ValueError:
            pass
    wd = Watchdog(kernel, thresh)
    return wd
