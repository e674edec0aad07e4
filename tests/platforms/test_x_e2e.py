"""End to end on the fake X API: the real App hosts a paced chat on X while a crowd tweets
answers, replies without the hashtag, quotes and retweets, and the API throws 429s, 500s
and timeouts. Every original tweet must land in the archive exactly once, and the
transcript's answers per question must be the crowd's. A second test stops the App
mid-session and starts a new one on the same archive: it backfills from the stored cursor
and loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.app import App
from bot.archive import Archive
from bot.platforms.x.tweet_text import v2_text
from bot.publishing import publish_session
from bot.script import ChatScript, load_script
from bot.settings import Settings
from bot.testing.fake_x import FakeXServer
from tests.conftest import chat_script, make_settings, write_script

PACE = 60.0  # a script minute per wall second: the four-minute chat takes a few seconds
SCRIPT = chat_script(
    "[x]",
    "platform_settings:\n  x:\n    poll_interval: 0.05\n    request_timeout: 0.5\n"
    "    backoff_base: 0.05\n    backoff_cap: 0.5\n    page_size: 10\n",
    title="X test chat", welcome="Welcome to the X test chat.",
)
SEARCH = "/2/tweets/search"


async def until(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Let the bot run until `condition` holds; a bound so a broken bot fails, not hangs."""
    try:
        async with asyncio.timeout(seconds):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


@pytest.fixture
async def server() -> AsyncIterator[FakeXServer]:
    # A generous search window: the test polls every 50 ms; rate limits are injected.
    async with FakeXServer(rate_limits={"search": (100_000, 900.0)}) as s:
        yield s


@pytest.fixture
def script(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats", SCRIPT, name="x.yaml", chat_id="xchat"))


def x_settings(tmp_path: Path, server: FakeXServer) -> Settings:
    settings = make_settings(
        tmp_path,
        X_API_KEY="ck-e2e",
        X_API_SECRET="cs-e2e",
        X_ACCESS_TOKEN="at-e2e",
        X_ACCESS_TOKEN_SECRET="ats-e2e",
        X_BEARER_TOKEN="bt-e2e",
        TWEETCHAT_X_API_BASE=server.base_url,
        TWEETCHAT_PUBLIC_URL="https://chats.example.org",
    )
    host = settings.host.model_copy(update={"retry_base_seconds": 0.05})
    return settings.model_copy(update={"host": host})


def new_app(settings: Settings, script: ChatScript) -> App:
    return App(settings, scripts=[script], platform_override=["x"], with_scheduler=False,
               with_web=False)


class Crowd:
    """People on X, and a ledger of which question each original tweet answers.

    Every text differs: the same words three times in ten minutes is spam to moderation."""

    def __init__(self, server: FakeXServer) -> None:
        self.server = server
        self.answers: dict[str, int] = {}  # tweet id -> question it belongs to
        self.retweets: list[str] = []

    def posted(self, prefix: str) -> dict[str, Any] | None:
        return next((t for t in self.server.posted if t["text"].startswith(prefix)), None)

    def answer(self, n: int, q_id: str, *, quotes: bool = True, tag: str = "") -> None:
        s = self.server
        a = [s.add_tweet(f"ann{tag}", f"A{n} ann's answer #TestChat"),
             s.add_tweet(f"bob{tag}", f"A{n}: bob's answer #testchat")]
        # Replies to the question itself, without the hashtag.
        r1 = s.add_tweet(f"cat{tag}", f"@tweetchat_host cat says {n}", reply_to=q_id)
        r2 = s.add_tweet(f"dan{tag}", f"@cat{tag} agreed with point {n}", reply_to=r1)
        # A reply to an answer keeps the hashtag (it is in another conversation).
        r3 = s.add_tweet(f"eve{tag}", f"@ann{tag} so true for Q{n} #TestChat",
                        reply_to=a[0])
        for tid in (*a, r1, r2, r3):
            self.answers[tid] = n
        if quotes:
            self.answers[s.add_tweet(f"fay{tag}", f"A{n} this! #TestChat", quote_of=a[1])] = n
        self.retweets += [s.add_tweet(f"gus{tag}", "", retweet_of=a[0]),
                          s.add_tweet(f"hal{tag}", "", retweet_of=r1)]


def stored_x(app: App) -> dict[str, Any]:
    rows = app.archive.db.execute(
        "select id, session_id, question, is_host from messages where platform = 'x'"
    ).fetchall()
    return {r[0]: r for r in rows}


def transcript_questions(path: Path) -> dict[int, set[str]]:
    data = orjson.loads(path.read_bytes())
    out: dict[int, set[str]] = {}
    for q in data["questions"]:
        ids: set[str] = set()
        stack = list(q["answers"])
        while stack:
            entry = stack.pop()
            if not entry["author"]["host"]:
                ids.add(entry["id"])
            stack.extend(entry["replies"])
        out[q["number"]] = ids
    return out


def expected_by_question(crowd: Crowd) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {1: set(), 2: set(), 3: set()}
    for tid, n in crowd.answers.items():
        out[n].add(tid)
    return out


async def test_paced_chat_on_x_collects_every_tweet_once(
    tmp_path: Path, server: FakeXServer, script: ChatScript
) -> None:
    settings = x_settings(tmp_path, server)
    app = new_app(settings, script)
    crowd = Crowd(server)
    await app.start()
    try:
        sid = await app.start_session("xchat", pace=PACE)
        for n in (1, 2, 3):
            await until(lambda n=n: crowd.posted(f"Q{n} ") is not None, f"Q{n} posted")
            q = crowd.posted(f"Q{n} ")
            assert q is not None
            crowd.answer(n, q["id"])
            if n == 1:  # the API misbehaves while the crowd tweets
                server.fail_next(429, path=SEARCH, reset_in=1)
                server.fail_next(500, count=2, path=SEARCH)
            elif n == 2:
                server.slow_next(0.8, path=SEARCH)  # longer than request_timeout: a timeout
                server.fail_next(503, path="/2/tweets")  # a search or a post: both recover
        await until(lambda: app.host_tasks[sid].done(), "the session ended", 60)
        await until(lambda: set(crowd.answers) <= set(stored_x(app)), "every answer stored")
        await until(lambda: any("transcript" in t["text"] for t in server.posted),
                    "the transcript link tweeted")
    finally:
        await app.stop()

    archive = Archive(settings.archive.path)  # stop() closed the App's handle
    try:
        published = publish_session(archive, sid, Path(settings.archive.transcripts_dir))
        rows = {r[0]: r for r in archive.db.execute(
            "select id, session_id, question, is_host from messages where platform = 'x'")}
    finally:
        archive.close()
    host_ids = {t["id"] for t in server.posted}
    # Every original tweet exactly once (the key is unique); no retweet; nothing else.
    assert set(rows) == set(crowd.answers) | (host_ids & set(rows))
    assert not set(crowd.retweets) & set(rows)
    assert {rows[t][1] for t in crowd.answers} == {sid}
    assert {t: rows[t][2] for t in crowd.answers} == crowd.answers
    texts = [v2_text(t) for t in server.posted]  # t.co links shown as the links they are
    assert len(texts) == len(set(texts))  # nothing posted twice
    assert texts[-1] == (f"The transcript of X test chat is up: "
                         f"https://chats.example.org/archive/{sid} #TestChat")
    json_path = next(p for p in published.files if p.name == "transcript.json")
    assert transcript_questions(json_path) == expected_by_question(crowd)


async def test_restart_mid_session_backfills_from_the_stored_cursor(
    tmp_path: Path, server: FakeXServer, script: ChatScript
) -> None:
    settings = x_settings(tmp_path, server)
    crowd = Crowd(server)
    first = new_app(settings, script)
    await first.start()
    sid = await first.start_session("xchat", pace=PACE / 2)
    await until(lambda: crowd.posted("Q1 ") is not None, "Q1 posted")
    q1 = crowd.posted("Q1 ")
    assert q1 is not None
    crowd.answer(1, q1["id"], quotes=False)
    await until(lambda: set(crowd.answers) <= set(stored_x(first)), "Q1's answers stored")
    await first.stop()
    saved = Archive(settings.archive.path)
    cursor = saved.cursor("xchat", "x")
    saved.close()
    assert "hashtag" in cursor and any(k.startswith("conv:") for k in cursor)

    # While the bot is down: more answers to Q1, some without the hashtag.
    crowd.answer(1, q1["id"], quotes=False, tag="_late")
    second = new_app(settings, script)
    await second.start()  # backfill runs here, before anything new is posted
    try:
        assert set(crowd.answers) <= set(stored_x(second))
        for n in (2, 3):
            await until(lambda n=n: crowd.posted(f"Q{n} ") is not None, f"Q{n} posted")
            q = crowd.posted(f"Q{n} ")
            assert q is not None
            crowd.answer(n, q["id"], quotes=False)
        await until(lambda: second.host_tasks[sid].done(), "the session ended", 60)
        await until(lambda: set(crowd.answers) <= set(stored_x(second)), "every answer stored")
        published = publish_session(second.archive, sid,
                                    Path(settings.archive.transcripts_dir))
        rows = stored_x(second)
    finally:
        await second.stop()
    texts = [t["text"] for t in server.posted]
    assert len(texts) == len(set(texts))  # the restart re-posted nothing
    assert sum(t.startswith("Q1 ") for t in texts) == 1
    assert not set(crowd.retweets) & set(rows)
    assert {t: rows[t][2] for t in crowd.answers} == crowd.answers
    assert {rows[t][1] for t in crowd.answers} == {sid}
    json_path = next(p for p in published.files if p.name == "transcript.json")
    assert transcript_questions(json_path) == expected_by_question(crowd)
