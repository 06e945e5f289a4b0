"""The kernel's library code (lib/ and the inline functions of its headers): list.h with
lib/list_debug.c, kfifo, string, err.h, module parameters (kernel/params.c).

kmsim/linux/ holds the headers a module imports; they forward here.  Reports treat these
functions as the module API's (report.is_api_module), as they treat kmsim/linux/.
"""
