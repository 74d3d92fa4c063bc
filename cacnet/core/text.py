"""User text that becomes HTML: Markdown rendered, then sanitised in this one place."""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# CommonMark without raw HTML; nh3 then keeps only these tags, and links only to http(s)/mailto.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4"}
_ATTRIBUTES = {"a": {"href", "title"}}


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    html = _markdown.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def search_key(*parts: str | None) -> str:
    """Fold text for search in any script: no accents, no case, NFC (so Hangul stays whole)."""
    text = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", stripped).casefold().split())


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def plain_with_links(text: str | None) -> Markup:
    """Plain text for display: everything escaped, line breaks kept (by CSS), and http(s)
    addresses made into links that open without our referrer and carry no ranking."""
    out, last = [], 0
    raw = text or ""
    for match in _URL.finditer(raw):
        out.append(str(escape(raw[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}" rel="nofollow noopener noreferrer">{url}</a>')
        last = match.end()
    out.append(str(escape(raw[last:])))
    return Markup("".join(out))  # noqa: S704 - every part is escaped above
