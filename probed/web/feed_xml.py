"""The feeds as XML: Atom (RFC 4287) and RSS 2.0, from ``FeedEntry`` values (pure).

ElementTree escapes every text and attribute, so a title of ``<script>&`` is text in the feed,
never markup (an RSS description, HTML by definition, is escaped as HTML first); characters
XML 1.0 cannot carry (control characters a person could not type anyway) are dropped.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from probed import __version__
from probed.status.feed_entries import FeedEntry, entry_id
from probed.units import iso

ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ITEM_BYTES = 512 * 1024
"""The entries' bytes: ``MAX_ENTRIES`` of 2,000-character texts full of ``&`` and ``<`` (each
escaped twice in RSS) would be near 2 MB; the newest that fit are kept."""
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _link(base: str, entry: FeedEntry) -> str:
    return f"{base}/#{entry.fragment}" if entry.fragment else f"{base}/"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = _text(text)
    return element


def atom(title: str, base: str, entries: Sequence[FeedEntry]) -> bytes:
    """The Atom document; ``base`` is the status page's URL without its trailing slash."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", entry_id(f"feed/{base}"))
    _sub(feed, "title", title)
    _sub(feed, "updated", iso(entries[0].updated if entries else EPOCH))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/feed.atom")
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base}/")
    author = _sub(feed, "author")
    _sub(author, "name", title)
    _sub(feed, "generator", "probed", version=__version__)
    items = []
    for e in entries:
        item = ET.Element("entry")
        items.append(item)
        _sub(item, "id", e.id)
        _sub(item, "title", e.title, type="text")
        _sub(item, "published", iso(e.published))
        _sub(item, "updated", iso(e.updated))
        _sub(item, "link", rel="alternate", type="text/html", href=_link(base, e))
        _sub(item, "category", term=e.kind)
        _sub(item, "content", e.text, type="text")
    _append_within(feed, items)
    return _document(feed)


def rss(title: str, base: str, entries: Sequence[FeedEntry]) -> bytes:
    """The RSS 2.0 document (with an ``atom:link`` to itself, as validators ask)."""
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(root, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", f"{base}/")
    _sub(channel, "description", f"Incidents, updates and maintenance of {title}")
    _sub(channel, "lastBuildDate", _rfc822(entries[0].updated if entries else EPOCH))
    _sub(channel, "generator", f"probed {__version__}")
    _sub(channel, "atom:link", rel="self", type="application/rss+xml", href=f"{base}/feed.rss")
    items = []
    for e in entries:
        item = ET.Element("item")
        items.append(item)
        _sub(item, "title", e.title)
        _sub(item, "link", _link(base, e))
        _sub(item, "guid", e.id, isPermaLink="false")
        _sub(item, "pubDate", _rfc822(e.updated))
        _sub(item, "category", e.kind)
        # RSS has no plain-text content: a description is HTML, so the text is made HTML first.
        _sub(item, "description", html.escape(e.text).replace("\n", "<br>\n"))
    _append_within(channel, items)
    return _document(root)


def _append_within(parent: ET.Element, items: Sequence[ET.Element]) -> None:
    """Append ``items`` in order while their bytes stay within ``MAX_ITEM_BYTES``."""
    total = 0
    for item in items:
        size = len(ET.tostring(item, encoding="utf-8"))
        if total + size > MAX_ITEM_BYTES:
            break
        parent.append(item)
        total += size


def _rfc822(at: datetime) -> str:
    return format_datetime(at.astimezone(UTC), usegmt=True)


def _document(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
