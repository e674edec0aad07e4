"""Mastodon's text rules: status length as the instance counts it, and HTML to plain text.

Length (Mastodon's StatusLengthValidator): grapheme clusters of the text plus the content
warning, where every URL counts `characters_reserved_per_url` (23 by default) however long
it is, and a remote mention `@user@domain` counts only `@user`. The limit is the instance's
`configuration.statuses.max_characters` (500 by default), read from /api/v2/instance.

`content` arrives as HTML. It is converted with the standard library's HTML parser: a
paragraph is a blank line, `<br>` a newline, a hashtag link its text, a mention link the
account's full `@user@domain` (from the status's `mentions`). A long
link is split by Mastodon into `invisible` (scheme, tail) and `ellipsis` spans for
display; a transcript wants the whole link, so the spans are joined back into it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from bot.platforms.bluesky.text import grapheme_count
from bot.platforms.x.text import has_hashtag, with_hashtag

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_WEIGHT = 23
# Content HTML read, at most: 100 times Mastodon's 500 characters, ten times the longest
# limits other servers set (Akkoma, Misskey: 3,000 to 5,000). Remote content is not cut
# by Mastodon, and flattening 200 KB took 0.4 s; longer content ends in TRUNCATED.
MAX_HTML = 50_000
TRUNCATED = " […]"
_URL_RE = re.compile(r"(?<![\w@/])https?://[^\s<>\"']+", re.IGNORECASE)
_REMOTE_MENTION_RE = re.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w")

__all__ = ["has_hashtag", "html_to_text", "mastodon_problem", "status_length", "with_hashtag"]


def _int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def countable_length(text: str, url_weight: int = DEFAULT_URL_WEIGHT) -> int:
    """How many characters Mastodon counts for `text` against max_characters."""
    text = _REMOTE_MENTION_RE.sub(r"\1", text)
    total, pos = 0, 0
    for m in _URL_RE.finditer(text):
        total += grapheme_count(text[pos:m.start()]) + url_weight
        pos = m.end()
    return total + grapheme_count(text[pos:])


def status_length(text: str, hashtag: str, settings: Mapping[str, Any]) -> tuple[int, int, str]:
    """(size, limit, unit) of a scripted post with its hashtag and the content warning.

    By the instance's numbers when known (settings `max_characters`, `url_weight`).
    """
    limit = _int(settings.get("max_characters"), DEFAULT_MAX_CHARACTERS)
    url_weight = _int(settings.get("characters_reserved_per_url"), DEFAULT_URL_WEIGHT)
    warning = str(settings.get("content_warning") or "")
    size = countable_length(with_hashtag(text.strip(), hashtag), url_weight)
    size += grapheme_count(warning)
    unit = f"characters with the hashtag{' and content warning' if warning else ''} " \
           f"(URLs count {url_weight})"
    return size, limit, unit


def mastodon_problem(text: str, hashtag: str, settings: Mapping[str, Any]) -> str | None:
    """The registry's length rule: why `text` cannot be one status, or None.

    The chat's `max_characters` stands for its instance's limit (the adapter checks the
    real one).
    """
    size, limit, unit = status_length(text, hashtag, settings)
    if size <= limit:
        return None
    return f"too long for mastodon: {size} {unit}, the limit is {limit}; shorten it"


class _Flatten(HTMLParser):
    """Mastodon's status HTML as plain text."""

    _BLOCK = {"p", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, mentions: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._mentions = mentions
        self._replaced = 0  # depth inside a mention link written out as @user@domain

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._replaced:
            self._replaced += tag == "a"
            return
        if tag == "a":
            found = dict(attrs)
            acct = self._mentions.get(found.get("href") or "")
            if acct and "mention" in (found.get("class") or "").split():
                self.parts.append(f"@{acct}")
                self._replaced = 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self._block()

    def handle_endtag(self, tag: str) -> None:
        if self._replaced:
            self._replaced -= tag == "a"
            return
        if tag in self._BLOCK:
            self._block()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if not self._replaced:
            self.parts.append(data)

    def _block(self) -> None:
        if self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n\n")

    def text(self) -> str:
        return re.sub(r"\n{3,}", "\n\n", "".join(self.parts)).strip()


def html_to_text(html: str, mentions: Mapping[str, str] | None = None) -> str:
    """The plain text of a status's HTML `content`, links whole.

    Mastodon shows a remote mention as "@user"; `mentions` (profile URL -> acct, from
    the status's `mentions`) writes it as "@user@domain" so the transcript names the
    right person.
    """
    cut = len(html) > MAX_HTML
    parser = _Flatten(mentions or {})
    parser.feed(html[:MAX_HTML])
    parser.close()
    return parser.text() + TRUNCATED if cut else parser.text()
