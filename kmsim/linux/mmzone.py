"""linux/mmzone.h (and asm/page.h's page size): the buddy allocator's limits.

``MAX_ORDER`` is 11 in Linux 6.1 and exclusive: the legal orders are 0..10
(``#define MAX_ORDER 11``; 6.4 made it inclusive, 10)."""
from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE

__all__ = ["MAX_ORDER", "PAGE_SIZE", "PAGE_SHIFT"]
