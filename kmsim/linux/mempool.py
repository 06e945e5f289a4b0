"""linux/mempool.h: memory pools and their ready-made element functions."""
from ..kernel import current_kernel
from ..mm import mempool as _mp
from .gfp import __free_pages, alloc_pages
from .slab import kfree, kmalloc, kmem_cache_alloc, kmem_cache_free

__all__ = ["mempool_t", "mempool_create", "mempool_create_node", "mempool_create_slab_pool",
           "mempool_create_kmalloc_pool", "mempool_create_page_pool", "mempool_alloc",
           "mempool_free", "mempool_resize", "mempool_destroy", "mempool_alloc_slab",
           "mempool_free_slab", "mempool_kmalloc", "mempool_kfree", "mempool_alloc_pages",
           "mempool_free_pages"]

mempool_t = _mp.Mempool


def mempool_create(min_nr, alloc_fn, free_fn, pool_data):
    """mempool_t *mempool_create(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
    void *pool_data): None on failure (not an error pointer)."""
    return _mp.mempool_create(current_kernel(), min_nr, alloc_fn, free_fn, pool_data)


def mempool_create_node(min_nr, alloc_fn, free_fn, pool_data, gfp_mask, node_id=-1):
    """mempool_create_node(): mempool_create with the mask used for the pool itself."""
    return _mp.mempool_create(current_kernel(), min_nr, alloc_fn, free_fn, pool_data, gfp_mask)


def mempool_alloc(pool, gfp_mask):
    """void *mempool_alloc(mempool_t *pool, gfp_t gfp_mask)."""
    return _mp.mempool_alloc(current_kernel(), pool, gfp_mask)


def mempool_free(element, pool):
    """void mempool_free(void *element, mempool_t *pool)."""
    _mp.mempool_free(current_kernel(), element, pool)


def mempool_resize(pool, new_min_nr):
    """int mempool_resize(mempool_t *pool, int new_min_nr)."""
    return _mp.mempool_resize(current_kernel(), pool, new_min_nr)


def mempool_destroy(pool):
    """void mempool_destroy(mempool_t *pool): mempool_destroy(NULL) does nothing."""
    _mp.mempool_destroy(current_kernel(), pool)


# -- element functions (called as alloc_fn(gfp_mask, pool_data), free_fn(element, pool_data))

def mempool_alloc_slab(gfp_mask, pool_data):
    """kmem_cache_alloc(pool_data, gfp_mask)."""
    return kmem_cache_alloc(pool_data, gfp_mask)


def mempool_free_slab(element, pool_data):
    """kmem_cache_free(pool_data, element)."""
    kmem_cache_free(pool_data, element)


def mempool_kmalloc(gfp_mask, pool_data):
    """kmalloc((size_t)pool_data, gfp_mask)."""
    return kmalloc(pool_data, gfp_mask)


def mempool_kfree(element, pool_data):
    """kfree(element)."""
    kfree(element)


def mempool_alloc_pages(gfp_mask, pool_data):
    """alloc_pages(gfp_mask, (int)pool_data): a struct page."""
    return alloc_pages(gfp_mask, pool_data)


def mempool_free_pages(element, pool_data):
    """__free_pages(element, (int)pool_data)."""
    __free_pages(element, pool_data)


def mempool_create_slab_pool(min_nr, kc):
    """mempool_create(min_nr, mempool_alloc_slab, mempool_free_slab, kc)."""
    return mempool_create(min_nr, mempool_alloc_slab, mempool_free_slab, kc)


def mempool_create_kmalloc_pool(min_nr, size):
    """mempool_create(min_nr, mempool_kmalloc, mempool_kfree, size)."""
    return mempool_create(min_nr, mempool_kmalloc, mempool_kfree, size)


def mempool_create_page_pool(min_nr, order):
    """mempool_create(min_nr, mempool_alloc_pages, mempool_free_pages, order)."""
    return mempool_create(min_nr, mempool_alloc_pages, mempool_free_pages, order)


