"""Register dumps: what show_regs() prints after the RIP line of a WARNING, BUG or Oops.

As arch/x86/kernel/process_64.c __show_regs (x86_64), process_32.c __show_regs (i386),
arch/x86/kernel/dumpstack.c show_ip / show_opcodes / show_iret_regs and
arch/arm/kernel/process.c __show_regs (rpi2) print them.  The values come from the
simulated state where it has one (CR2 the faulting address, CR3 the kernel's page-table
root, RSP in the task's stack, RDI/RSI the arguments of the API function the module
called) and are otherwise plausible and seeded: the same boot with the same --seed
prints the same registers.  ``Code:`` bytes are the reference kernel's for the
functions it was seen in, synthetic for the others.
"""
from __future__ import annotations

import hashlib
import os
import random

__all__ = ["Regs", "kernel_regs", "user_regs", "show_regs", "show_user_regs", "code_line",
           "SHOW_REGS_ALL", "SHOW_REGS_SHORT", "arm_stack", "arm_text_addr", "dump_mem",
           "arm_exception_stack", "mem_dump_obj", "arm_regs_alloc_free", "arm_uregs",
           "arm_backtrace_stm"]

SHOW_REGS_ALL = "all"
SHOW_REGS_SHORT = "short"

# Code: lines Linux 6.1.0-56-amd64 printed at these RIPs (reference/out/).
KNOWN_CODE = {
    "kfree+0x4b/0x110":
        "80 48 01 d8 0f 82 d8 00 00 00 48 c7 c2 00 00 00 80 48 2b 15 a7 c7 15 01 48 01 d0 48 c1 e8 "
        "0c 48 c1 e0 06 48 03 05 85 c7 15 01 <48> 8b 50 08 48 89 c7 f6 c2 01 0f 85 9f 00 00 00 66 "
        "90 48 8b 07 f6",
    "kmem_cache_free+0x2f7/0x310":
        "40 ad 00 e9 61 fe ff ff 4d 89 e9 48 89 d9 48 89 da 4c 89 e6 5b 48 89 ef 41 b8 01 00 00 00 "
        "5d 41 5c 41 5d 41 5e e9 19 f9 ff ff <0f> 0b 48 8b 15 80 ca 6e 01 e9 42 fd ff ff 66 66 2e "
        "0f 1f 84 00 00",
    "free_to_partial_list+0x42d/0x4f0":
        "a4 ff ff 89 44 24 10 e9 41 fc ff ff 48 83 c4 30 49 8d 7f 08 48 c7 c6 30 a1 32 9c 5b 5d 41 "
        "5c 41 5d 41 5e 41 5f e9 53 f3 e0 ff <0f> 0b 48 89 df e8 f9 c1 21 00 84 c0 0f 84 8b 00 00 "
        "00 49 8b 47 10",
    "free_large_kmalloc+0x3c/0x70":
        "74 28 0f b6 6f 51 85 ed 74 20 be 00 10 00 00 89 e9 48 d3 e6 f7 de 48 89 df e8 00 f7 ff ff "
        "89 ee 48 89 df 5b 5d e9 04 d2 03 00 <0f> 0b 80 3d cd df 94 01 00 74 09 be 00 f0 ff ff 31 "
        "ed eb d8 48 c7",
    "kmem_cache_destroy+0x141/0x150":
        "00 eb c6 5b 5d 41 5c 41 5d c3 cc cc cc cc 48 8b 53 60 48 8b 4c 24 20 48 c7 c6 40 b6 e3 b3 "
        "48 c7 c7 80 43 17 b4 e8 af 92 de ff <0f> 0b e9 ea fe ff ff c3 cc cc cc cc 0f 1f 00 55 48 "
        "89 e5 41 57 49",
    "__alloc_pages+0x2a9/0x330":
        "00 00 00 48 89 44 24 08 e9 5f fe ff ff 83 fd 0a 0f 86 d3 fd ff ff 80 3d 3a da 90 01 00 0f "
        "85 5b fe ff ff c6 05 2d da 90 01 01 <0f> 0b e9 4d fe ff ff f7 c2 00 00 08 00 75 55 89 d8 "
        "24 7f f7 c2 00",
}

# The user-mode instruction a task entered the kernel from: glibc's syscall() (kmod's
# finit_module) and its delete_module() stub, as the reference printed them.
USER_CODE = {
    "insmod": ("829", 0x139, "08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 "
                             "48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 "
                             "c3 48 8b 0d a7 15 0d 00 f7 d8 64 89 01 48"),
    "rmmod": ("b87", 0xb0, "73 01 c3 48 8b 0d 79 92 0c 00 f7 d8 64 89 01 48 83 c8 ff c3 66 2e 0f 1f 84 00 "
                           "00 00 00 00 0f 1f 44 00 00 b8 b0 00 00 00 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 "
                           "48 8b 0d 49 92 0c 00 f7 d8 64 89 01 48"),
    "kmsim": ("a37", 0x1, "73 01 c3 48 8b 0d 79 92 0c 00 f7 d8 64 89 01 48 83 c8 ff c3 66 2e 0f 1f 84 00 "
                          "00 00 00 00 0f 1f 44 00 00 b8 01 00 00 00 0f 05 <48> 3d 00 f0 ff ff 77 51 c3 "
                          "48 83 ec 28 48 89 54 24 18 48"),
}

# Byte runs that x86-64 functions are made of (prologues, moves, calls, tests, jumps).
_FRAGMENTS = ["55", "48 89 e5", "41 57", "41 56", "41 55", "41 54", "53", "48 83 ec 10", "48 89 fb",
              "48 8b 47 08", "48 8b 45 f8", "48 89 df", "e8 {r} {r} {r} ff", "85 c0", "74 {r}",
              "75 {r}", "0f 84 {r} {r} 00 00", "48 85 db", "5b", "5d", "41 5c", "41 5d", "c3",
              "31 c0", "89 c6", "48 c7 c7 {r} {r} {r} c0", "66 90", "0f 1f 44 00 00", "eb {r}",
              "48 8b 13", "49 89 c4", "4c 89 e7", "be c0 0c 00 00", "48 83 c4 10"]


class Regs(dict):
    """pt_regs: register name (lower case: 'ip', 'sp', 'ax', 'r8' ...) to value."""


def _rng(k, what: str, pid: int) -> random.Random:
    """A generator of plausible values, the same for one (boot seed, task, purpose)."""
    if k.seed is not None:
        base = str(k.seed)
    else:
        if k.regs_salt is None:
            k.regs_salt = os.urandom(8).hex()        # one unseeded boot: its own values
        base = k.regs_salt
    digest = hashlib.sha256(f"{base}:{what}:{pid}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def stack_top(k, pid: int) -> int:
    """The top of a task's kernel stack (vmalloc'd on x86_64, lowmem on 32-bit)."""
    m = k.machine
    if m.name == "x86_64":
        return 0xffffc90000000000 + 0x600000 + (pid % 512) * 0x8000 + 0x4000
    return m.page_offset + 0x04a00000 + (pid % 512) * 0x2000 + 0x2000


def _code_bytes(key: str, marker: str) -> str:
    """64 plausible code bytes around the faulting one, the same for one function."""
    rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))
    out: list[str] = []
    while len(out) < 42:
        frag = rng.choice(_FRAGMENTS).replace("{r}", "%02x")
        out += [b if b != "%02x" else f"{rng.randrange(256):02x}" for b in frag.split()]
    out = out[-42:]
    tail: list[str] = []
    while len(tail) < 21:
        frag = rng.choice(_FRAGMENTS).replace("{r}", "%02x")
        tail += [b if b != "%02x" else f"{rng.randrange(256):02x}" for b in frag.split()]
    first, *rest = marker.split()
    return " ".join(out + [f"<{first}>"] + (rest + tail)[:21])


def code_line(sym: str, kind: str) -> str:
    """'Code: 80 48 ... <48> 8b ...' for an instruction pointer at sym (BUG/WARN: ud2, a
    soft lockup: a jump to itself, a fault: a load)."""
    if sym in KNOWN_CODE:
        return f"Code: {KNOWN_CODE[sym]}"
    marker = {"bug": "0f 0b", "warn": "0f 0b", "lockup": "eb fe"}.get(kind, "48 8b 43 08")   # ud2, jmp .
    return f"Code: {_code_bytes(sym.split('+')[0], marker)}"


def kernel_regs(k, kind: str, args: tuple = (), cr2: int | None = None, irqs_off: bool = False) -> Regs:
    """The registers of kernel code stopped by a fault (kind 'fault'), a BUG ('bug') or a
    WARN ('warn'): args are the API function's arguments (RDI, RSI ...); irqs_off clears
    EFLAGS.IF (a BUG under spin_lock_irqsave)."""
    pid = k.current.pid
    rng = _rng(k, "kregs", pid)
    m = k.machine
    mask = m.addr_mask
    sp = stack_top(k, pid) - 0x400 - rng.randrange(0x20, 0x80) * 8
    text = (0xffffffff81000000 if m.ptr_size == 8 else 0xc1000000) + rng.randrange(0x800) * 0x1000 + 0x448
    r = Regs(sp=sp, flags=0x282 if kind == "fault" else 0x246, ax=0, bx=0, cx=0xc0000000ffffefff & mask,
             dx=0, si=0, di=0, bp=0, r8=0, r9=sp - 0x150, r10=3, r11=text & mask, r12=sp + 0x20,
             r13=0, r14=0, r15=0)
    if irqs_off:
        r["flags"] = 0x46
    regs = ["di", "si", "dx", "cx"]
    vals = [_reg_value(k, v) for v in args]
    for name, val in zip(regs, vals, strict=False):
        if val is not None:
            r[name] = val & mask
    if vals and vals[-1] is not None:
        r["bx"] = r["ax"] = vals[-1] & mask      # the object a free works on, kept in a callee-saved register
    if cr2 is not None:
        r["ax"] = cr2 & ~0xf & mask          # the base the faulting load added its offset to
    if m.ptr_size == 4:
        for name in list(r):
            r[name] &= 0xffffffff
    r["cr2"] = cr2 if cr2 is not None else _user_fault_addr(k, pid)
    r["cr3"] = _cr3(k)
    return r


def _reg_value(k, v) -> int | None:
    """What a register holds for an argument: an address, a number, a struct's address."""
    if isinstance(v, bool) or v is None:
        return None if v is None else int(v)
    if isinstance(v, int):
        return v
    name = getattr(v, "name", None)
    if isinstance(name, str):          # a struct kmem_cache, mempool ...: in the direct map
        h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "little")
        return k.machine.page_offset + k.lowmem_bytes - 0xc8000 + (h % 0x200) * 0x100
    try:
        return int(v)
    except (TypeError, ValueError, OverflowError):
        return None


def _user_fault_addr(k, pid: int) -> int:
    """CR2 when the fault was not a page fault: the task's last user-space one."""
    rng = _rng(k, "user", pid)
    if k.machine.ptr_size == 4:
        return 0x08050000 + rng.randrange(0x10000) * 0x10
    return 0x0000550000000000 + rng.randrange(0x10000) * 0x100000 + 0xb50


def _cr3(k) -> int:
    """CR3: the physical address of the kernel's page-table root."""
    pt = k.page_tables
    if pt is not None:
        return pt.root << 12
    return ((k.lowmem_bytes >> 12) - 0x16e) << 12


def _percpu_base(k) -> int:
    """GS: the per-cpu area, near the top of lowmem in the direct map."""
    top = k.lowmem_bytes - 1
    return k.machine.page_offset + (top & ~0xffffff)


def show_regs(k, rip_line: str, regs: Regs, kind: str, mode: str = SHOW_REGS_ALL) -> list[str]:
    """__show_regs(regs, SHOW_REGS_ALL): the RIP line, Code:, then the registers."""
    sym = rip_line.split(":", 2)[-1] if k.machine.name == "x86_64" else rip_line.split(": ", 1)[-1]
    if k.machine.name == "rpi2":
        return _show_regs_arm(k, regs)
    lines = [rip_line, code_line(sym.strip(), kind)]
    if k.machine.name == "i386":
        return lines + _regs_32(k, regs, mode)
    r = regs
    lines += [f"RSP: 0018:{r['sp']:016x} EFLAGS: {r['flags']:08x}",
              f"RAX: {r['ax']:016x} RBX: {r['bx']:016x} RCX: {r['cx']:016x}",
              f"RDX: {r['dx']:016x} RSI: {r['si']:016x} RDI: {r['di']:016x}",
              f"RBP: {r['bp']:016x} R08: {r['r8']:016x} R09: {r['r9']:016x}",
              f"R10: {r['r10']:016x} R11: {r['r11']:016x} R12: {r['r12']:016x}",
              f"R13: {r['r13']:016x} R14: {r['r14']:016x} R15: {r['r15']:016x}"]
    if mode != SHOW_REGS_ALL:
        return lines
    fs = user_regs(k).get("fs", 0)
    lines += [f"FS:  {fs:016x}(0000) GS:{_percpu_base(k):016x}(0000) knlGS:0000000000000000",
              "CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033",
              f"CR2: {r['cr2']:016x} CR3: {r['cr3']:016x} CR4: 00000000000006f0"]
    return lines


def _regs_32(k, r: Regs, mode: str, user: bool = False) -> list[str]:
    """process_32.c __show_regs: EAX.., ESI.. ESP, the segments and EFLAGS, then CR0..CR4."""
    seg = "DS: 007b ES: 007b FS: 0000 GS: 0033 SS: 007b" if user else \
        "DS: 007b ES: 007b FS: 00d8 GS: 0000 SS: 0068"
    lines = [f"EAX: {r['ax']:08x} EBX: {r['bx']:08x} ECX: {r['cx']:08x} EDX: {r['dx']:08x}",
             f"ESI: {r['si']:08x} EDI: {r['di']:08x} EBP: {r['bp']:08x} ESP: {r['sp']:08x}",
             f"{seg} EFLAGS: {r['flags'] | (0 if user else 0x10000):08x}"]
    if mode == SHOW_REGS_ALL:
        lines.append(f"CR0: 80050033 CR2: {r['cr2']:08x} CR3: {r['cr3']:08x} CR4: 00000690")
    return lines


def arm_uregs(k, r: Regs) -> list[int]:
    """r0..r12, sp, lr, pc as __show_regs prints them."""
    pc = r.get("pc", k.machine.modules_vaddr + (r["r11"] & 0xfff0))
    return [r["di"], r["si"], r["dx"], r["cx"] & 0xffffffff, pc & ~0xfff, r.get("r5", r["r11"]), 0,
            k.machine.modules_vaddr, 0, r.get("r9", r["sp"] + 0x190), 0, r.get("fp", r["sp"] + 0xc),
            r.get("ip", r["sp"] + 0x10), r["sp"], r.get("lr", 0x80101d4c), pc]


def _show_regs_arm(k, r: Regs) -> list[str]:
    """arch/arm/kernel/process.c __show_regs after 'PC is at'/'LR is at' (printed by die)."""
    u = arm_uregs(k, r)
    return [f"pc : [<{u[15]:08x}>]    lr : [<{u[14]:08x}>]    psr: 60000013",
            f"sp : {u[13]:08x}  ip : {u[12]:08x}  fp : {u[11]:08x}",
            f"r10: {u[10]:08x}  r9 : {u[9]:08x}  r8 : {u[8]:08x}",
            f"r7 : {u[7]:08x}  r6 : {u[6]:08x}  r5 : {u[5]:08x}  r4 : {u[4]:08x}",
            f"r3 : {u[3]:08x}  r2 : {u[2]:08x}  r1 : {u[1]:08x}  r0 : {u[0]:08x}",
            "Flags: nZCv  IRQs on  FIQs on  Mode SVC_32  ISA ARM  Segment none",
            f"Control: 10c5387d  Table: {r['cr3'] | 0x6a:08x}  DAC: 00000051"]


ARM_THREAD_SIZE = 0x2000
ARM_PT_REGS_WORDS = 18           # r0..r10, fp, ip, sp, lr, pc, cpsr, ORIG_r0
ARM_SYSCALL_NR = {"insmod": 0x17b, "rmmod": 0x81}       # EABI finit_module, delete_module (else write)


def arm_text_addr(k, frame: str) -> int:
    """The address a backtrace entry 'func+0xOFF/0xSIZE [mod]' stands for: in the module's
    own memory for a module function, in the kernel's text otherwise; the same function
    always at the same place."""
    name, _, rest = frame.strip().partition("+")
    off = int(rest.split("/")[0], 16) if rest.startswith("0x") else 0
    h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    if frame.endswith("]") and " [" in frame:
        mod = k.modules.modules.get(frame[frame.rindex("[") + 1:-1])
        base = mod.chunks[0][0] if mod is not None and mod.chunks else k.machine.modules_vaddr
        return base + (h & 0x7fc) + off
    return 0x80100000 + (h % 0x600000 & ~3) + off


def _arm_user_regs(k, rng: random.Random, comm: str) -> list[int]:
    """What a task's system call left at the top of its kernel stack: the r4, r5 that
    vector_swi pushes (the 5th and 6th arguments), then pt_regs (r0..r10, fp, ip, sp, lr,
    pc, cpsr, ORIG_r0)."""
    heap = 0x00040000 + rng.randrange(0x100) * 0x1000
    nr = ARM_SYSCALL_NR.get(comm, 0x4)
    r0 = 3 if comm == "insmod" else heap + 0x2a8
    r4, r5 = heap + 0xc08, heap + 0xb5ff8
    usp = 0xbe800000 + rng.randrange(0x7ffff) * 0x10
    libc = 0xb6d00000 + rng.randrange(0x100) * 0x1000
    return [r4, r5, r0, heap + 0xa5dd8, 0 if comm != "kmsim" else 2, 2, r4, r5, 0, nr, 0, 0, 8, 0,
            usp + 0x10, usp, 0x0003e3f8 + rng.randrange(0x400) * 4, libc + 0xab0, 0x60000010, r0]


def arm_stack(k, regs: Regs, calls: list[str]) -> tuple[int, int, list[int], dict[int, list[int]]]:
    """The kernel stack of the current task at an Oops on ARM: (sp, fp, the words from sp to
    the top, the registers each frame saved: r4, r5 ... by the index of its function in
    calls).  Each function of the backtrace has a frame of its locals, the registers it
    saved and the APCS record {fp, ip, lr, pc} whose lr is the return address into its
    caller; the system call's user registers (pt_regs) end the stack, 8 bytes below its top.
    kmsim runs no machine code, so the locals and saved registers are plausible seeded
    values (zeros, counts, direct-map pointers, kernel text, stack addresses), except the
    API function's argument, which its caller keeps."""
    t = k.current
    rng = _rng(k, "armstack", t.pid)
    top = stack_top(k, t.pid)
    tail = _arm_user_regs(k, rng, t.comm) + [0, 0]      # THREAD_START_SP is 8 below the top
    addr = top - 4 * len(tail)
    caller_fp = 0
    fp = addr
    blocks: list[list[int]] = [tail]
    saved_by: dict[int, list[int]] = {}
    lowmem = k.lowmem_bytes

    def local() -> int:
        x = rng.random()
        if x < 0.4:
            return 0
        if x < 0.55:
            return rng.randrange(1, 0x100)
        if x < 0.75:
            return k.machine.page_offset + rng.randrange(lowmem >> 6) * 0x40
        if x < 0.85:
            return 0x80100000 + rng.randrange(0x180000) * 4
        if x < 0.95:
            return addr + rng.randrange(0x40) * 4
        return rng.choice([0xffffffff, 0x00000cc0, 0x00400cc0])

    keeper = next((i for i, c in enumerate(calls) if c.endswith("]")), 1)   # the module's function
    for i in reversed(range(len(calls) - 1)):
        saved = [local() for _ in range(rng.randrange(1, 7))]
        if i == keeper and regs.get("di"):
            saved[0] = regs["di"] & 0xffffffff         # the argument the module passed on
        words = [local() for _ in range(rng.randrange(0, 6))] + saved
        entry = arm_text_addr(k, calls[i].split("+")[0])
        words += [caller_fp, addr, arm_text_addr(k, calls[i + 1]), entry + 0xc]     # {fp, ip, lr, pc}
        if addr - 4 * len(words) < top - ARM_THREAD_SIZE + 0x100:
            break                                      # a deep recursion: the stack is full
        addr -= 4 * len(words)
        fp = caller_fp = addr + 4 * (len(words) - 1)
        blocks.insert(0, words)
        saved_by[i] = saved
    return addr, fp, [w for b in blocks for w in b], saved_by


def arm_backtrace_stm(saved: list[int]) -> list[str]:
    """arch/arm/kernel/traps.c dump_backtrace_stm: the registers a frame's stmfd saved
    (saved[0] is r4), highest first, six a line."""
    regs = [f" r{4 + i}:{v:08x}" for i, v in reversed(list(enumerate(saved)))]
    return ["".join(regs[j:j + 6]) for j in range(0, len(regs), 6)]


def mem_dump_obj(k, addr: int) -> str:
    """mm/util.c mem_dump_obj: what a value points to, as kmem_dump_obj (a slab object),
    vmalloc_dump_obj (a vmalloc'd area, a module's memory) or the kind of address says it."""
    found = k.slab.find_object(addr)
    if found is not None:
        s, start, _size = found
        usersize = s.usersize or (s.object_size if "kmalloc-" in s.name else 0)    # kmalloc: usersize=size
        size = f" size {usersize}" if usersize else ""
        return f" slab {s.name} start {start:08x} pointer offset {addr - start}{size}"
    vm = k.vmalloc
    sp = vm.space_of(addr + 0xfff & ~0xfff)              # vmalloc_dump_obj looks at PAGE_ALIGN(addr)
    area = sp.area_of(addr + 0xfff & ~0xfff) if sp is not None else None
    if area is not None:
        return (f" {area.usable >> 12}-page vmalloc region starting at {area.start:#x} "
                f"allocated at {vm.caller_text(area.caller)}")
    m = k.machine
    if m.page_offset <= addr < m.page_offset + k.lowmem_bytes:
        return " non-slab/vmalloc memory"
    if addr == 0:
        return " NULL pointer"
    if addr == 0x10:
        return " zero-size pointer"
    return " non-paged memory"


def arm_regs_alloc_free(k, values: list[int]) -> list[str]:
    """arch/arm/kernel/process.c __show_regs_alloc_free: 'Register rN information:' and
    mem_dump_obj's words for r0..r12."""
    return [f"Register r{i} information:{mem_dump_obj(k, v)}" for i, v in enumerate(values[:13])]


def arm_exception_stack(sp: int, stack: list[int]) -> list[str]:
    """dump_backtrace_entry's 'Exception stack(...)' under a frame called from entry text
    (ret_fast_syscall): the system call's registers, from the r4, r5 pushed below pt_regs
    to its pc (frame + 4 to frame + 4 + sizeof(struct pt_regs))."""
    top = sp + 4 * len(stack)
    start = top - 8 - 4 * ARM_PT_REGS_WORDS - 8
    return dump_mem("Exception stack", start, start + 4 * ARM_PT_REGS_WORDS, stack[(start - sp) // 4:])


def dump_mem(label: str, bottom: int, top: int, words: list[int]) -> list[str]:
    """arch/arm/kernel/traps.c dump_mem: '<label>(0x... to 0x...)', then rows of eight words
    from bottom rounded down to 32 bytes, each 'llll:' (the address's low 16 bits) and the
    words, blank where a row starts below bottom.  words are the memory from bottom."""
    lines = [f"{label}(0x{bottom:08x} to 0x{top:08x})"]
    first = bottom & ~31
    while first < top:
        row = ""
        for p in range(first, min(first + 32, top), 4):
            row += f" {words[(p - bottom) // 4]:08x}" if p >= bottom else " " * 9
        lines.append(f"{first & 0xffff:04x}:{row}")
        first += 32
    return lines


def arm_code_line(kind: str) -> str:
    """arch/arm/kernel/traps.c dump_instr: four words, then the faulting one in parentheses."""
    bad = "e7f001f2" if kind == "bug" else "e5933000"
    return f"Code: e92d4010 e1a04000 e3a00000 e3a03000 ({bad}) "


def user_regs(k, task=None) -> Regs:
    """The user-mode registers a task entered the kernel with (its syscall)."""
    t = task or k.current
    rng = _rng(k, "user", t.pid)
    if k.machine.ptr_size == 4:
        heap = 0x08050000 + rng.randrange(0x100) * 0x1000
        return Regs(ip=0xb7f00549 + rng.randrange(0x100) * 0x1000, ax=0xffffffda, bx=3, cx=heap + 0x1a0,
                    dx=0, si=0, di=heap + 0x22a0, bp=0, sp=0xbf800000 + rng.randrange(0x7ffff) * 0x10 + 0xc,
                    flags=0x246, orig_ax=0x15e if t.comm == "insmod" else 0x81)
    libc = 0x00007f0000000000 + rng.randrange(0x10000) * 0x1000000 + rng.randrange(0x100) * 0x10000
    heap = 0x0000550000000000 + rng.randrange(0x10000) * 0x1000000 + rng.randrange(0x100) * 0x10000
    stack = 0x00007ff000000000 + rng.randrange(0x1000000) * 0x1000
    off, orig, _code = USER_CODE.get(t.comm, USER_CODE["kmsim"])
    ip = libc + 0x102000 + int(off, 16)
    r = Regs(ip=ip, sp=stack + 0xc88, ax=0xffffffffffffffda, cx=ip, dx=0, r8=0, r9=0, r10=3,
             r11=0x246, r12=0, r13=0, flags=0x246, orig_ax=orig, fs=libc + 0x40)
    if t.comm == "rmmod":
        r.update(sp=stack + 0xa68, bx=heap + 0x27a0, si=0x800, di=heap + 0x2808, bp=0,
                 r8=0x1999999999999999, r10=libc + 0x176ac0, r11=0x206, r12=stack + 0xcb0,
                 r13=stack + 0xf8c, r14=heap + 0x12a0, r15=stack + 0xcb8, flags=0x206)
    else:
        r.update(bx=heap + 0x27c0, si=heap + 0x12a0, di=3 if t.comm == "insmod" else 1, bp=heap + 0x12a0,
                 r14=heap + 0x27a0, r15=heap + 0x12a0)
    return r


def show_user_regs(k, task=None) -> list[str]:
    """show_regs_if_on_stack(SHOW_REGS_SHORT) of the user-mode frame that ends a syscall's
    call trace: 'RIP: 0033:0x7f...', Code:, RSP/EFLAGS/ORIG_RAX, RAX..R15."""
    t = task or k.current
    r = user_regs(k, t)
    if k.machine.name == "i386":
        code = ("Code: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
                "00 00 00 00 00 00 00 00 00 00 00 00 51 52 55 89 e5 0f 34 cd 80 <5d> 5a 59 c3 90 90 90 90 "
                "8d 76 00 58 b8 77 00 00 00 cd 80 90 8d 76")
        return [f"EIP: {r['ip']:#x}", code] + _regs_32(k, r, SHOW_REGS_SHORT, user=True)
    if k.machine.name != "x86_64":
        return []
    _off, _orig, code = USER_CODE.get(t.comm, USER_CODE["kmsim"])
    return [f"RIP: 0033:{r['ip']:#x}", f"Code: {code}",
            f"RSP: 002b:{r['sp']:016x} EFLAGS: {r['flags']:08x} ORIG_RAX: {r['orig_ax']:016x}",
            f"RAX: {r['ax']:016x} RBX: {r['bx']:016x} RCX: {r['cx']:016x}",
            f"RDX: {r['dx']:016x} RSI: {r['si']:016x} RDI: {r['di']:016x}",
            f"RBP: {r['bp']:016x} R08: {r['r8']:016x} R09: {r['r9']:016x}",
            f"R10: {r['r10']:016x} R11: {r['r11']:016x} R12: {r['r12']:016x}",
            f"R13: {r['r13']:016x} R14: {r['r14']:016x} R15: {r['r15']:016x}"]
