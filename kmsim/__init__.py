"""kmsim: a simulated Linux kernel for the kernel memory-allocation lab."""
__version__ = "0.1.0"
