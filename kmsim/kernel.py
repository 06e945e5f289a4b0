"""The Kernel: one booted machine and the subsystems it owns.

``Kernel(machine="x86_64", mem="1G", append="", seed=None)`` boots: it parses
the command line, lays out physical memory, reserves what a real kernel
reserves, frees the rest to the buddy allocator, then runs the later boot steps
(slab, vmalloc, debugging tools).  Every subsystem is a typed attribute declared
in ``Kernel`` below; an optional one (``kasan``, ``kmemleak``) is None when off.
The only global is the current kernel that module code calls into
(``current_kernel()``, kept in ``kmsim/current.py``).
"""
from __future__ import annotations

import os
import random
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .current import current_kernel, set_current_kernel
from .machine import PAGE_SHIFT, PAGE_SIZE, Machine, get_profile, parse_size
from .mm.access import VirtMem
from .mm.buddy import fill_pcp_lists
from .mm.faultinject import FaultInject, fault_inject_init
from .mm.kasan import Kasan, kasan_init
from .mm.kmalloc import create_boot_caches
from .mm.kmemleak import Kmemleak, kmemleak_init
from .mm.memblock import (
    boot_memory_late,
    boot_messages_memory,
    boot_messages_nodes,
    free_initmem,
    memblock_reserved,
)
from .mm.page_alloc import PageAllocator
from .mm.physmem import PAGE_FLAG_NAMES, PhysMem
from .mm.slub import SLAB_RECLAIM_ACCOUNT, Slub, kmem_cache_init
from .mm.vmalloc import Vmalloc, vmalloc_init
from .printk import BootClock, FormatContext, LogBuffer, _as_int
from .report import Reporter, format_frame
from .watchdog import Watchdog, watchdog_init

if TYPE_CHECKING:                      # type-only: these sit above the kernel or beside it
    from .mm.page import Page
    from .mm.pagetable import PageTable
    from .mm.slab import KmemCache, Slab
    from .module import ModuleLoader

__all__ = ["Kernel", "Task", "Owner", "current_kernel", "set_current_kernel", "KNOWN_PARAMS",
           "install_loader"]

RELEASE = "6.1.0-kmsim"
VERSION = "#1 kmsim 6.1.0"

# The module loader sits above the kernel (kmsim/module.py imports this file), so the kernel
# does not import it: module.py installs its class here when it is imported (kmsim/__init__.py
# imports it), and each boot builds one.
_loader_class: type[ModuleLoader] | None = None


def install_loader(cls: type[ModuleLoader]) -> None:
    """Called once by kmsim/module.py: the class every booted kernel's k.modules is."""
    global _loader_class
    _loader_class = cls

KNOWN_PARAMS = {"slub_debug", "log_buf_len", "loglevel", "no_hash_pointers", "slab_nomerge",
                "kasan", "watchdog_thresh", "fail_page_alloc", "failslab", "init_on_alloc",
                "init_on_free", "debug_vm", "kmemleak", "quiet", "console", "ignore_loglevel",
                "root", "ro", "rw", "panic", "oops", "panic_on_warn", "slub_min_order",
                "slub_max_order", "slub_min_objects", "mem", "kasan.fault", "kasan_multi_shot"}


@dataclass
class Task:
    """The task running kernel code: insmod, rmmod, or the shell ('kmsim')."""
    pid: int
    comm: str
    entry_frames: list[str] = field(default_factory=list)
    oom_victim: bool = False       # chosen by the OOM killer: SIGKILL on return to user space


@dataclass
class Owner:
    """Who owns a frame or an object: the kernel, a module, a cache, vmalloc ..."""
    id: int
    kind: str        # "kernel", "reserved", "module", "slab", "vmalloc", "pgtable", "memmap"
    name: str
    module: Any = None               # the loader's Module, for kind "module"


SYSCALL_FRAMES = {
    "insmod": ["do_one_initcall+0x59/0x220", "do_init_module+0x4a/0x1f0",
               "__do_sys_finit_module+0xac/0x120", "do_syscall_64+0x5d/0xb0",
               "entry_SYSCALL_64_after_hwframe+0x6e/0xd8"],
    "rmmod": ["__do_sys_delete_module+0x1b9/0x330", "do_syscall_64+0x5d/0xb0",
              "entry_SYSCALL_64_after_hwframe+0x6e/0xd8"],
    "kmsim": ["ksys_write+0x6f/0xf0", "do_syscall_64+0x5d/0xb0",
              "entry_SYSCALL_64_after_hwframe+0x6e/0xd8"],
}


# How a 32-bit task enters the kernel (arch/x86/entry/entry_32.S, arch/arm/kernel/entry-common.S)
_ENTRY_32 = {
    "i386": ["__do_fast_syscall_32+0x6b/0xf0", "do_fast_syscall_32+0x32/0x70",
             "do_SYSENTER_32+0x15/0x20", "entry_SYSENTER_32+0x98/0xf1"],
    "rpi2": ["ret_fast_syscall+0x0/0x54"],
}


def parse_cmdline(text: str) -> dict[str, str | bool]:
    """Split a kernel command line into {param: value or True}."""
    params: dict[str, str | bool] = {}
    for word in shlex.split(text or ""):
        key, eq, val = word.partition("=")
        params[key] = val if eq else True
    return params


LOG_BUF_LEN = 128 * 1024              # CONFIG_LOG_BUF_SHIFT=17
# lib/vsprintf.c no_hash_pointers_enable(), one pr_warn per line
_NO_HASH_NOTICE = "\n".join([
    "*" * 58, "**   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **", "**" + " " * 54 + "**",
    "** This system shows unhashed kernel memory addresses   **",
    "** via the console, logs, and other interfaces. This    **",
    "** might reduce the security of your system.            **", "**" + " " * 54 + "**",
    "** If you see this message and you are not debugging    **",
    "** the kernel, report this immediately to your system   **",
    "** administrator!                                       **", "**" + " " * 54 + "**",
    "**   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **", "*" * 58])
LOG_BUF_LEN_MAX = 1 << 31


def log_buf_len_update(size: int) -> int:
    """kernel/printk/printk.c log_buf_len_update: the size rounded up to a power of two,
    at most 2G; the buffer only grows (a smaller log_buf_len= is ignored)."""
    size = min(size, LOG_BUF_LEN_MAX)
    if size:
        size = 1 << (size - 1).bit_length()
    return max(size, LOG_BUF_LEN)


class Kernel:
    """A booted simulated machine.

    :param machine: profile name ("x86_64", "i386", "rpi2") or a Machine
    :param mem: RAM size ("64M", "1G", "16G") or bytes
    :param append: kernel command line
    :param seed: a reproducible run when not None
    """
    # the machine and its memory
    machine: Machine
    phys: PhysMem                    # RAM and struct page arrays
    vm: VirtMem                      # every typed access of module code goes through it
    buddy: PageAllocator             # zones and free lists
    printk: LogBuffer
    printk_ctx: FormatContext        # vsprintf's %p hashing and helpers
    reporter: Reporter               # WARN, Oops, BUG, dump_stack
    modules: ModuleLoader            # insmod/rmmod; built by the loader kmsim/module.py installed
    # later boot steps
    slab: Slub                       # SLUB and kmalloc's caches
    vmalloc: Vmalloc                 # vmalloc, page tables, the modules area, pkmap
    faultinject: FaultInject         # failslab and fail_page_alloc
    kasan: Kasan | None              # with --append kasan
    kmemleak: Kmemleak | None        # unless kmemleak=off
    watchdog: Watchdog               # the soft-lockup detector around module code
    page_tables: PageTable | None    # init_mm's tables: None until vmalloc_init has built them
    thread_owners: dict[int, int]    # module threads (kmsim/modthread.py): thread ident -> owner
    regs_salt: str | None            # an unseeded boot's register values: set at its first dump
    # the fast paths' shortcuts into SLUB (kmalloc and kfree read them straight off the kernel)
    kmalloc_lookup: list[KmemCache]  # size -> normal kmalloc cache
    slab_of: dict[int, Slab]         # pfn of a slab page -> its slab
    debug_vm_last: str | None        # debug_vm's last first violation, reported once

    def __init__(self, machine: str | Machine = "x86_64", mem: str | int = "1G",
                 append: str = "", seed: int | None = None):
        self.machine = machine if isinstance(machine, Machine) else get_profile(machine)
        self.mem_bytes = parse_size(mem) if isinstance(mem, str) else int(mem)
        if self.mem_bytes < 16 << 20:
            raise ValueError("--mem must be at least 16M")
        if self.mem_bytes > 1 << 40:
            raise ValueError("--mem must be at most 1T")
        top = self.machine.max_mem
        if top is not None and self.mem_bytes > top:
            raise ValueError(f"--mem must be at most {top >> 20}M on {self.machine.name} "
                             f"({self.machine.max_mem_why})")
        self.append = append or ""
        self.params = parse_cmdline(self.append)
        self.seed = seed
        self.options = {"machine": self.machine.name, "mem": mem, "append": append, "seed": seed}
        self.rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "little"))
        self.release = RELEASE
        self.version = VERSION
        self.taint = 0
        self.lockdep_off_printed = False
        self._clock_ticks = 0
        self._boot_wall = time.monotonic_ns()
        self.boot_offset_ns = 1_480_000_000
        # an unseeded boot's lines at about the reference's times (a seeded one: fixed steps)
        self._boot_clock = BootClock(random.Random(os.urandom(8))) if seed is None else None
        self.owners: list[Owner] = []
        self.register_owner("free", "free")
        self.kernel_owner = self.register_owner("kernel", "kernel")
        self.current_owner = self.kernel_owner
        self.shell_task = Task(1, "kmsim", self.syscall_frames("kmsim"))
        self.current = self.shell_task
        self.next_pid = 200
        self.module_depth = 0                # > 0 while module code runs
        self.py_depth = 0                    # > 0 while a py statement of the shell runs
        self.context_hooks: list[Callable[[], object]] = []   # when module code starts or stops
        self.boot_hooks_after: list[Callable[[Kernel], object]] = []
        self.debug_vm_last = None
        self.kasan = None                    # the optional tools, until their boot step runs
        self.kmemleak = None
        self.page_tables = None
        self.thread_owners = {}
        self.regs_salt = None
        self.kernel_cmdline = ("BOOT_IMAGE=/boot/vmlinuz-" + RELEASE + " root=/dev/kmsim ro"
                               + (" " + self.append if self.append else ""))
        set_current_kernel(self)
        self._boot()

    # -- clock, owners, taint ------------------------------------------------------------
    def clock_ns(self) -> int:
        """Nanoseconds since boot: fixed steps under --seed, else the host clock."""
        if self.seed is not None:
            self._clock_ticks += 1
            if self._booted:
                return self._booted_at + self._clock_ticks * 21_113
            return (self._clock_ticks - 1) * 3_271
        if not self._booted:
            return self._boot_clock.now_ns if self._boot_clock is not None else 0
        return self.boot_offset_ns + time.monotonic_ns() - self._boot_wall

    def tick(self, ns: int) -> None:
        """Advance the seeded clock (the shell does it between commands)."""
        if self.seed is not None:
            self._booted_at += ns

    def advance_clock(self, ns: int) -> None:
        """Simulated time passes that the host did not spend (msleep, a soft lockup's
        stuck seconds): the seeded clock, or the host clock's offset."""
        if self.seed is not None:
            self._booted_at += ns
        else:
            self.boot_offset_ns += ns

    def register_owner(self, kind: str, name: str, module=None) -> int:
        """Register an owner for frames and objects; returns its id."""
        o = Owner(len(self.owners), kind, name, module)
        self.owners.append(o)
        return o.id

    def add_taint(self, bit: int) -> None:
        """add_taint(): set a taint bit."""
        self.taint |= 1 << bit

    def new_task(self, comm: str) -> Task:
        """A new task (insmod, rmmod) with the next pid."""
        self.next_pid += self.rng.randint(1, 4) if self.seed is None else 3
        return Task(self.next_pid, comm, self.syscall_frames(comm))

    def syscall_frames(self, comm: str) -> list[str]:
        """The bottom of a call trace: the system call the task entered the kernel with."""
        frames = SYSCALL_FRAMES.get(comm, SYSCALL_FRAMES["kmsim"])
        if self.machine.name == "x86_64":
            return frames
        entry = _ENTRY_32.get(self.machine.name, [])
        return [f for f in frames if not f.startswith(("do_syscall_64", "entry_SYSCALL_64"))] + entry

    # -- boot ----------------------------------------------------------------------------
    def _boot(self) -> None:
        self._booted = False
        self._booted_at = 0
        m = self.machine
        self.phys_end, self.phys_holes = self._e820()
        self.nr_pages = self.phys_end >> PAGE_SHIFT
        self.phys = PhysMem(self.nr_pages)
        self._malformed: list[str] = []
        cap = log_buf_len_update(self._param_size("log_buf_len", 0))
        self.printk = LogBuffer(self.clock_ns, cap, m.ptr_size)
        self.printk.boot_clock = self._boot_clock
        if "loglevel" in self.params:
            try:
                self.printk.console_loglevel = int(str(self.params["loglevel"]), 0)
            except ValueError:
                self._malformed.append("loglevel")
        self.printk.ignore_loglevel = "ignore_loglevel" in self.params
        self.printk.hints = str(self.params.get("kmsim.hints", "1")) not in ("0", "off", "n", "N")
        key = self.rng.getrandbits(256).to_bytes(32, "little")
        self.printk_ctx = FormatContext(m.ptr_size, key, "no_hash_pointers" in self.params)
        self.reporter = Reporter(self)
        lowmem = self.phys_end if m.lowmem_limit is None else min(self.phys_end, m.lowmem_limit)
        self.lowmem_bytes = lowmem
        self.vm = VirtMem(self, lowmem)
        self.printk_ctx.read_cstring = self.vm.read_cstring
        self.printk_ctx.page_addr = lambda page: self.page_struct_addr(page.pfn)
        self.printk_ctx.symbol = self._symbol
        self.buddy = PageAllocator(self, self.phys)
        self.buddy.init_on_alloc = str(self.params.get("init_on_alloc", "1")) not in ("0", "off")
        self.buddy.build_zones(m, self.nr_pages)
        self._boot_messages_early()
        reserved = self._memblock_reserved()
        self.buddy.free_boot_memory(reserved, self.rng)
        self._boot_messages_memory(reserved)
        boot_memory_late(self)
        self.boot_activity()
        if _loader_class is None:
            raise RuntimeError("kmsim.module is not imported (import kmsim first)")
        self.modules = _loader_class(self)
        self._boot_subsystems()
        self._report_unknown_params()
        free_initmem(self)
        self.fill_pcp_lists()
        for hook in self.boot_hooks_after:
            hook(self)
        self._booted = True
        self._booted_at = 1_480_000_000 if self.seed is not None else 0
        if self._boot_clock is not None:           # unseeded: the host clock from here on
            self.boot_offset_ns = self._boot_clock.end_ns()
            self._boot_wall = time.monotonic_ns()
            self._boot_clock = self.printk.boot_clock = None

    def _boot_subsystems(self) -> None:
        """mm_init's later steps, in the kernel's order: SLUB and the boot caches, vmalloc,
        then the debugging tools, which attach to the allocators' hook points."""
        self.slab = kmem_cache_init(self)
        self.slab_of = self.slab.slab_of
        create_boot_caches(self, self.slab)
        self.kmalloc_lookup = self.slab.kmalloc_lookup
        self.slab.boot_message()
        self.vmalloc = vmalloc_init(self)
        self.page_tables = self.vmalloc.pt
        self.faultinject = fault_inject_init(self)
        self.kasan = kasan_init(self)
        self.kmemleak = kmemleak_init(self)
        self.watchdog = watchdog_init(self)

    def boot_activity(self) -> None:
        """What a kernel does between memblock and the shell: it allocates pages for its own
        use (stacks, page cache, tables), frees some, and leaves the pcp lists populated, so
        buddyinfo starts fragmented and a few small allocations do not move it.
        """
        rng, buddy = self.rng, self.buddy
        n = min(self.nr_pages // 256, 1500)
        held = []
        for _ in range(n):
            order = rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
            pfn = buddy.alloc(0xcc0 | 0x2000, order)
            if pfn >= 0:
                held.append((pfn, order))
        rng.shuffle(held)
        for pfn, order in held[: len(held) * 2 // 3]:
            buddy.free(pfn, order)

    def fill_pcp_lists(self) -> None:
        """The pcp lists at the end of boot (mm.buddy.fill_pcp_lists)."""
        fill_pcp_lists(self.buddy.zones)

    def _param_size(self, name: str, default: int) -> int:
        val = self.params.get(name)
        if not isinstance(val, str):
            return default
        try:
            return parse_size(val)
        except ValueError:
            return default

    def _e820(self) -> tuple[int, list[tuple[int, int]]]:
        """The physical address space of a PC as QEMU lays it out (x86_64): the firmware
        keeps the last 128 KiB below the top of low RAM, and with 3.5 GiB or more, RAM above
        3 GiB moves above 4 GiB (the PCI hole), so zone Normal is populated.
        Returns the end of the address space and its holes as pfn ranges."""
        mem = self.mem_bytes
        if self.machine.name != "x86_64":
            return mem, []
        low_end = 0xc0000000 if mem >= 0xe0000000 else mem
        ram_low = low_end - 0x20000
        if mem == low_end:
            return ram_low, []
        return (1 << 32) + mem - low_end, [(ram_low >> PAGE_SHIFT, 1 << (32 - PAGE_SHIFT))]

    def _memblock_reserved(self) -> list[tuple[int, int, int]]:
        """The frames a booted kernel keeps: low memory, the image, mem_map."""
        m = self.machine
        self.boot_layout = None
        self.shmem_pages = 0            # rootfs's page cache (memblock.populate_rootfs)
        if m.name == "x86_64" and self.mem_bytes >= 256 << 20:
            return memblock_reserved(self)
        res = []
        for start, end in self.phys_holes:
            self.buddy.mark_hole(start, end)
        if m.name in ("x86_64", "i386"):
            self.buddy.mark_hole(0, 1)
            hole = (0x9f, 0x100) if self.nr_pages > 0x100 else (0x9f, 0x9f)
            self.buddy.mark_hole(*hole)
            res.append((1, 0x9f, self.register_owner("reserved", "real mode/BIOS")))
        img = self.register_owner("reserved", "kernel image")
        start = m.kernel_phys >> PAGE_SHIFT
        size = min(m.kernel_image_size, self.mem_bytes // 4) >> PAGE_SHIFT
        res.append((start, start + size, img))
        memmap_pages = (self.nr_pages * 64 + PAGE_SIZE - 1) >> PAGE_SHIFT
        top = self.lowmem_bytes >> PAGE_SHIFT
        res.append((top - memmap_pages, top, self.register_owner("memmap", "mem_map")))
        self.memmap_pages = memmap_pages
        other = min(self.nr_pages // 64, 4096)     # percpu, page tables, hash tables
        res.append((top - memmap_pages - other, top - memmap_pages,
                    self.register_owner("reserved", "boot allocations")))
        return res

    def _boot_messages_early(self) -> None:
        p = self.printk
        p.emit(5, f"Linux version {RELEASE} (kmsim@kmsim) (Python simulation of the Linux 6.1 "
                  f"memory allocators) {VERSION}")
        p.emit(6, f"Command line: {self.kernel_cmdline}")
        for name in self._malformed:                  # do_early_param: the option refused
            p.emit(4, f"Malformed early option '{name}'")
        if self.printk.ignore_loglevel:
            p.emit(6, "debug: ignoring loglevel setting.")
        if "no_hash_pointers" in self.params:
            for line in _NO_HASH_NOTICE.split("\n"):
                p.emit(4, line)
        if self._param_size("log_buf_len", 0) > LOG_BUF_LEN_MAX:
            p.emit(3, "log_buf over 2G is not supported.")
        if p.capacity > LOG_BUF_LEN:
            p.emit(6, f"log_buf_len: {p.capacity} bytes")
            used = p.used
            free = LOG_BUF_LEN - used
            p.emit(6, f"early log buf free: {free}({free * 100 // LOG_BUF_LEN}%)")
        p.emit(6, "Zone ranges:")
        for spec_name in self.machine.zone_names_all:
            z = self.buddy.zone_by_name.get(spec_name)
            if spec_name in ("Movable", "Device"):
                continue
            if z is None:
                p.emit(6, f"  {spec_name:<8} empty")
            else:
                lo = max(z.zone_start_pfn, 1 if self.machine.name != "rpi2" else 0) << PAGE_SHIFT
                p.emit(6, f"  {spec_name:<8} [mem {lo:#018x}-{(z.end_pfn << PAGE_SHIFT) - 1:#018x}]")
        if self.machine.name == "x86_64" and self.mem_bytes >= 256 << 20:
            boot_messages_nodes(self)

    def _boot_messages_memory(self, reserved) -> None:
        p = self.printk
        if self.boot_layout is not None:
            boot_messages_memory(self)
            return
        total = sum(z.managed for z in self.buddy.zones)
        p.emit(6, f"Built 1 zonelists, mobility grouping on.  Total pages: {total}")
        p.emit(5, f"Kernel command line: {self.kernel_cmdline}")
        p.emit(6, "mem auto-init: stack:all(zero), heap alloc:"
                  f"{'on' if self.buddy.init_on_alloc else 'off'}, heap free:off")
        kb = PAGE_SIZE >> 10
        present = sum(z.present for z in self.buddy.zones)
        p.emit(6, f"Memory: {self.buddy.nr_free_pages() * kb}K/{present * kb}K available "
                  f"({self.machine.kernel_image_size >> 10}K kernel code+data, "
                  f"{(present - total) * kb}K reserved, 0K cma-reserved)")

    def _report_unknown_params(self) -> None:
        unknown = [k for k in self.params if k not in KNOWN_PARAMS and "." not in k]
        if unknown:
            words = " ".join(u if self.params[u] is True else f"{u}={self.params[u]}" for u in unknown)
            self.printk.emit(5, f"Unknown kernel command line parameters \"{words}\", "
                                f"will be passed to user space.")

    # -- helpers used across subsystems ---------------------------------------------------
    def page_struct_addr(self, pfn: int) -> int:
        """Virtual address of a frame's struct page (vmemmap + pfn * 64)."""
        return self.machine.vmemmap_base + pfn * 64

    def page_flag_names(self, pfn: int) -> str:
        """Names of a frame's flags, as %pGp prints them."""
        f = int(self.phys.flags[pfn])
        names = [n for bit, n in PAGE_FLAG_NAMES.items() if f & bit]
        zone = self.buddy.zone_of(pfn)
        return "|".join(names + [f"zone={zone.idx if zone else 0}"])

    def pfn_to_virt(self, pfn: int) -> int:
        """Direct-map address of a lowmem frame (0 for HighMem)."""
        addr = pfn << PAGE_SHIFT
        if addr >= self.lowmem_bytes:
            return 0
        return self.machine.page_offset + addr

    def virt_to_pfn(self, addr: int) -> int:
        """Frame of a direct-map address, or -1 if the address is not in the direct map."""
        if self.vm.is_direct(addr):
            return (addr - self.machine.page_offset) >> PAGE_SHIFT
        return -1

    def slab_pages(self) -> int:
        """Pages held by slab caches."""
        return self.slab.total_pages()

    def slab_reclaimable_pages(self) -> int:
        """Pages of the SLAB_RECLAIM_ACCOUNT caches (NR_SLAB_RECLAIMABLE_B, SReclaimable)."""
        caches = {id(s): s for s in self.slab.caches if s.flags & SLAB_RECLAIM_ACCOUNT}
        return sum(len(s.slabs()) << s.order for s in caches.values())

    # -- mm/highmem.c and the vmalloc area, for the module API and the views ------------
    def kmap(self, page: Page) -> int:
        """kmap: a HighMem page through a pkmap slot, any other at its direct-map address."""
        return self.vmalloc.kmap(page)

    def kunmap(self, page: Page) -> None:
        """kunmap: drop the page's pkmap reference (nothing for a lowmem page)."""
        self.vmalloc.kunmap(page)

    def kmap_address(self, pfn: int) -> int:
        """The pkmap address a HighMem frame is mapped at, or 0."""
        return self.vmalloc.kmap_address(pfn)

    def kunmap_addr(self, addr: int) -> None:
        """kunmap by address (kunmap_local)."""
        self.vmalloc.kunmap_addr(addr)

    def module_alloc(self, size: int) -> int:
        """module_alloc: a module's memory in the modules area (0 on failure)."""
        return self.vmalloc.module_alloc(size)

    def module_memfree(self, addr: int) -> bool:
        """module_memfree: True if addr was module memory (now freed)."""
        return self.vmalloc.module_memfree(addr)

    def vmalloc_stats(self) -> tuple[int, int]:
        """(VmallocUsed in kB, page-table pages) for /proc/meminfo."""
        return self.vmalloc.stats()

    @property
    def vmalloc_start(self) -> int:
        """VMALLOC_START."""
        return self.vmalloc.vmalloc_start

    @property
    def vmalloc_end(self) -> int:
        """VMALLOC_END."""
        return self.vmalloc.vmalloc_end

    def debug_checkers(self) -> list[tuple[str, Callable[[], list[str]]]]:
        """The subsystems' own invariant checks, by name, for debug_vm."""
        return [("slab", self.slab.debug_check), ("vmalloc", self.vmalloc.debug_check)]

    def _symbol(self, arg) -> str:
        """%pS: 'func+0x0/0xSIZE [module]' for a module's function, else the raw address."""
        code = getattr(arg, "__code__", None)
        if code is not None:
            mod = self.modules.module_files().get(code.co_filename)
            return format_frame(getattr(arg, "__name__", "?"), 0, code, mod).strip()
        addr = _as_int(arg, self.printk_ctx) or 0
        return f"{addr & ((1 << (self.machine.ptr_size * 8)) - 1):#x}"

    def uptime_ns(self) -> int:
        """Current time since boot."""
        return self.clock_ns()

