"""lxml for the readers of office documents (drafts, mailed forms, letters): the one hardened parser, and small
questions about the trees it gives."""

from __future__ import annotations

from lxml import etree


def parse_untrusted_xml(data: bytes, *, huge_tree: bool = False) -> etree._Element:
    """Parse a part of a package that came from outside, never resolving entities, loading a DTD or reaching the
    network (so no billion laughs, no external entities).

    `huge_tree` lifts libxml2's limits on text and depth; only callers whose package has already passed the size
    checks (`docx_safety.check_docx`) and that hold whole programme documents ask for it. A new parser per call,
    because an lxml parser must not be shared between threads.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=huge_tree)
    return etree.fromstring(data, parser=parser)


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
