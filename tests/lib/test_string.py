"""linux/string.h on simulated memory."""
from __future__ import annotations

import pytest
from inline_modules import load_nodes

from kmsim.errors import PageFault
from kmsim.linux.gfp import GFP_KERNEL, __get_free_page
from kmsim.linux.string import (
    memcmp,
    memcpy,
    memmove,
    memset,
    strcat,
    strcmp,
    strcpy,
    strlen,
    strncmp,
    strncpy,
    strscpy,
)
from kmsim.linux.types import Struct, char, unsigned_int


class example_struct(Struct):
    _fields_ = [("id", unsigned_int), ("example_string", char * 10)]


@pytest.fixture
def page(kernel):
    return __get_free_page(GFP_KERNEL)


def test_memset_memcpy_memcmp(kernel, page):
    assert memset(page, 0x6b, 16) == page
    assert kernel.vm.read(page, 17) == b"k" * 16 + b"\0"
    memcpy(page + 32, page, 8)
    assert kernel.vm.read(page + 32, 9) == b"k" * 8 + b"\0"
    assert memcmp(page, page + 32, 8) == 0
    assert memcmp(page, page + 32, 9) == 0x6b
    assert memcmp(b"abc", b"abd", 3) == -1


def test_memmove_handles_overlap(kernel, page):
    kernel.vm.write(page, b"0123456789")
    memmove(page + 2, page, 8)
    assert kernel.vm.read(page, 10) == b"0101234567"


def test_strcpy_into_a_char_array_field_like_c(kernel, page):
    ex = example_struct.at(page)
    strcpy(ex.example_string, "Test")
    assert ex.example_string == b"Test"
    assert strlen(ex.example_string) == 4
    assert strcmp(ex.example_string, "Test") == 0
    assert strcmp(ex.example_string, "Tesu") == -1
    assert strcmp("b", ex.example_string) == 1


def test_strcpy_overflows_into_the_neighbour_as_c_does(kernel, page):
    ex = example_struct.at(page)
    strcpy(ex.example_string, "0123456789ABC")
    assert kernel.vm.read(page + 14, 4) == b"ABC\0"


def test_strscpy_truncates_and_returns_e2big(kernel, page):
    assert strscpy(page, "Test", 10) == 4
    assert strscpy(page, "0123456789", 10) == -7
    assert kernel.vm.read(page, 10) == b"012345678\0"
    assert strscpy(page, "x", 0) == -7


def test_strncpy_strncmp_strcat(kernel, page):
    kernel.vm.write(page, b"\xff" * 8)
    strncpy(page, "ab", 6)
    assert kernel.vm.read(page, 8) == b"ab\0\0\0\0\xff\xff"
    strcat(page, "cd")
    assert kernel.vm.read_cstring(page) == b"abcd"
    assert strncmp(page, "abzz", 2) == 0 and strncmp(page, "abzz", 3) == -1


def test_null_destination_faults(kernel):
    with pytest.raises(PageFault):
        strcpy(0, "x")
    with pytest.raises(PageFault):
        memset(0, 0, 4)


def test_string_functions_read_no_further_than_lib_string_c(shell, tmp_path):
    from tests.conftest import make_shell
    shell = make_shell(append="kasan")
    out = load_nodes(shell, tmp_path, "strk", "    p = kmalloc(8, GFP_KERNEL)\n    strcpy(p, 'abc')\n"
               "    q = kmalloc(8, GFP_KERNEL)\n    memcpy(q, 'abcdefgh', 8)\n"
               "    d = kmalloc(8, GFP_KERNEL)\n"
               "    pr_info('%d %d %d %d\\n', strlen(p), strcmp(p, 'abd'), strncmp(q, 'abcdefgh', 8),"
               " strscpy(d, q, 8))\n    return 0")
    assert "3 -1 0 -7" in out
    assert not any("KASAN" in ln for ln in out)


def test_strscpy_zeroes_the_rest_of_the_word(kernel):
    page = __get_free_page(GFP_KERNEL)
    kernel.vm.write(page, b"\xff" * 16)
    assert strscpy(page, "Test", 10) == 4
    assert kernel.vm.read(page, 12) == b"Test\0\0\0\0\xff\xff\xff\xff"
    kernel.vm.write(page, b"\xff" * 16)
    assert strscpy(page, "Testing", 6) == -7
    assert kernel.vm.read(page, 8) == b"Testi\0\xff\xff"
    kernel.vm.write(page, b"\xff" * 16)
    assert strscpy(page, "abcdefghij", 12) == 10             # the NUL's word passes count
    assert kernel.vm.read(page, 12) == b"abcdefghij\0\xff"
    assert strcmp("a", "b") == -1 and strncmp("abc", "abd", 2) == 0
