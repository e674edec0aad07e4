"""Importing recorded Bluesky and Mastodon output: every post stored once, as plain text,
replies keeping their parents, the host's posts made into a session, reposts and boosts
left out, a bad line counted, and importing twice changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bot.archive import Archive
from bot.platforms.bluesky.importer import import_bluesky
from bot.platforms.mastodon.importer import import_mastodon
from bot.script import load_script
from bot.testing.fake_mastodon import render_html
from tests.conftest import chat_script, make_settings, write_script

HOST_DID = "did:plc:hosthosthosthost"


def view(rkey: str, did: str, handle: str, text: str, at: str,
         parent: str | None = None, root: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at}
    if parent:
        record["reply"] = {"root": {"uri": root or parent, "cid": "bafyreiroot"},
                           "parent": {"uri": parent, "cid": "bafyreiparent"}}
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}",
            "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0]},
            "record": record, "indexedAt": at, "likeCount": 1}


def rows(archive: Archive, platform: str) -> dict[str, tuple[Any, ...]]:
    return {r[0]: r for r in archive.db.execute(
        "select id, reply_to, text, question, session_id from messages where platform = ?",
        (platform,))}


def test_bluesky_search_thread_and_feed_responses_import_once(tmp_path: Path) -> None:
    script = load_script(write_script(tmp_path / "chats", chat_script("[bluesky]")))
    welcome = view("3kwelcome", HOST_DID, "nhssm.bsky.social", "Welcome! #TestChat",
                   "2026-11-25T20:00:00.000Z")
    q1 = view("3kq1", HOST_DID, "nhssm.bsky.social", "Q1 First question? #TestChat",
              "2026-11-25T20:01:00.000Z")
    answer = view("3kans", "did:plc:alice", "alice.bsky.social", "A1 rest 🎉 #TestChat",
                  "2026-11-25T20:01:30.000Z")
    reply = view("3kreply", "did:plc:bob", "bob.bsky.social", "agreed",
                 "2026-11-25T20:02:00.000Z", parent=q1["uri"])
    deeper = view("3kdeep", "did:plc:cat", "cat.bsky.social", "me too",
                  "2026-11-25T20:02:30.000Z", parent=reply["uri"], root=q1["uri"])
    thread = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": q1, "replies": [
        {"$type": "app.bsky.feed.defs#threadViewPost", "post": reply, "replies": [
            {"$type": "app.bsky.feed.defs#threadViewPost", "post": deeper}]},
        {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x/y/z", "notFound": True}]}}
    feed = {"feed": [{"post": welcome}, {"post": q1},
                     {"post": answer, "reason": {"$type": "app.bsky.feed.defs#reasonRepost"}}]}
    lines = [orjson.dumps({"posts": [answer, q1, welcome], "cursor": "25"}),
             orjson.dumps(thread), orjson.dumps(feed), b"{not json", b""]
    path = tmp_path / "bluesky.jsonl"
    path.write_bytes(b"\n".join(lines))
    settings = make_settings(tmp_path)
    archive = Archive(settings.archive.path)
    try:
        report = import_bluesky(archive, path, script, host_accounts=["nhssm.bsky.social"])
        assert report.bad_lines == [4] and report.host_posts == 2 and len(report.sessions) == 1
        stored = rows(archive, "bluesky")
        assert set(stored) == {welcome["uri"], q1["uri"], answer["uri"], reply["uri"],
                               deeper["uri"]}
        assert stored[deeper["uri"]][1] == reply["uri"]
        assert stored[reply["uri"]][1] == q1["uri"]
        assert stored[answer["uri"]][2] == "A1 rest 🎉 #TestChat"
        assert {stored[u][3] for u in (answer["uri"], reply["uri"], deeper["uri"])} == {1}
        again = import_bluesky(archive, path, script, host_accounts=["nhssm.bsky.social"])
        assert again.changed == 0 and rows(archive, "bluesky") == stored
    finally:
        archive.close()


def status(sid: str, acct: str, text: str, at: str, reply_to: str | None = None,
           spoiler: str = "") -> dict[str, Any]:
    return {"id": sid, "created_at": at, "in_reply_to_id": reply_to, "spoiler_text": spoiler,
            "content": render_html(text), "reblog": None, "edited_at": None,
            "account": {"id": str(abs(hash(acct)) % 10**6), "username": acct.split("@")[0],
                        "acct": acct, "display_name": acct.split("@")[0].title()},
            "mentions": [], "favourites_count": 0, "url": f"https://m.example/@{acct}/{sid}"}


def test_mastodon_pages_contexts_and_an_outbox_import_once(tmp_path: Path) -> None:
    script = load_script(write_script(tmp_path / "chats", chat_script("[mastodon]")))
    welcome = status("1001", "nhssm", "Welcome! #TestChat", "2026-11-25T20:00:00.000Z")
    q1 = status("1002", "nhssm", "Q1 First question? #TestChat", "2026-11-25T20:01:00.000Z")
    answer = status("1003", "ann@remote.example", "A1 tired #TestChat",
                    "2026-11-25T20:01:30.000Z", spoiler="work")
    reply = status("1004", "bob", "@nhssm agreed", "2026-11-25T20:02:00.000Z", reply_to="1002")
    boost = {**status("1005", "gus", "", "2026-11-25T20:02:10.000Z"), "reblog": answer}
    lines = [orjson.dumps([answer, q1, welcome, boost]),
             orjson.dumps({"ancestors": [], "descendants": [reply]}), orjson.dumps(reply),
             b"[1, 2"]
    path = tmp_path / "mastodon.jsonl"
    path.write_bytes(b"\n".join(lines))
    settings = make_settings(tmp_path)
    archive = Archive(settings.archive.path)
    try:
        report = import_mastodon(archive, path, script, host_accounts=["nhssm"])
        assert report.bad_lines == [4] and report.skipped == 1 and len(report.sessions) == 1
        stored = rows(archive, "mastodon")
        assert set(stored) == {"1001", "1002", "1003", "1004"}
        assert stored["1003"][2] == "CW: work\n\nA1 tired #TestChat"
        assert stored["1004"][1] == "1002" and stored["1004"][3] == 1
        assert import_mastodon(archive, path, script, host_accounts=["nhssm"]).changed == 0
    finally:
        archive.close()


def test_mastodon_outbox_keeps_notes_skips_boosts(tmp_path: Path) -> None:
    script = load_script(write_script(tmp_path / "chats", chat_script("[mastodon]")))
    actor = "https://m.example/users/nhssm"

    def create(sid: str, content: str, at: str, **extra: Any) -> dict[str, Any]:
        return {"type": "Create", "actor": actor, "published": at, "object": {
            "id": f"{actor}/statuses/{sid}", "type": "Note", "published": at,
            "attributedTo": actor, "content": render_html(content), "summary": None,
            "inReplyTo": None, "url": f"https://m.example/@nhssm/{sid}", **extra}}

    outbox = {"@context": "https://www.w3.org/ns/activitystreams", "type": "OrderedCollection",
              "orderedItems": [
                  create("2001", "Welcome! #TestChat", "2026-11-25T20:00:00Z"),
                  create("2002", "Q1 First question? #TestChat", "2026-11-25T20:01:00Z",
                         updated="2026-11-25T20:01:30Z"),
                  create("2003", "Following up", "2026-11-25T20:02:00Z", summary="meta",
                         inReplyTo=f"{actor}/statuses/2002"),
                  {"type": "Announce", "actor": actor, "object": "https://x.example/1"}]}
    path = tmp_path / "outbox.json"
    path.write_bytes(orjson.dumps(outbox))
    settings = make_settings(tmp_path)
    archive = Archive(settings.archive.path)
    try:
        report = import_mastodon(archive, path, script, host_accounts=["nhssm@m.example"])
        assert report.skipped == 1 and report.host_posts == 3 and len(report.sessions) == 1
        edited = archive.db.execute("select edited from messages where id = '2002'").fetchone()
        assert edited[0] is not None
        text = archive.db.execute("select text, reply_to from messages where id = '2003'"
                                  ).fetchone()
        assert tuple(text) == ("CW: meta\n\nFollowing up", "2002")
    finally:
        archive.close()
