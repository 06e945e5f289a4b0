"""Keys: the REPL's extra bindings and single-key reading for the live views."""
from __future__ import annotations

import os
import select
import sys

__all__ = ["make_key_bindings", "KeyReader"]


def make_key_bindings(shell):
    """Bindings added to the defaults (Emacs or Vi, Ctrl-R search, Ctrl-C clears the line)."""
    from prompt_toolkit.filters import emacs_mode, is_searching
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.key_binding.bindings.search import accept_search_and_accept_input
    kb = KeyBindings()
    # Enter in a Ctrl-R search runs the line found, as readline does (prompt_toolkit's
    # default only ends the search and waits for a second Enter).
    kb.add("enter", filter=is_searching & emacs_mode)(accept_search_and_accept_input)

    @kb.add("escape", "m")
    def _memmap(event):
        """Alt-M: type 'memmap' (the picture of memory is one key away)."""
        event.current_buffer.insert_text("memmap")

    del _memmap
    return kb


class KeyReader:
    """Read single keys from a terminal in cbreak mode (Ctrl-C still raises KeyboardInterrupt).

    Use as a context manager; ``key(timeout)`` returns one character or '' on timeout.
    """

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.fd = self.stream.fileno()
        self._saved = None

    def __enter__(self):
        import termios
        import tty
        try:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        except termios.error:
            self._saved = None
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        return False

    def key(self, timeout: float) -> str:
        """One key, or '' when none arrives within timeout seconds."""
        r, _w, _x = select.select([self.fd], [], [], timeout)
        if not r:
            return ""
        data = os.read(self.fd, 32)
        return data.decode("utf-8", "replace")[:1] if data else "q"
