"""End to end on the fake Mastodon instance: the real App hosts a paced chat through the real
Mastodon.py, with a content warning and unlisted visibility, while a crowd (local and remote
accounts) posts tagged answers, untagged replies to the questions and replies to replies,
boosts answers, edits one and deletes another, and the instance throws 503s and a 429.
Every status must land once (no boost), the edit kept as an edit, the delete marked, and
the transcript's answers per question must be the crowd's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.archive import Archive
from bot.publishing import publish_session
from bot.script import load_script
from bot.settings import Settings
from bot.testing.fake_mastodon import FakeMastodonServer
from tests.conftest import chat_script, make_settings, write_script
from tests.platforms.test_x_e2e import transcript_questions, until

PACE = 60.0
SCRIPT = chat_script(
    "[mastodon]",
    "platform_settings:\n  mastodon:\n    poll_interval: 0.05\n    request_timeout: 2\n"
    "    backoff_base: 0.05\n    backoff_cap: 0.5\n    page_size: 3\n"
    "    visibility: unlisted\n    content_warning: Health chat\n",
    title="Mastodon test chat")


@pytest.fixture
async def server() -> AsyncIterator[FakeMastodonServer]:
    async with FakeMastodonServer(max_characters=400) as s:
        yield s


def mastodon_settings(tmp_path: Path, server: FakeMastodonServer) -> Settings:
    settings = make_settings(tmp_path, MASTODON_API_BASE_URL=server.base_url,
                             MASTODON_ACCESS_TOKEN=server.token,
                             TWEETCHAT_PUBLIC_URL="https://chats.example.org")
    host = settings.host.model_copy(update={"retry_base_seconds": 0.05})
    return settings.model_copy(update={"host": host})


def posted(server: FakeMastodonServer, prefix: str) -> str | None:
    return next((s["id"] for s in server.posted if s["text_source"].startswith(prefix)), None)


def stored(archive: Archive) -> dict[str, Any]:
    rows = archive.db.execute("select id, session_id, question, deleted, edited, text "
                              "from messages where platform = 'mastodon'").fetchall()
    return {r[0]: r for r in rows}


async def test_paced_chat_on_mastodon_collects_every_status_once(
        tmp_path: Path, server: FakeMastodonServer) -> None:
    script = load_script(write_script(tmp_path / "chats", SCRIPT, name="m.yaml", chat_id="mchat"))
    settings = mastodon_settings(tmp_path, server)
    app = App(settings, scripts=[script], platform_override=["mastodon"], with_scheduler=False,
              with_web=False)
    answers: dict[str, int] = {}
    boosts: list[str] = []
    await app.start()
    try:
        sid = await app.start_session("mchat", pace=PACE)
        for n in (1, 2, 3):
            await until(lambda n=n: posted(server, f"Q{n} ") is not None, f"Q{n} posted")
            q = posted(server, f"Q{n} ")
            assert q is not None
            a = server.add_status("ann", f"A{n} ann's answer #TestChat")
            b = server.add_status("bob@remote.example", f"A{n}: bob's answer #testchat",
                                  spoiler="long")
            r1 = server.add_status("cat", f"@tweetchat cat on question {n}", reply_to=q)
            r2 = server.add_status("dan@other.example", f"@cat agreed on {n}", reply_to=r1)
            r3 = server.add_status("eve", f"@ann so true for Q{n} #TestChat", reply_to=a)
            answers.update({s: n for s in (a, b, r1, r2, r3)})
            boosts += [server.boost("gus", a), server.boost("hal", r1)]
            if n == 1:
                server.fail_next(503, count=2, path="/api/v1/timelines")
                server.fail_next(429, path="/api/v1/statuses")
        await until(lambda: set(answers) <= set(stored(app.archive)), "every answer stored")
        edited = next(s for s, n in answers.items() if n == 2 and "cat" in
                      server.statuses[s]["account"]["acct"])
        server.edit_status(edited, "@tweetchat cat on question 2, on reflection")
        await until(lambda: stored(app.archive)[edited][4] is not None, "the edit seen")
        # A hashtag-only answer outside every thread, edited: found again, kept as an edit.
        tagged = next(s for s, n in answers.items() if n == 1 and "ann" in
                      server.statuses[s]["account"]["acct"])
        server.edit_status(tagged, "A1 ann's answer, better worded #TestChat")
        await until(lambda: stored(app.archive)[tagged][4] is not None, "the tag edit seen")
        deleted = next(s for s, n in answers.items() if n == 3 and "dan" in
                       server.statuses[s]["account"]["acct"])
        server.delete_status(deleted)
        await until(lambda: stored(app.archive)[deleted][3] == 1, "the deletion seen")
        await until(lambda: app.host_tasks[sid].done(), "the session ended", 60)
        await until(lambda: any("transcript" in s["text_source"] for s in server.posted),
                    "the transcript link posted")
    finally:
        await app.stop()
    archive = Archive(settings.archive.path)
    try:
        published = publish_session(archive, sid, Path(settings.archive.transcripts_dir))
        rows = stored(archive)
    finally:
        archive.close()
    mine = {s["id"] for s in server.posted}
    assert set(rows) == set(answers) | (mine & set(rows))
    assert not set(boosts) & set(rows)
    assert {rows[s][1] for s in answers} == {sid}
    assert {s: rows[s][2] for s in answers} == answers
    assert "on reflection" in rows[edited][5]
    assert "better worded" in rows[tagged][5]
    texts = [s["text_source"] for s in server.posted]
    assert len(texts) == len(set(texts))  # nothing posted twice, even after the 429
    assert {s["visibility"] for s in server.posted} == {"unlisted"}
    assert {s["spoiler_text"] for s in server.posted} == {"Health chat"}
    remote = next(s for s, n in answers.items() if n == 1 and "bob" in
                  server.statuses[s]["account"]["acct"])
    assert rows[remote][5].startswith("CW: long\n\nA1: bob's answer #testchat")
    expected: dict[int, set[str]] = {1: set(), 2: set(), 3: set()}
    for s, n in answers.items():
        if s != deleted:
            expected[n].add(s)
    json_path = next(p for p in published.files if p.name == "transcript.json")
    assert transcript_questions(json_path) == expected
