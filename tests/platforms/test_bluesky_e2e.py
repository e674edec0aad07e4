"""End to end on the fake Bluesky service: the real App hosts a paced chat through the real
atproto SDK, questions threaded under the welcome, while a crowd posts tagged answers,
untagged replies to the questions, replies to replies and quotes, the service throws 500s
and a 429, and one answer is deleted. Every post must land once, deleted marked deleted,
and the transcript's answers per question must be the crowd's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.archive import Archive
from bot.publishing import publish_session
from bot.script import ChatScript, load_script
from bot.settings import Settings
from bot.testing.fake_bluesky import FakeBlueskyServer
from tests.conftest import chat_script, make_settings, write_script
from tests.platforms.test_x_e2e import transcript_questions, until

PACE = 60.0
SCRIPT = chat_script(
    "[bluesky]",
    "platform_settings:\n  bluesky:\n    poll_interval: 0.05\n    request_timeout: 2\n"
    "    backoff_base: 0.05\n    backoff_cap: 0.5\n    page_size: 5\n"
    "    thread_questions: true\n",
    title="Bluesky test chat", welcome="\"Welcome 🎉 to the test chat, see https://example.org/chat\"",
)


@pytest.fixture
async def server() -> AsyncIterator[FakeBlueskyServer]:
    async with FakeBlueskyServer() as s:
        yield s


def bluesky_settings(tmp_path: Path, server: FakeBlueskyServer) -> Settings:
    settings = make_settings(tmp_path, BLUESKY_HANDLE=server.me.handle,
                             BLUESKY_APP_PASSWORD=server.password,
                             TWEETCHAT_BLUESKY_SERVICE=server.base_url,
                             TWEETCHAT_PUBLIC_URL="https://chats.example.org")
    host = settings.host.model_copy(update={"retry_base_seconds": 0.05})
    return settings.model_copy(update={"host": host})


def posted(server: FakeBlueskyServer, prefix: str) -> str | None:
    """The uri of the bot's post whose text starts with `prefix`."""
    for uri, rec in server.records.items():
        value = rec["value"]
        if uri.startswith(f"at://{server.me.did}/app.bsky.feed.post/") and \
                str(value.get("text", "")).startswith(prefix):
            return uri
    return None


def stored(archive: Archive) -> dict[str, Any]:
    rows = archive.db.execute("select id, session_id, question, is_host, deleted from messages "
                              "where platform = 'bluesky'").fetchall()
    return {r[0]: r for r in rows}


async def test_paced_chat_on_bluesky_collects_every_post_once(
        tmp_path: Path, server: FakeBlueskyServer) -> None:
    script: ChatScript = load_script(write_script(tmp_path / "chats", SCRIPT, name="b.yaml",
                                                  chat_id="bchat"))
    settings = bluesky_settings(tmp_path, server)
    app = App(settings, scripts=[script], platform_override=["bluesky"], with_scheduler=False,
              with_web=False)
    answers: dict[str, int] = {}
    await app.start()
    try:
        sid = await app.start_session("bchat", pace=PACE)
        for n in (1, 2, 3):
            await until(lambda n=n: posted(server, f"Q{n} ") is not None, f"Q{n} posted")
            q = posted(server, f"Q{n} ")
            assert q is not None
            a = server.add_post("ann", f"A{n} ann's answer #TestChat", tags=("TestChat",))
            b = server.add_post("bob", f"A{n}: bob's answer 🙂 #testchat", tags=("testchat",))
            r1 = server.add_post("cat", f"cat replies to question {n}", reply_to=q)
            r2 = server.add_post("dan", f"agreed with cat on {n}", reply_to=r1)
            r3 = server.add_post("eve", f"so true for Q{n} #TestChat", reply_to=a,
                                 tags=("TestChat",))
            quote = server.add_post("fay", f"A{n} this! #TestChat", quote_of=b,
                                    tags=("TestChat",))
            answers.update({u: n for u in (a, b, r1, r2, r3, quote)})
            if n == 1:
                server.fail_next(500, count=2, nsid="app.bsky.feed.searchPosts")
                server.fail_next(429, nsid="app.bsky.feed.getPostThread")
        await until(lambda: set(answers) <= set(stored(app.archive)), "every answer stored")
        gone = next(u for u, n in answers.items() if n == 3 and "dan" not in u)
        last_reply = [u for u, n in answers.items() if n == 3][3]  # dan's reply to cat
        server.delete_post(last_reply)
        await until(lambda: stored(app.archive)[last_reply][4] == 1, "the deletion seen")
        await until(lambda: app.host_tasks[sid].done(), "the session ended", 60)
        await until(lambda: any("transcript" in r.get("text", "") for r in server.posted),
                    "the transcript link posted")
    finally:
        await app.stop()
    assert gone in answers
    archive = Archive(settings.archive.path)
    try:
        published = publish_session(archive, sid, Path(settings.archive.transcripts_dir))
        rows = stored(archive)
    finally:
        archive.close()
    host = {u for u in server.records if u.startswith(f"at://{server.me.did}/app.bsky.feed.post")}
    assert set(rows) == set(answers) | (host & set(rows))
    assert {rows[u][1] for u in answers} == {sid}
    assert {u: rows[u][2] for u in answers} == answers
    texts = [r["text"] for r in server.posted]
    assert len(texts) == len(set(texts))  # nothing posted twice
    welcome = server.posted[0]
    link = next(f for f in welcome["facets"] if "uri" in f["features"][0])
    raw = welcome["text"].encode()
    assert raw[link["index"]["byteStart"]:link["index"]["byteEnd"]] == b"https://example.org/chat"
    questions = [r for r in server.posted if r["text"].startswith("Q")]
    root = posted(server, "Welcome")
    assert {q["reply"]["root"]["uri"] for q in questions} == {root}  # threaded under it
    expected: dict[int, set[str]] = {1: set(), 2: set(), 3: set()}
    for uri, n in answers.items():
        if uri != last_reply:
            expected[n].add(uri)
    json_path = next(p for p in published.files if p.name == "transcript.json")
    assert transcript_questions(json_path) == expected
