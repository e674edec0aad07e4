"""Whose is a stored Mastodon payload: the author id, read by the converter that stored it.

Erasure finds an unfinished import's payloads by their author: an import writes each
payload as it reads it and the message row only when its session is rebuilt, so an import
killed in between leaves payloads no message row names. Reading the author with the same
converter that made the message (`status_message` for API statuses, live or imported;
`note_message` for an account archive's outbox activities) gives the id the message row
would have had, exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platforms.mastodon.importer import note_message
from bot.platforms.mastodon.statuses import status_message
from bot.platforms.scrubbing import Shape, scrub


def payload_author(raw: Any) -> str | None:
    """The author id a stored payload names; None when it names none this bot can read."""
    if not isinstance(raw, Mapping):
        return None
    try:
        if "status" in raw:  # {"status": status, "source": ...}: the API, live or imported
            message = status_message(raw["status"], raw)
        else:  # an outbox.json activity, stored as it was
            message = note_message(dict(raw))
    except ValueError:  # BadStatus, or an address urlsplit cannot read
        return None
    if message is None:  # a boost, or not a Note: never stored as a message
        return None
    return message.author.id or None


# An account or mention (id, with a username) or an ActivityPub Mention tag (href, with a
# name); a status by its account, an activity or note by its actor.
SHAPE = Shape(ids=("id", "href"), owner_refs=("attributedTo", "actor"),
              owner_objects=("account",), person_keys=("username", "acct", "name"))


def scrub_payload(raw: dict[str, Any], author_id: str) -> dict[str, Any] | None:
    """Someone else's status payload without `author_id`; None if it holds nothing of theirs.

    Their account and mentions, their statuses (quoted or boosted) and their id
    (`in_reply_to_account_id`) go (bot/platforms/scrubbing.py).
    """
    return scrub(raw, author_id, SHAPE)
