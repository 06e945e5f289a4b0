"""kmalloc and friends (mm/slab_common.c, include/linux/slab.h, 6.1), and the boot caches.

Size classes kmalloc-8 ... kmalloc-8k (with -96 and -192) in four families
(normal, cg, rcl, dma) chosen by the GFP flags; larger requests go straight to
the page allocator (kmalloc_large) and kfree gives them back.  At boot the
kernel's own caches are created with the usage a freshly booted 512 MiB Debian
6.1 machine shows in /proc/slabinfo (scaled down on smaller machines).
"""
from __future__ import annotations

from .. import current as _cpu
from ..current import current_kernel
from ..errors import PageFault
from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from . import gfp as G
from .hooks import RESCHED as _RESCHED
from .slub import (
    SLAB_CACHE_DMA,
    SLAB_HWCACHE_ALIGN,
    SLAB_KMALLOC,
    SLAB_POISON,
    SLAB_RECLAIM_ACCOUNT,
    SLAB_RED_ZONE,
    SLAB_STORE_USER,
    SLAB_TYPESAFE_BY_RCU,
    KmemCache,
    Slub,
    to_address,
)
from .slub import kmem_cache_free as _cache_free
from .slub_debug import init_object

__all__ = ["do_kmalloc", "do_kfree", "ZERO_SIZE_PTR", "KMALLOC_MAX_CACHE_SIZE", "KMALLOC_MAX_SIZE",
           "kmalloc", "kfree", "ksize", "krealloc", "kcalloc", "kmalloc_array", "kstrdup", "kmemdup",
           "kmalloc_size_roundup", "kmalloc_slab", "create_boot_caches", "BOOT_CACHES"]

ZERO_SIZE_PTR = 16
KMALLOC_MAX_CACHE_SIZE = 8192
KMALLOC_MAX_SIZE = 1 << (MAX_ORDER + PAGE_SHIFT - 1)
_GFP_ZERO = G.__GFP_ZERO
_GFP_DIRECT_RECLAIM = G.__GFP_DIRECT_RECLAIM
_NOT_NORMAL = G.__GFP_DMA | G.__GFP_RECLAIMABLE | G.__GFP_ACCOUNT
_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]
_FAMILIES = [("", 0), ("kmalloc-cg", 0), ("kmalloc-rcl", SLAB_RECLAIM_ACCOUNT),
             ("dma-kmalloc", SLAB_CACHE_DMA)]

# The kernel's own caches, oldest first: name, objsize, active objects (512M boot).
# From reference/out/transcript-main.txt (/proc/slabinfo of Debian's 6.1 kernel).
BOOT_CACHES = [
    ("vmap_area", 64, 128), ("mm_struct", 1152, 14), ("task_group", 640, 0),
    ("radix_tree_node", 584, 322), ("maple_node", 256, 96), ("ftrace_event_field", 56, 3285),
    ("trace_event_file", 96, 1344), ("perf_event", 1232, 13), ("numa_policy", 272, 15),
    ("shared_policy_node", 48, 425), ("Acpi-State", 80, 51), ("Acpi-Operand", 72, 448),
    ("pid", 128, 64), ("anon_vma", 104, 39), ("anon_vma_chain", 64, 64), ("cred_jar", 192, 63),
    ("task_struct", 6208, 60), ("sighand_cache", 2112, 60), ("signal_cache", 1152, 70),
    ("files_cache", 704, 11), ("vm_area_struct", 152, 52), ("nsproxy", 72, 56),
    ("uts_namespace", 432, 0), ("lsm_file_cache", 24, 170), ("lsm_inode_cache", 32, 10496),
    ("iint_cache", 128, 0), ("net_namespace", 4480, 0), ("names_cache", 4096, 8),
    ("dentry", 192, 10395), ("inode_cache", 640, 9924), ("filp", 256, 32), ("mnt_cache", 320, 36),
    ("kernfs_node_cache", 128, 10624), ("kernfs_iattrs_cache", 88, 0),
    ("shmem_inode_cache", 784, 440), ("bdev_cache", 1600, 10), ("sigqueue", 80, 51),
    ("seq_file", 120, 34), ("proc_inode_cache", 712, 22), ("pde_opener", 40, 102),
    ("proc_dir_entry", 192, 273), ("taskstats", 416, 0), ("buffer_head", 104, 0),
    ("file_lock_cache", 216, 0), ("skbuff_head_cache", 256, 16), ("skbuff_fclone_cache", 512, 8),
    ("skbuff_ext_cache", 192, 21), ("sock_inode_cache", 832, 19), ("dmaengine-unmap-128", 1088, 15),
    ("dmaengine-unmap-256", 2112, 15), ("user_namespace", 624, 0), ("khugepaged_mm_slot", 112, 0),
    ("biovec-64", 1024, 8), ("biovec-128", 2048, 8), ("biovec-max", 4096, 48), ("bio-192", 256, 16),
    ("request_queue", 968, 0), ("request_queue_srcu", 1360, 0), ("dax_cache", 832, 19),
    ("ep_head", 16, 0), ("bio-256", 320, 36), ("dquot", 256, 0), ("hugetlbfs_inode_cache", 664, 12),
    ("TCP", 2304, 0), ("request_sock_TCP", 312, 0), ("tw_sock_TCP", 272, 0), ("RAW", 1024, 8),
    ("PING", 1024, 0), ("ip_fib_alias", 56, 0), ("ip_fib_trie", 48, 0), ("xfrm_state", 768, 0),
    ("xfrm_dst_cache", 320, 0), ("request_sock_subflow_v4", 384, 0), ("MPTCP", 1984, 0),
    ("ip4-frags", 200, 0), ("pid_namespace", 136, 0), ("dnotify_struct", 32, 0),
    ("userfaultfd_ctx_cache", 192, 0), ("kioctx", 576, 0), ("mqueue_inode_cache", 960, 8),
    ("TCPv6", 2496, 0), ("request_sock_TCPv6", 312, 0), ("tw_sock_TCPv6", 272, 0),
    ("UDPv6", 1344, 0), ("RAWv6", 1216, 13), ("PINGv6", 1216, 0), ("ip6-frags", 184, 0),
    ("request_sock_subflow_v6", 384, 0), ("MPTCPv6", 2176, 0), ("fscrypt_info", 128, 0),
    ("fsverity_info", 256, 0),
]
# Kernel caches a module's cache can merge with (no ctor, no usercopy region).
MERGEABLE = {"anon_vma_chain", "ep_head", "lsm_file_cache", "pde_opener", "seq_file", "sigqueue",
             "ip_fib_alias", "ip_fib_trie", "dnotify_struct", "nsproxy", "Acpi-Operand",
             "Acpi-State", "shared_policy_node", "vmap_area", "kernfs_iattrs_cache", "pid",
             "ftrace_event_field", "trace_event_file", "fscrypt_info", "fsverity_info", "dquot"}
# Boot caches created with SLAB_RECLAIM_ACCOUNT (their slabs are slab_reclaimable and come
# from Reclaimable pageblocks): fs/dcache.c, fs/inode.c, lib/radix-tree.c, fs/proc/inode.c,
# fs/buffer.c, net/socket.c, block/bdev.c, fs/quota/dquot.c.
RECLAIMABLE = {"dentry", "inode_cache", "radix_tree_node", "proc_inode_cache", "buffer_head",
               "sock_inode_cache", "bdev_cache", "dquot"}
# kmalloc caches in use at boot (normal family; cg and rcl have a little too).
KMALLOC_BOOT = {"kmalloc-8k": 12, "kmalloc-4k": 24, "kmalloc-2k": 128, "kmalloc-1k": 248,
                "kmalloc-512": 240, "kmalloc-256": 416, "kmalloc-192": 294, "kmalloc-128": 352,
                "kmalloc-96": 462, "kmalloc-64": 1600, "kmalloc-32": 626, "kmalloc-16": 1024,
                "kmalloc-8": 1535, "kmalloc-cg-4k": 16, "kmalloc-cg-2k": 16, "kmalloc-cg-1k": 8,
                "kmalloc-cg-512": 24, "kmalloc-cg-256": 16, "kmalloc-cg-192": 42,
                "kmalloc-cg-128": 64, "kmalloc-cg-96": 42, "kmalloc-cg-64": 64,
                "kmalloc-cg-32": 128, "kmalloc-cg-16": 256, "kmalloc-cg-8": 512,
                "kmalloc-rcl-64": 64, "kmem_cache_node": 192, "kmem_cache": 160}


def _size_name(size: int) -> str:
    return f"{size >> 10}k" if size >= 1024 else str(size)


def create_boot_caches(k, slub: Slub) -> None:
    """create_kmalloc_caches and the caches the rest of the kernel creates at boot."""
    min_size = 64 if k.machine.name == "rpi2" else 8
    sizes = [sz for sz in _SIZES if sz >= min_size and not (sz == 96 and min_size > 32)]
    slub.kmalloc_sizes = sizes
    slub.create("kmem_cache_node", 64, 0, SLAB_HWCACHE_ALIGN, boot=True)
    slub.create("kmem_cache", 256, 0, SLAB_HWCACHE_ALIGN, boot=True)
    # kmem_cache_init's bootstrap() lists kmem_cache first, so slabinfo ends with
    # kmem_cache_node then kmem_cache (the newest cache comes first)
    slub.caches[:2] = slub.caches[1::-1]
    for prefix, extra in _FAMILIES:
        caches = []
        for sz in sizes:
            name = f"{prefix or 'kmalloc'}-{_size_name(sz)}"
            flags = SLAB_KMALLOC | extra
            caches.append(_boot_cache(slub, name, sz, flags, usersize=sz))
        slub.kmalloc_caches[prefix or "kmalloc"] = caches
    for name, size, _active in BOOT_CACHES:
        flags = SLAB_RECLAIM_ACCOUNT if name in RECLAIMABLE else 0
        s = _boot_cache(slub, name, size, flags, usersize=0 if name in MERGEABLE else size)
        s.mergeable = name in MERGEABLE
    normal = slub.kmalloc_caches["kmalloc"]
    lookup = [normal[0]] * (KMALLOC_MAX_CACHE_SIZE + 1)      # [0] is never looked up
    lo = 1
    for i, sz in enumerate(sizes):      # kmalloc_index(size) for every size, a class at a time
        lookup[lo:sz + 1] = [normal[i]] * (sz + 1 - lo)
        lo = sz + 1
    slub.kmalloc_lookup = lookup
    scale = min(1.0, k.mem_bytes / (512 << 20))
    usage = dict(KMALLOC_BOOT)
    usage.update({name: active for name, _sz, active in BOOT_CACHES})
    for s in list(slub.caches):
        n = int(usage.get(s.name, 0) * scale)
        if n:
            boot_fill(slub, s, n)


def _boot_cache(slub: Slub, name: str, size: int, flags: int, usersize: int) -> KmemCache:
    """A cache the kernel creates at boot (they all fit a slab, so create never fails)."""
    s = slub.create(name, size, 0, flags, boot=True, usersize=usersize)
    assert s is not None, name
    return s


def boot_fill(slub: Slub, s: KmemCache, n: int) -> None:
    """Allocate n objects of a boot cache in bulk: full slabs, then one cpu slab."""
    gfp = G.GFP_KERNEL | G.__GFP_NOWARN
    if s.flags & SLAB_RECLAIM_ACCOUNT:
        gfp |= G.__GFP_RECLAIMABLE
    k = slub.k
    full: list[int] = []
    while n >= s.objects and not s.debug:
        pfn = k.buddy.alloc(gfp, s.order)
        if pfn < 0:
            break
        full.append(pfn)
        n -= s.objects
    slub.setup_full_slabs(s, full)
    if n >= s.objects and not s.debug:          # the buddy allocator ran out
        return
    while n:
        new = slub.new_slab(s, gfp)
        if new is None:
            return
        sl = new
        del s.partial[sl]
        take = min(n, s.objects)
        n -= take
        for _ in range(take):
            x = sl.freelist.pop()
            if s.debug:
                init_object(s, x, 0xcc)
        if s.debug:
            sl.where = "partial" if sl.freelist else "full"
            (s.partial if sl.freelist else s.full)[sl] = None
        else:
            sl.where = "cpu"
            s.cpu_slab, s.cpu_freelist = sl, sl.freelist


# -- size classes ------------------------------------------------------------------------
def kmalloc_index(size: int, sizes: list[int]) -> int:
    """The index in sizes of the smallest class that holds size bytes."""
    for i, sz in enumerate(sizes):
        if size <= sz:
            return i
    return -1


def kmalloc_slab(k, size: int, flags: int) -> KmemCache | None:
    """kmalloc_slab: the cache kmalloc(size, flags) uses (None above 8k)."""
    slub = k.slab
    if size > KMALLOC_MAX_CACHE_SIZE:
        return None
    i = kmalloc_index(size, slub.kmalloc_sizes)
    if not flags & _NOT_NORMAL:
        fam = "kmalloc"
    elif flags & G.__GFP_DMA:
        fam = "dma-kmalloc"
    elif flags & G.__GFP_RECLAIMABLE:
        fam = "kmalloc-rcl"
    else:
        fam = "kmalloc-cg"
    return slub.kmalloc_caches[fam][i]


def _check_size(size, fn: str) -> int:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"{fn}() takes a size (int), not {type(size).__name__}")
    return size


def kmalloc(size, flags):
    """void *kmalloc(size_t size, gfp_t flags) for modules: the per-cpu fast path, else do_kmalloc."""
    k = _cpu.running
    if k is None:
        k = current_kernel()            # raises: no kernel is booted
    try:
        _RESCHED[0] += flags & _GFP_DIRECT_RECLAIM      # might_sleep: a scheduling point
        if size > 0 and not flags & _NOT_NORMAL:
            s = k.kmalloc_lookup[size]
            if s.fast:
                x = s.cpu_freelist.pop()
                if s.init or flags & 0x100:
                    s.mm[x - s.po:x - s.po + s.object_size] = s.zeros
                return x if s.leak is None else s.leak(s, x, size)     # kmemleak in module code
    except (AttributeError, IndexError, TypeError):
        pass
    return do_kmalloc(k, size, flags)


def kfree(x):
    """void kfree(const void *objp) for modules: a slab object to its cache, else do_kfree."""
    k = _cpu.running
    if k is None:
        k = current_kernel()
    try:
        if x > ZERO_SIZE_PTR:
            sl = k.slab_of.get((x - k.machine.page_offset) >> PAGE_SHIFT)
            if sl is not None:
                _cache_free(sl.cache, x, "kfree")
                return
    except TypeError:
        pass
    do_kfree(k, x)


def do_kmalloc(k, size: int, flags: int) -> int:
    """void *kmalloc(size_t size, gfp_t flags): an address, ZERO_SIZE_PTR for 0, or 0."""
    size = _check_size(size, "kmalloc")
    if size < 0:
        size &= (1 << (k.machine.ptr_size * 8)) - 1
    if size == 0:
        return ZERO_SIZE_PTR
    if size > KMALLOC_MAX_CACHE_SIZE:
        return kmalloc_large(k, size, flags)
    s = kmalloc_slab(k, size, flags)
    assert s is not None             # every size up to KMALLOC_MAX_CACHE_SIZE has a class
    return s.slub.slab_alloc(s, flags, size)


def kmalloc_large(k, size: int, flags: int) -> int:
    """kmalloc_large: whole pages from the page allocator (order > MAX_ORDER-1 warns, NULL)."""
    slub = k.slab
    order = 0 if size <= PAGE_SIZE else ((size - 1) >> PAGE_SHIFT).bit_length()
    if slub.fail_hook is not None and slub.fail_hook(None, flags):
        return 0
    pfn = k.buddy.alloc((flags | G.__GFP_COMP) & ~G.__GFP_HIGHMEM, order)
    if pfn < 0:
        return 0
    slub.large[pfn] = order
    addr = k.pfn_to_virt(pfn)
    if flags & _GFP_ZERO:
        k.vm.fill(addr, PAGE_SIZE << order, 0)
    for hook in slub.alloc_hooks:
        hook(None, addr, size)
    return addr


START_KERNEL_MAP = 0xffffffff80000000      # x86_64 __START_KERNEL_map


def _phys_addr(k, x: int) -> int:
    """__pa(x) of an address outside the direct map, as x86_64's __phys_addr computes it:
    the kernel image and module area count from __START_KERNEL_map (phys_base 0)."""
    if k.machine.name == "x86_64" and x >= START_KERNEL_MAP:
        return x - START_KERNEL_MAP
    return (x - k.machine.page_offset) & k.machine.addr_mask


def do_kfree(k, x) -> None:
    """void kfree(const void *objp): NULL and ZERO_SIZE_PTR are no-ops."""
    if x is None:
        return
    if not isinstance(x, int) or isinstance(x, bool):
        x = to_address(x, "kfree() object")
    if x <= ZERO_SIZE_PTR:
        return
    slub = k.slab
    if not k.vm.is_direct(x):
        bad_pfn = _phys_addr(k, x) >> PAGE_SHIFT
        if k.machine.name == "x86_64" and x >= START_KERNEL_MAP and bad_pfn < k.nr_pages:
            _free_foreign_page(k, x, bad_pfn)      # its struct page exists (transcript-kfree1.txt)
            return
        bogus = k.page_struct_addr(bad_pfn) + 8   # page_folio reads compound_head
        raise PageFault(bogus & k.machine.addr_mask, False,
                        hint=f"kfree() was given {x:#x}, which kmalloc did not return (not in the "
                             f"direct map): virt_to_folio() read a struct page that does not exist")
    pfn = k.virt_to_pfn(x)
    if pfn in slub.slab_of:
        slub.slab_free(None, x, "kfree")
        return
    free_large_kmalloc(k, slub, pfn, x)


def _free_foreign_page(k, x: int, pfn: int) -> None:
    """kfree of a kernel-image or module address whose __pa lands in RAM: the struct page
    it reads exists and is not a slab, so free_large_kmalloc WARNs (then frees a page that
    is not the caller's, which kmsim does not do)."""
    if k.reporter.warn("mm/slab_common.c:904", "free_large_kmalloc+0x3c/0x70",
                       kernel_frames=[], once_key="free_large_kmalloc"):
        k.printk.emit(4, f"object pointer: 0x{k.printk_ctx.hash_pointer(x)}")
    k.printk.emit(4, f"kmsim: kfree({x:#x}): that pointer did not come from kmalloc; the kernel "
                     f"would free page frame {pfn:#x}, which is not the caller's; kmsim leaves it")


def free_large_kmalloc(k, slub: Slub, pfn: int, x: int) -> None:
    """free_large_kmalloc: WARN for an order-0 page kmalloc did not give, then free the page."""
    order = slub.large.get(pfn)
    if order is None:
        order = int(k.phys.order[pfn]) if int(k.phys.refcount[pfn]) > 0 else 0
        if order == 0 and k.reporter.warn("mm/slab_common.c:904", "free_large_kmalloc+0x3c/0x70",
                           kernel_frames=[], once_key="free_large_kmalloc"):
            k.printk.emit(4, f"object pointer: 0x{k.printk_ctx.hash_pointer(x)}")
            k.printk.emit(4, f"kmsim: kfree({x:#x}): that pointer did not come from kmalloc; "
                             f"the kernel frees the page it is in anyway")
    for hook in slub.free_hooks:
        hook(None, x)
    slub.large.pop(pfn, None)
    k.buddy.free(pfn, order)


def ksize(k, x) -> int:
    """size_t ksize(const void *objp): the usable size of the object."""
    if not isinstance(x, int) or isinstance(x, bool):
        x = to_address(x, "ksize() object")
    if not x or x == ZERO_SIZE_PTR:
        return 0
    slub = k.slab
    sl = slub.find_slab(x)
    if sl is not None:
        s = sl.cache
        if s.flags & (SLAB_RED_ZONE | SLAB_POISON):
            return s.object_size
        if s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER):
            return s.inuse
        return s.size
    pfn = k.virt_to_pfn(x)
    if pfn in slub.large:
        return PAGE_SIZE << slub.large[pfn]
    return 0


def kmalloc_size_roundup(k, size: int) -> int:
    """kmalloc_size_roundup: what ksize(kmalloc(size)) will be."""
    if size <= 0:
        return 0
    if size > KMALLOC_MAX_CACHE_SIZE:
        return PAGE_SIZE << (0 if size <= PAGE_SIZE else ((size - 1) >> PAGE_SHIFT).bit_length())
    s = kmalloc_slab(k, size, 0)
    assert s is not None
    return s.size


def krealloc(k, p: int, new_size: int, flags: int) -> int:
    """void *krealloc(const void *p, size_t new_size, gfp_t flags)."""
    new_size = _check_size(new_size, "krealloc")
    if not p or p == ZERO_SIZE_PTR:
        return do_kmalloc(k, new_size, flags)
    if new_size == 0:
        do_kfree(k, p)
        return ZERO_SIZE_PTR
    ks = ksize(k, p)
    if ks >= new_size:
        if flags & _GFP_ZERO and new_size < ks:
            pass
        return p
    ret = do_kmalloc(k, new_size, flags)
    if ret:
        k.vm.write(ret, k.vm.read(p, ks))
        do_kfree(k, p)
    return ret


def kmalloc_array(k, n: int, size: int, flags: int) -> int:
    """kmalloc_array: NULL when n * size overflows size_t."""
    n, size = _check_size(n, "kmalloc_array"), _check_size(size, "kmalloc_array")
    if n < 0 or size < 0 or n * size >= 1 << (k.machine.ptr_size * 8):
        return 0
    return do_kmalloc(k, n * size, flags)


def kcalloc(k, n: int, size: int, flags: int) -> int:
    """kcalloc: kmalloc_array(n, size, flags | __GFP_ZERO)."""
    return kmalloc_array(k, n, size, flags | _GFP_ZERO)


def kstrdup(k, s, gfp: int) -> int:
    """char *kstrdup(const char *s, gfp_t gfp): s is an address, str or bytes; NULL gives NULL."""
    if s is None or s == 0:
        return 0
    data = k.vm.read_cstring(s, 1 << 20) if isinstance(s, int) else (
        s.encode() if isinstance(s, str) else bytes(s))
    p = do_kmalloc(k, len(data) + 1, gfp)
    if p:
        k.vm.write(p, data + b"\0")
    return p


def kmemdup(k, src, length: int, gfp: int) -> int:
    """void *kmemdup(const void *src, size_t len, gfp_t gfp)."""
    data = k.vm.read(src, length) if isinstance(src, int) else bytes(src)[:length]
    p = do_kmalloc(k, length, gfp)
    if p and length:
        k.vm.write(p, data)
    return p
