"""linux/gfp.h, gfp_types.h: GFP flags and the zone allocator's interface.

The functions are kmsim.mm.page_api's (the common case is written out there)."""
from ..mm.gfp import *  # noqa: F403  (the GFP_* and __GFP_* constants)
from ..mm.gfp import __all__ as _gfp_all
from ..mm.page_api import (
                           __free_page,
                           __free_pages,
                           __get_free_page,
                           __get_free_pages,
                           alloc_page,
                           alloc_pages,
                           free_page,
                           free_pages,
                           get_zeroed_page,
)
from .mmzone import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE  # gfp.h includes mmzone.h

__all__ = [n for n in _gfp_all if n.startswith(("GFP_", "__GFP_"))] + [
    "MAX_ORDER", "PAGE_SIZE", "PAGE_SHIFT",
    "alloc_pages", "alloc_page", "__get_free_pages", "__get_free_page", "get_zeroed_page",
    "free_pages", "free_page", "__free_pages", "__free_page"]
