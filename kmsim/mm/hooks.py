"""A list of hooks that reports each change, so that a fast path can test one flag."""
from __future__ import annotations

__all__ = ["HookList"]


class HookList(list):
    """A list that calls ``on_change()`` after every change to its items."""

    def __init__(self, on_change):
        super().__init__()
        self.on_change = on_change

    def append(self, x):
        """list.append, then on_change()."""
        super().append(x)
        self.on_change()

    def extend(self, xs):
        """list.extend, then on_change()."""
        super().extend(xs)
        self.on_change()

    def insert(self, i, x):
        """list.insert, then on_change()."""
        super().insert(i, x)
        self.on_change()

    def remove(self, x):
        """list.remove, then on_change()."""
        super().remove(x)
        self.on_change()

    def pop(self, *a):
        """list.pop, then on_change()."""
        r = super().pop(*a)
        self.on_change()
        return r

    def clear(self):
        """list.clear, then on_change()."""
        super().clear()
        self.on_change()

    def __setitem__(self, i, x):
        super().__setitem__(i, x)
        self.on_change()

    def __delitem__(self, i):
        super().__delitem__(i)
        self.on_change()

    def __iadd__(self, xs):
        self.extend(xs)
        return self
