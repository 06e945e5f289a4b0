"""kmsim/mm/page.py: struct page handles, one per frame (page_of), and what a module does with one."""
from __future__ import annotations

from inline_modules import load, texts

from kmsim.kernel import Kernel
from kmsim.mm.page import Page, page_of


def test_each_frame_has_one_page_made_with_its_neighbours():
    k = Kernel("x86_64", "64M", "", seed=1)
    p = page_of(k, 100)
    assert p.pfn == 100 and p is page_of(k, 100) and p == Page(k, 100)
    made = [q for q in k.buddy.pages[:200] if q is not None]
    assert [q.pfn for q in made] == list(range(64, 128))        # the chunk of 64 frames of pfn 100
    last = page_of(k, k.buddy.nr_pages - 1)                     # the last chunk is cut at the end of memory
    assert last.pfn == k.buddy.nr_pages - 1 and len(k.buddy.pages) == k.buddy.nr_pages
    wild = page_of(k, k.buddy.nr_pages + 5)                     # pfn_to_page of a number past memory
    assert wild.pfn == k.buddy.nr_pages + 5 and wild.addr == k.page_struct_addr(wild.pfn)


def test_alloc_pages_returns_the_frames_page_every_time(tmp_path):
    body = '''
seen = []
def t_init():
    p = alloc_pages(GFP_KERNEL, 0)
    seen.append(p)
    __free_pages(p, 0)
    q = alloc_pages(GFP_KERNEL, 0)            # the pcp list gives the same frame back
    seen.append(q)
    assert q is p and q == p and q.pfn == p.pfn
    assert pfn_to_page(page_to_pfn(q)) is q and virt_to_page(page_address(q)) is q
    big = alloc_pages(GFP_KERNEL, 3)
    assert big is not None and big is not q and big.pfn % 8 == 0
    printk("%px %d\\n", q, page_count(q))
    __free_pages(big, 3)
    __free_page(q)
    return 0
def t_exit():
    pass
'''
    sh, status = load(tmp_path, body)
    assert status == 0
    k = sh.kernel
    p = k.modules.modules["t"].namespace["seen"][0]
    assert f"{k.page_struct_addr(p.pfn):016x} 1" in texts(sh)


def test_a_page_where_an_address_belongs_is_still_a_type_error(tmp_path):
    body = '''
def t_init():
    p = alloc_page(GFP_KERNEL)
    free_pages(p, 0)
    return 0
def t_exit():
    pass
'''
    sh, status = load(tmp_path, body)
    assert status == 139
    assert any("free_pages() takes an address (int), not Page" in t for t in texts(sh))
