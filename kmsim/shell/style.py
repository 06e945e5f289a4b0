"""Colours of the interactive shell: the prompt, the command line tokens, the toolbar."""
from __future__ import annotations

__all__ = ["STYLE_RULES", "make_style"]

STYLE_RULES = {
    # prompt
    "prompt.name": "ansigreen bold",
    "prompt.machine": "ansicyan bold",
    "prompt.taint": "ansired bold",
    "prompt.sign": "bold",
    # command line (pygments tokens)
    "pygments.name.function": "ansigreen bold",
    "pygments.error": "ansired",
    "pygments.name.attribute": "ansicyan",
    "pygments.name.variable": "ansiyellow",
    "pygments.literal.string": "ansiyellow",
    "pygments.literal.string.other": "ansiblue underline",
    "pygments.literal.number": "ansimagenta",
    "pygments.operator": "ansired bold",
    "pygments.punctuation": "ansired bold",
    "pygments.comment": "ansibrightblack italic",
    # bottom toolbar
    "bottom-toolbar": "bg:#303030 #d0d0d0 noreverse",
    "bottom-toolbar.key": "bg:#303030 #8a8a8a",
    "bottom-toolbar.value": "bg:#303030 #ffffff bold",
    "bottom-toolbar.taint": "bg:#303030 #ff5f5f bold",
    "bottom-toolbar.unread": "bg:#303030 #ffd75f bold",
}


def make_style():
    """The prompt_toolkit Style of the REPL."""
    from prompt_toolkit.styles import Style
    return Style.from_dict(STYLE_RULES)
