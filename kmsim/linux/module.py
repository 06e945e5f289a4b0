"""linux/module.h, moduleparam.h: init/exit, metadata, parameters, symbols."""
from ..kernel import current_kernel
from ..lib.params import MODULE_PARM_DESC, module_param

__all__ = ["module_init", "module_exit", "MODULE_LICENSE", "MODULE_AUTHOR", "MODULE_DESCRIPTION",
           "MODULE_VERSION", "MODULE_PARM_DESC", "MODULE_ALIAS", "MODULE_INFO", "module_param",
           "THIS_MODULE", "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", "symbol_get", "symbol_put",
           "__init", "__exit", "try_module_get", "module_put"]


def _loading():
    mod = current_kernel().modules.current_module()
    if mod is None:
        raise RuntimeError("module declarations belong at a module's top level")
    return mod


def module_init(fn):
    """module_init(fn): fn runs at insmod.  Usable as a decorator."""
    _loading().init_fn = fn
    return fn


def module_exit(fn):
    """module_exit(fn): fn runs at rmmod.  Usable as a decorator."""
    _loading().exit_fn = fn
    return fn


def __init(fn):
    """The __init annotation (no effect)."""
    return fn


def __exit(fn):
    """The __exit annotation (no effect)."""
    return fn


def MODULE_LICENSE(text):
    """MODULE_LICENSE("GPL")."""
    _loading().license = str(text)


def MODULE_AUTHOR(text):
    """MODULE_AUTHOR("Name <mail>"); may be given more than once."""
    _loading().author.append(str(text))


def MODULE_DESCRIPTION(text):
    """MODULE_DESCRIPTION("...")."""
    _loading().description = str(text)


def MODULE_VERSION(text):
    """MODULE_VERSION("1.0")."""
    _loading().version = str(text)


def MODULE_ALIAS(text):
    """MODULE_ALIAS (recorded, unused)."""
    _loading().namespace.setdefault("__aliases__", []).append(str(text))


def MODULE_INFO(tag, text):
    """MODULE_INFO(tag, text) (recorded, unused)."""
    _loading().namespace.setdefault("__modinfo__", {})[str(tag)] = str(text)


class _ThisModule:
    """THIS_MODULE: the module whose code is running."""

    def _mod(self):
        return current_kernel().modules.current_module()

    @property
    def name(self):
        """The module's name."""
        m = self._mod()
        return m.name if m else None

    def __repr__(self):
        return f"<module {self.name}>"


THIS_MODULE = _ThisModule()


def EXPORT_SYMBOL(obj, name=None):
    """EXPORT_SYMBOL(fn): other modules can symbol_get it by name."""
    current_kernel().modules.export(name or obj.__name__, obj)
    return obj


EXPORT_SYMBOL_GPL = EXPORT_SYMBOL


def symbol_get(name):
    """symbol_get(name): the exported symbol (None if absent); pins its module."""
    return current_kernel().modules.symbol_get(getattr(name, "__name__", name))


def symbol_put(name):
    """void symbol_put(sym): release what symbol_get took."""
    current_kernel().modules.symbol_put(getattr(name, "__name__", name))


def try_module_get(module=None):
    """bool try_module_get(struct module *module): take a reference on it (THIS_MODULE): True."""
    return current_kernel().modules.module_get()


def module_put(module=None):
    """void module_put(struct module *module): drop a reference taken with try_module_get."""
    current_kernel().modules.module_put()
