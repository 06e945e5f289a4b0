# BAD: destroys a mempool while an element is still out, then frees the element to the dead pool.
# REQUIRES: mempool, slab
# EXPECT: (?i)BUG|Oops|WARNING
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.mempool import *


@module_init
def mp_init():
    pool = mempool_create_kmalloc_pool(4, 64)
    elem = mempool_alloc(pool, GFP_KERNEL)
    mempool_destroy(pool)
    mempool_free(elem, pool)
    return 0


MODULE_LICENSE("GPL")
