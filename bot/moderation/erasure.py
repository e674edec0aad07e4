"""Right to erasure: forget one participant.

mode="anonymise" keeps each message as a placeholder from "Former participant", so the
reply trees of everyone else still make sense; mode="remove" deletes the rows. Either way
the text, name, handle and raw payload go, with the edit history, the participants row,
and the moderation spans that pointed into the text. The audit log records that it was
done, by whom and when, and how many messages; the person appears there only as a one-way
hash of their id, so a later "was I erased?" can be answered without keeping who they were.

The caller re-renders the transcripts of `sessions_affected`.

Erasure leaves nothing behind in the files either: secure_delete zeroes what is overwritten,
the full-text index is merged (its old segments keep every word) and the write-ahead log
is checkpointed and truncated. `tweetchat forget web:"Display Name"` finds the person by
id, name or handle; nobody matching is one line with a hint and exit status 2.

An import writes payloads as it reads and message rows only once their sessions are known:
killed in between (or still running), it leaves payloads and a participant row that no
message row names. Erasure finds those payloads by the author each names, read by the
platform's own converter (the registry's `payload_author`), and erases them for good: their
keys are kept (erased_messages) so neither the running import nor a re-run writes them;
so are the keys of removed messages, which a re-import used to write back as new.
All of it runs in one write transaction, so an import beside it cannot slip a row between
the finding and the erasing.

Other people's payloads embed them too: an X reply keeps the tweet it answers and its
author's user object, a Discord message its mentions, a Mastodon status its mentions, a
Bluesky post the post it quotes. Every payload whose JSON holds their id is rewritten, in
the same transaction, by the platform's `scrub_payload` (bot/platforms/scrubbing.py):
their user objects, their posts' words and their id go; the payload's own author's words
stay (naming someone in your own words is your content, as is `messages.text`).

What they did is kept, not who did it (bot/archive/erasure_traces.py): audit-log, session-log
and moderation-event rows that name them as `platform:id` or `platform:NAME` get the same
subject hash instead, their bare name becomes "former participant", and their reminder
opt-ins are deleted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import orjson

from bot.archive import erasure_traces
from bot.archive import moderation_store as store
from bot.archive.store import Archive
from bot.platforms import registry, scrubbing
from bot.platforms.base import Platform

__all__ = ["ErasureError", "ErasureReport", "PLACEHOLDER", "find_person", "forget",
           "orphans_of", "scrub_others", "subject_hash"]

PLACEHOLDER = "[message removed at the author's request]"
FORMER = scrubbing.FORMER


class ErasureError(ValueError):
    """Nobody (or more than one person) matches who was named: one line with a hint."""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did: how many messages, which sessions, whether every copy went.

    `scrubbed` says whether every copy of the old text left the files (False while a
    running bot keeps the WAL open). `payloads`: their payloads an unfinished import left
    without a message, erased; `unread`: such payloads (anyone's) whose author could not be
    read, left as they are; `others`: other people's payloads they were taken out of.
    """

    messages: int
    sessions_affected: tuple[int, ...]
    mode: str = "anonymise"
    scrubbed: bool = True
    payloads: int = 0
    unread: int = 0
    others: int = 0
    traces: int = 0


def find_person(archive: Archive, platform: str, who: str) -> str:
    """The one author id on `platform` whose id, display name or handle is `who`.

    `tweetchat forget web:"Display Name"` names people as the room showed them; an id
    still works. Nobody matching, or several people sharing the name, is an ErasureError.
    """
    matches = store.authors_matching(archive, platform, who)
    if not matches and erasure_traces.leaves_traces(archive, platform, who.strip()):
        return who.strip()  # only an opt-in or an audited action: still theirs to erase
    if not matches:
        raise ErasureError(
            f"nobody on {platform} has the id, name or handle '{who}'; find them with "
            f"`tweetchat search --json WORDS` (author_id) and run `tweetchat forget "
            f"{platform}:AUTHOR_ID`")
    if len(matches) > 1:
        ids = ", ".join(f"{platform}:{author_id}" for author_id, _ in matches[:5])
        raise ErasureError(f"{len(matches)} people on {platform} are called '{who}' ({ids}); "
                           "name one by its id")
    return matches[0][0]


def subject_hash(platform: str, user_id: str) -> str:
    """A short hash naming the person in the audit log instead of their id."""
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:16]


def forget(archive: Archive, platform: Platform | str, user_id: str, actor: str, now: datetime,
           mode: Literal["anonymise", "remove"] = "anonymise") -> ErasureReport:
    """Erase one person's messages: anonymised (placeholder text, no name) or removed."""
    name = platform if isinstance(platform, str) else platform.name
    if mode not in ("anonymise", "remove"):
        raise ValueError(f"unknown erasure mode {mode!r}: use anonymise or remove")
    subject = f"{name}:subject:{subject_hash(name, user_id)}"
    with store.erasing(archive):
        names = erasure_traces.names_of(archive, name, user_id)
        keys = store.author_message_keys(archive, name, user_id)
        sessions = tuple(sorted({s for _, s in keys if s is not None}))
        orphans, unread = orphans_of(archive, name, user_id)
        if mode == "anonymise":
            # A fresh random id per erasure: a hash of the old id could be reversed by trying
            # ids.
            count = store.anonymise_author(
                archive, name, user_id, new_id=f"erased-{secrets.token_hex(6)}", name=FORMER,
                placeholder=PLACEHOLDER, at=now, orphans=orphans)
        else:
            count = store.remove_author(archive, name, user_id, at=now, orphans=orphans)
        others = scrub_others(archive, name, user_id)
        traces = erasure_traces.scrub_traces(archive, name, user_id, names, subject)
    scrubbed = store.scrub_after_erasure(archive)
    archive.audit(
        actor=actor, action=f"erasure.{mode}",
        target=subject,
        detail=f"{mode} {count} messages in {len(sessions)} sessions "
               f"({', '.join(map(str, sessions)) or 'none'}); {len(orphans)} payloads "
               f"without a message; {others} other payloads scrubbed; {traces.rows} log "
               f"entries de-identified; {traces.optins} reminder opt-ins removed",
        at=now,
    )
    return ErasureReport(count, sessions, mode, scrubbed, len(orphans), unread, others,
                         traces.rows + traces.optins)


def scrub_others(archive: Archive, platform: str, user_id: str) -> int:
    """Take `user_id` out of every other payload that embeds them; returns how many changed.

    Called after their own rows are erased (their own payloads are null or gone by then),
    inside the erasure's transaction. A payload that is not JSON is left: nothing this bot
    stored is.
    """
    info = registry.PLATFORMS.get(platform)
    if info is None or info.scrub_payload is None or not user_id:
        return 0
    scrub = registry.load(info.scrub_payload)
    rewritten: list[tuple[str, dict[str, object]]] = []
    for message_id, raw in store.payloads_naming(archive, platform, user_id):
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        cleaned = scrub(payload, user_id)
        if cleaned is not None:
            rewritten.append((message_id, cleaned))
    store.rewrite_payloads(archive, platform, rewritten)
    return len(rewritten)


def orphans_of(archive: Archive, platform: str, user_id: str) -> tuple[list[str], int]:
    """`user_id`'s payloads no message row names, and how many such payloads name no author.

    Returns (their ids, how many orphan payloads of anyone name no author the platform can
    read). A platform without `payload_author` stores payloads only with their messages.
    """
    info = registry.PLATFORMS.get(platform)
    if info is None or info.payload_author is None:
        return [], 0
    author_of = registry.load(info.payload_author)
    theirs: list[str] = []
    unread = 0
    for message_id, raw in store.orphan_payloads(archive, platform):
        try:
            author = author_of(orjson.loads(raw))
        except orjson.JSONDecodeError:
            author = None
        if author is None:
            unread += 1
        elif author == user_id:
            theirs.append(message_id)
    return theirs, unread
