"""What a tweet says, as a reader saw it: full text, real links, characters unescaped, edits.

X's payloads differ from what a reader saw in four ways, each handled here for API v2 and
v1.1 alike (live collection and the importer share these functions):

- **Escaping.** X sends `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;` (in v2 and v1.1 text).
  They are unescaped exactly once, here; the renderers escape for their own format, so a
  reader never sees `&amp;`. Nothing else is touched ("&copy;" typed by a person stays).
- **Links.** Every link is a t.co short link in the text; `entities.urls` holds the
  `expanded_url` (and, with the URL-unwound add-on, `unwound_url`). The text shows the
  expanded link; the raw payload keeps the t.co one.
- **Length.** v1.1 `text` stops at 140 characters with "…" when `truncated` is set: the
  full text is `full_text` (extended mode) or `extended_tweet.full_text` (streaming). A v2
  post over 280 characters has its whole text in `note_tweet.text` (with its own
  entities) and a cut `text`.
- **Edits.** An edited v2 tweet is a new tweet whose `edit_history_tweet_ids` lists every
  version, oldest (the original id) first. All versions are one message, keyed on the
  original id; the newest text wins and the message is marked edited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Bounds for someone else's payload: a tweet has a handful of links.
MAX_URL_ENTITIES = 50


def unescape(text: str) -> str:
    """Undo X's escaping of &, < and > once (&amp;lt; becomes the "&lt;" a person typed)."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _url_entities(entities: Any) -> Sequence[Mapping[str, Any]]:
    if not isinstance(entities, Mapping):
        return ()
    urls = entities.get("urls")
    if not isinstance(urls, list):
        return ()
    return [u for u in urls[:MAX_URL_ENTITIES] if isinstance(u, Mapping)]


def expand_urls(text: str, entities: Any) -> str:
    """Replace each t.co link with the link it stands for (`unwound_url`/`expanded_url`)."""
    for entity in _url_entities(entities):
        short = entity.get("url")
        target = entity.get("unwound_url") or entity.get("expanded_url")
        if isinstance(short, str) and short and isinstance(target, str) and target:
            text = text.replace(short, target)
    return text


def v2_text(tweet: Mapping[str, Any]) -> str:
    """A v2 tweet's whole text (note_tweet for long posts), links expanded, unescaped once."""
    note = tweet.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str) and note["text"]:
        text, entities = note["text"], note.get("entities") or tweet.get("entities")
    else:
        text, entities = str(tweet.get("text") or ""), tweet.get("entities")
    return unescape(expand_urls(text, entities))


def v1_text(tweet: Mapping[str, Any]) -> str:
    """A v1.1 tweet's whole text (full_text / extended_tweet), links expanded, unescaped."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, Mapping) and extended.get("full_text"):
        text, entities = str(extended["full_text"]), extended.get("entities")
    elif tweet.get("full_text"):
        text, entities = str(tweet["full_text"]), tweet.get("entities")
    else:
        text, entities = str(tweet.get("text") or ""), tweet.get("entities")
    return unescape(expand_urls(text, entities))


def edit_history(tweet: Mapping[str, Any]) -> list[str]:
    """The ids of every version of a v2 tweet, oldest first ([] when not given)."""
    ids = tweet.get("edit_history_tweet_ids")
    if not isinstance(ids, list):
        return []
    return [str(i) for i in ids[:MAX_URL_ENTITIES] if isinstance(i, (str, int))]


def original_id(tweet: Mapping[str, Any]) -> str:
    """The id every version of a tweet is stored under: the first of its edit history."""
    ids = tweet.get("edit_history_tweet_ids")
    if type(ids) is list and len(ids) == 1 and type(ids[0]) is str:
        return ids[0]  # a tweet never edited, the common case, without building a list
    history = edit_history(tweet)
    return history[0] if history else str(tweet["id"])
