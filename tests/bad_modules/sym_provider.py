# BAD: rmmod of a module another module uses (sym_user took a reference with symbol_get).
# EXPECT: rmmod: ERROR: Module sym_provider is in use by: sym_user
# RUN: insmod tests/bad_modules/sym_user.py; rmmod sym_provider; rmmod sym_user; rmmod sym_provider
from kmsim.linux.module import *


def provider_hello():
    return 7


EXPORT_SYMBOL(provider_hello)


@module_init
def prov_init():
    return 0


@module_exit
def prov_exit():
    pass


MODULE_LICENSE("GPL")
