"""The shell: parser, commands, the batch runner and the interactive REPL.

Each command module registers its commands with ``@command`` (shell/core.py) when it is
imported: the foundation's (commands.py) and every ``cmd_*.py`` beside it, all imported here.
"""
import importlib
import pkgutil

from . import commands  # noqa: F401  -- the foundation's commands register themselves

for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("cmd_"):
        importlib.import_module(f"{__name__}.{_info.name}")
