"""kmsim: a simulated Linux kernel for the kernel memory-allocation lab."""
# The module loader installs itself into the kernel it sits above (kmsim.kernel.install_loader),
# so that every Kernel() has its k.modules, whichever kmsim module was imported first.
from . import module as _module  # noqa: F401  -- the composition root: see above
from .version import __version__  # noqa: F401  -- re-exported: kmsim.__version__
