"""Small questions about lxml trees that the readers of office documents ask (drafts, mailed forms)."""

from __future__ import annotations


def enclosing(node, tags: tuple[str, ...], stop):
    """The nearest ancestor of `node` with one of `tags`, looking no higher than `stop` (not included), or None."""
    parent = node.getparent()
    while parent is not None and parent is not stop:
        if parent.tag in tags:
            return parent
        parent = parent.getparent()
    return None


def inside(node, tags: tuple[str, ...], stop) -> bool:
    """Whether `node` sits in an element with one of `tags` below `stop`: a run in a deletion, a text box, …"""
    return enclosing(node, tags, stop) is not None
