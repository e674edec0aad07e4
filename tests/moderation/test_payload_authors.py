"""Each platform's `payload_author` reads, from every payload shape its imports store, the
author id the message row was given: erasure relies on it to find an unfinished import's
payloads (they have no message row yet), so a payload it misread would outlive `forget`.

Every importer is run on fixtures of each shape it reads (X: twarc2 pages, an edited tweet,
a flattened line, v1.1; Discord: DiscordChatExporter channel and thread files; Mastodon:
API pages and contexts, and an account archive's outbox; Bluesky: search/thread/feed
responses and a repository CAR export), and every stored payload, the host's included,
must name its row's author.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.archive import Archive
from bot.platforms import registry
from bot.platforms.bluesky.importer import import_bluesky
from bot.platforms.discord.importer import import_discord
from bot.platforms.mastodon.importer import import_mastodon
from bot.platforms.x.importer import import_x
from bot.script import load_script
from bot.testing.fake_mastodon import render_html
from tests.conftest import chat_script, write_script
from tests.importers.equivalence_fixtures import SCRIPT, write_discord, x_lines
from tests.platforms.test_bluesky_car import DID, export
from tests.platforms.test_opennets_import import status, view


def _x(tmp: Path, archive: Archive) -> None:
    (tmp / "equiv.yaml").write_text(SCRIPT)
    (tmp / "x.jsonl").write_bytes(b"\n".join(x_lines()) + b"\n")
    import_x(archive, tmp / "x.jsonl", load_script(tmp / "equiv.yaml"))


def _discord(tmp: Path, archive: Archive) -> None:
    (tmp / "equiv.yaml").write_text(SCRIPT)
    import_discord(archive, write_discord(tmp), load_script(tmp / "equiv.yaml"))


def _mastodon(tmp: Path, archive: Archive) -> None:
    script = load_script(write_script(tmp / "chats", chat_script("[mastodon]")))
    q1 = status("1002", "nhssm", "Q1 First question? #TestChat", "2026-11-25T20:01:00.000Z")
    answer = status("1003", "ann@remote.example", "A1 tired", "2026-11-25T20:01:30.000Z")
    reply = status("1004", "bob", "@nhssm agreed", "2026-11-25T20:02:00.000Z", reply_to="1002")
    (tmp / "m.jsonl").write_bytes(orjson.dumps([answer, q1]) + b"\n" + orjson.dumps(
        {"ancestors": [], "descendants": [reply]}))
    import_mastodon(archive, tmp / "m.jsonl", script, host_accounts=["nhssm"])
    actor = "https://m.example/users/cat"
    outbox = {"type": "OrderedCollection", "orderedItems": [
        {"type": "Create", "actor": actor, "published": "2026-11-25T20:03:00Z", "object": {
            "id": f"{actor}/statuses/2001", "type": "Note", "published": "2026-11-25T20:03:00Z",
            "attributedTo": actor, "content": render_html("A1 from my outbox")}}]}
    (tmp / "outbox.json").write_bytes(orjson.dumps(outbox))
    import_mastodon(archive, tmp / "outbox.json", script, host_accounts=["nhssm"])


def _bluesky(tmp: Path, archive: Archive) -> None:
    script = load_script(write_script(tmp / "chats", chat_script("[bluesky]")))
    host = "did:plc:hosthosthosthost"
    q1 = view("3kq1", host, "nhssm.bsky.social", "Q1 First? #TestChat", "2026-11-25T20:01:00Z")
    answer = view("3kans", "did:plc:alice", "alice.bsky.social", "A1 rest",
                  "2026-11-25T20:01:30Z")
    reply = view("3krep", "did:plc:bob", "bob.bsky.social", "agreed", "2026-11-25T20:02:00Z",
                 parent=q1["uri"])
    del reply["author"]["did"]  # the DID then comes from the post's own URI
    (tmp / "b.jsonl").write_bytes(orjson.dumps({"posts": [answer, q1]}) + b"\n" + orjson.dumps(
        {"thread": {"post": q1, "replies": [{"post": reply}]}}))
    import_bluesky(archive, tmp / "b.jsonl", script, host_accounts=["nhssm.bsky.social"])
    import_bluesky(archive, export(tmp), script, host_accounts=[DID])


@pytest.mark.parametrize(("platform", "run", "authors"), [
    ("x", _x, 7), ("discord", _discord, 4), ("mastodon", _mastodon, 4),
    ("bluesky", _bluesky, 4),
])
def test_every_stored_payload_names_its_rows_author(
        tmp_path: Path, platform: str, run: Callable[[Path, Archive], None],
        authors: int) -> None:
    ref = registry.PLATFORMS[platform].payload_author
    assert ref is not None
    author_of: Callable[[Any], str | None] = registry.load(ref)
    archive = Archive(tmp_path / "a.db")
    try:
        run(tmp_path, archive)
        rows = archive.db.execute(
            "select m.id, m.author_id, r.raw from messages m join message_raw r "
            "on r.platform = m.platform and r.id = m.id where m.platform = ?", [platform]
        ).fetchall()
    finally:
        archive.close()
    read = {mid: author_of(orjson.loads(raw)) for mid, _, raw in rows}
    assert read == {mid: author for mid, author, _ in rows}
    assert len({author for _, author, _ in rows}) >= authors  # every shape was there


@pytest.mark.parametrize("platform", ["x", "discord", "mastodon", "bluesky"])
@pytest.mark.parametrize("raw", [None, 7, "text", [], {}, {"data": []}, {"author": "a"},
                                 {"user": {"id": True}}, {"status": 5}, {"post": {}},
                                 {"type": "Create", "object": {"type": "Note"}}])
def test_a_payload_naming_no_author_is_none_not_an_error(platform: str, raw: Any) -> None:
    ref = registry.PLATFORMS[platform].payload_author
    assert ref is not None and registry.load(ref)(raw) is None
