"""Markdown that people type, made into HTML that is safe to put in a page.

CommonMark with raw HTML switched off, then nh3 keeps only a few tags and attributes; links
may only go to http, https or mailto addresses and get ``rel="nofollow noopener"``. This is
the one place the site turns user text into HTML: comments, and model cards' text.
"""

from __future__ import annotations

import nh3
from django.core.cache import cache
from markdown_it import MarkdownIt

MAX_BODY = 10_000
ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "em",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
CARD_SECONDS = 24 * 3600

# Headings would compete with the page's own; images would load from anywhere.
_markdown = MarkdownIt("commonmark", {"html": False}).disable(["heading", "lheading", "image"])


class MalformedText(ValueError):
    """Text a page cannot hold: NUL or lone surrogates (not valid Unicode text)."""


def check_text(text: str) -> str:
    if "\x00" in text:
        raise MalformedText("The text contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise MalformedText("The text is not valid Unicode (a lone surrogate).") from error
    return text


def markdown_to_safe_html(text: str) -> str:
    html = _markdown.render(check_text(text))
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener",
    )


def model_card_html(revision_id: int, card_text: str) -> str:
    """A commit's model card as safe HTML, rendered as comments are. A commit's card never
    changes, so it is rendered once per commit and kept in the cache: a long card is the
    slowest part of a model page."""
    if not card_text:
        return ""

    def render() -> str:
        try:
            return markdown_to_safe_html(card_text)
        except MalformedText:
            return ""

    html = cache.get_or_set(f"model-card-html:{revision_id}", render, timeout=CARD_SECONDS)
    return str(html or "")
