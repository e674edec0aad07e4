"""Right to erasure: forget one participant.

mode="anonymise" keeps each message as a placeholder from "Former participant", so the
reply trees of everyone else still make sense; mode="remove" deletes the rows. Either way
the text, name, handle and raw payload go, with the edit history, the participants row,
and the moderation spans that pointed into the text. The audit log records that it was
done, by whom and when, and how many messages; the person appears there only as a one-way
hash of their id, so a later "was I erased?" can be answered without keeping who they were.

The caller re-renders the transcripts of `sessions_affected`.

CLI (wired by the lead): `tweetchat forget PLATFORM USER_ID [--remove] [--as NAME]` prints
"anonymised 12 messages in 3 sessions; re-rendered ..." and exits 0; an unknown user is a
one-line message ("no messages from discord:123") and exit status 2.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.archive import moderation_store as store
from bot.archive.store import Archive
from bot.platforms.base import Platform

__all__ = ["ErasureReport", "PLACEHOLDER", "forget", "subject_hash"]

PLACEHOLDER = "[message removed at the author's request]"
FORMER = "Former participant"


@dataclass(frozen=True)
class ErasureReport:
    messages: int
    sessions_affected: tuple[int, ...]
    mode: str = "anonymise"


def subject_hash(platform: str, user_id: str) -> str:
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:16]


def forget(archive: Archive, platform: Platform | str, user_id: str, actor: str, now: datetime,
           mode: Literal["anonymise", "remove"] = "anonymise") -> ErasureReport:
    name = platform if isinstance(platform, str) else platform.name
    if mode not in ("anonymise", "remove"):
        raise ValueError(f"unknown erasure mode {mode!r}: use anonymise or remove")
    keys = store.author_message_keys(archive, name, user_id)
    sessions = tuple(sorted({s for _, s in keys if s is not None}))
    if mode == "anonymise":
        # A fresh random id per erasure: a hash of the old id could be reversed by trying ids.
        count = store.anonymise_author(
            archive, name, user_id, new_id=f"erased-{secrets.token_hex(6)}", name=FORMER,
            placeholder=PLACEHOLDER, at=now)
    else:
        count = store.remove_author(archive, name, user_id, at=now)
    archive.audit(
        actor=actor, action=f"erasure.{mode}",
        target=f"{name}:subject:{subject_hash(name, user_id)}",
        detail=f"{mode} {count} messages in {len(sessions)} sessions "
               f"({', '.join(map(str, sessions)) or 'none'})",
        at=now,
    )
    return ErasureReport(count, sessions, mode)
