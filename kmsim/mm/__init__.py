"""Memory management: physical memory, buddy, SLUB, kmalloc, mempool, vmalloc, debugging."""
