"""Take a forgotten person out of someone else's stored payload.

A platform embeds copies of the people a post answers, quotes or mentions: an X reply's
payload keeps the tweet it replies to and its author's user object, a Discord message its
mentions, a Mastodon status its mentions and in_reply_to_account_id, a Bluesky post the
quoted post's author and text. Erasure rewrites those payloads with `scrub`, driven by a
`Shape` per platform (each platform's `scrub_payload` names its own):

- a *person* object (a dict whose id key is theirs: a user, an account, a mention) keeps
  only its `$type`/`type`, its id keys set to "erased" and its name keys to the name an
  anonymised participant gets;
- a *content* object of theirs (a dict whose owner key is theirs, or whose owner object is
  their person object: a referenced tweet, a quoted post) keeps only its keys
  (id, uri, cid, type): their words and everything else about it go;
- then no string, number or key keeps their id: a scalar equal to it becomes "erased";
  an id of six characters or more is replaced wherever it occurs inside a string (a URL,
  an AT URI, a `<@id>` mention), a shorter one (an old Mastodon account's "14") only where
  it is a whole string, since as a substring, or as a number, it is everybody's counts.

The payload's own author's words stay: quoting someone in your own words is your content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

ERASED = "erased"
FORMER = "Former participant"  # what bot.moderation.erasure calls an anonymised author
# Shorter ids match as whole values only: as substrings they are in everyone's numbers.
MIN_SUBSTRING = 6
# orjson writes at most 255 levels, so a stored payload is never deeper; beyond this a
# subtree that names them is dropped whole rather than walked.
MAX_DEPTH = 300
_KEEP = ("$type", "type", "id", "id_str", "uri", "cid")
_NAMES = ("name", "username", "screen_name", "display_name", "displayName", "global_name",
          "nick", "nickname", "acct", "handle")


@dataclass(frozen=True)
class Shape:
    """Where a platform's payloads name people.

    `ids`: keys of a person object holding their id; `owner_refs`: keys of a content object
    holding its author's id; `owner_objects`: keys of a content object holding its author's
    person object.
    """

    ids: tuple[str, ...]
    owner_refs: tuple[str, ...] = ()
    owner_objects: tuple[str, ...] = ()
    # When set, a person object also has one of these (Mastodon's short ids are also a
    # poll's or a list's: an account or a mention has a username).
    person_keys: tuple[str, ...] = ()


def scrub(raw: Any, author_id: str, shape: Shape) -> dict[str, Any] | None:
    """`raw` without any copy of `author_id`'s identity or content; None if it held none."""
    if not isinstance(raw, dict) or not author_id:
        return None
    walker = _Walker(author_id, shape)
    out = walker.mapping(raw, 0)
    return out if walker.changed else None


class _Walker:
    """One payload's walk: the replacements, and whether any was made."""

    def __init__(self, author_id: str, shape: Shape) -> None:
        self.author_id = author_id
        self.shape = shape
        self.changed = False
        # Never leave their id inside a marker (an id such as "erase" is not real, but no
        # input may defeat the promise).
        self.erased = "" if author_id in ERASED else ERASED
        self.former = "" if author_id in FORMER else FORMER

    def theirs(self, value: Any) -> bool:
        return isinstance(value, str | int) and not isinstance(value, bool) \
            and str(value) == self.author_id

    def names_them(self, value: Any) -> bool:
        try:
            return self.author_id.encode() in orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError):
            return self.author_id in repr(value)

    def value(self, value: Any, depth: int) -> Any:
        if isinstance(value, dict):
            return self.mapping(value, depth)
        if isinstance(value, list):
            if depth > MAX_DEPTH:
                return self.deep(value)
            return [self.value(item, depth + 1) for item in value]
        return self.scalar(value)

    def deep(self, value: Any) -> Any:
        if self.names_them(value):
            self.changed = True
            return None
        return value

    def mapping(self, node: dict[Any, Any], depth: int) -> Any:
        if depth > MAX_DEPTH:
            return self.deep(node)
        shape = self.shape
        if depth and (any(self.theirs(node.get(k)) for k in shape.owner_refs) or any(
                isinstance(node.get(k), dict) and self.is_person(node[k])
                for k in shape.owner_objects)):
            self.changed = True  # their post: its keys stay, their words go
            return {k: self.scalar(node[k]) for k in _KEEP if k in node
                    and not isinstance(node[k], dict | list)}
        if depth and self.is_person(node):
            self.changed = True
            person: dict[str, Any] = {k: node[k] for k in ("$type", "type") if k in node
                                      and isinstance(node[k], str) and not self.names_them(node[k])}
            person.update({k: self.erased for k in shape.ids if k in node})
            person.update({k: self.former for k in _NAMES if k in node})
            return person
        return {self.key(k): self.value(v, depth + 1) for k, v in node.items()}

    def is_person(self, node: Mapping[Any, Any]) -> bool:
        needs = self.shape.person_keys
        return any(self.theirs(node.get(k)) for k in self.shape.ids) and (
            not needs or any(k in node for k in needs))

    def key(self, key: Any) -> Any:
        return self.scalar(key) if isinstance(key, str) else key

    def scalar(self, value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            if self.names_them(value):  # an id spelled "true" is not real; still, never leave it
                self.changed = True
                return self.erased
            return value
        short = len(self.author_id) < MIN_SUBSTRING
        if self.theirs(value) and not (short and isinstance(value, int)):
            self.changed = True
            return self.erased
        if short or not self.names_them(value):
            return value
        self.changed = True
        if isinstance(value, str):
            cleaned = value.replace(self.author_id, self.erased)
            # An escape can spell it again ("\n" then "123..." read as "n123..."): then
            # the whole string goes.
            return cleaned if not self.names_them(cleaned) else self.erased
        return self.erased  # a number with their id inside its digits
