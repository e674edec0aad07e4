"""The public archive pages read on worker threads, bounded: anonymous visitors cannot stall
the live rooms.

A search is made slow on purpose by holding it inside its own read (the FTS query is
built inside `bot.archive.search.search`, wherever that runs) until the test lets it go.
What is asserted is the order things finish in, never a time: a room's state request
sent while the search is held must be answered before the search is. Were the search on
the event loop, nothing else could be answered until it let go (after its 10 s guard).
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive, page_reads
from bot.archive.page_reads import ArchiveReads, SearchTooBroad
from bot.records import Author, Event, Message
from bot.webapp.archive_pages import ARCHIVE_PAGES_KEY, MAX_SEARCHES
from tests.web.conftest import running_app, until

search_module = importlib.import_module("bot.archive.search")  # the module, not its function
STATE = "/api/chats/webtest/state"
KEY = {"X-Room-Key": "k" * 20}


class Held:
    """Holds every search inside its read until `release()`; counts the searches held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate = threading.Event()
        self.entered = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()
        real = search_module.fts_query

        def held(text: str) -> str:
            with self._lock:
                self.entered += 1
                self.threads.add(threading.current_thread().name)
            self.gate.wait(10)  # a guard so a search on the loop cannot hang the test
            return real(text)

        monkeypatch.setattr(search_module, "fts_query", held)

    def release(self) -> None:
        self.gate.set()


def ended_session(archive: Archive, n: int, words: str = "canteen rota") -> int:
    """An ended session with `n` participant messages, stored as the collector stores them."""
    # One occurrence per start: each session needs a start of its own.
    start = datetime(2026, 1, 6, 12, 0, tzinfo=UTC) + timedelta(hours=len(archive.sessions()))
    sid = archive.create_session(
        chat_id="webtest", title="Web test", hashtag="#WebTest", timezone="Europe/London",
        scheduled_start=start, duration_minutes=60, platforms=["web"], items=[])
    events = []
    for i in range(n):
        msg = Message("web", f"s{sid}-{i}", Author("web", f"p{i % 7}-" + "k" * 20, f"Person {i}"),
                      f"A1 {words} {i} #WebTest", start + timedelta(seconds=i))
        events.append(Event("created", "web", msg.id, msg.created, msg))
    archive.record_events(events, session_id=sid, chat_id="webtest")
    archive.update_session(sid, status="ended")
    return sid


async def test_room_is_answered_while_a_search_is_running(room: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    ended_session(bot.archive, 5)
    held = Held(monkeypatch)
    finished: list[str] = []
    search = asyncio.ensure_future(client.get("/archive/search", params={"q": "canteen"}))
    search.add_done_callback(lambda _: finished.append("search"))
    await asyncio.to_thread(_wait_entered, held)
    probe = await client.get(STATE, headers=KEY)
    finished.append("room")
    held.release()
    answer = await search
    assert finished == ["room", "search"], "the room waited for the search"
    assert probe.status == 200 and answer.status == 200
    assert "<mark>canteen</mark>" in await answer.text()
    assert held.threads and all(t.startswith("archive-pages") for t in held.threads)


def _wait_entered(held: Held) -> None:
    for _ in range(1000):
        if held.entered:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the search never started")


async def test_one_search_per_client_and_a_cap_for_everyone(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, trusted_proxies=["127.0.0.1"]) as (bot, client):
        ended_session(bot.archive, 3)
        admission = client.app[ARCHIVE_PAGES_KEY].admission
        held = Held(monkeypatch)

        def ask(who: str) -> asyncio.Future[Any]:
            return asyncio.ensure_future(client.get(
                "/archive/search", params={"q": "rota"}, headers={"X-Forwarded-For": who}))

        first = [ask(f"10.0.0.{n}") for n in range(MAX_SEARCHES)]
        await until(lambda: sum(admission.running.values()) == MAX_SEARCHES, what="queue")
        again = await client.get("/archive/search", params={"q": "canteen"},
                                 headers={"X-Forwarded-For": "10.0.0.1"})
        assert again.status == 429 and "still running" in await again.text()
        crowd = await client.get("/archive/search", params={"q": "canteen"},
                                 headers={"X-Forwarded-For": "10.9.9.9"})
        assert crowd.status == 503 and "busy" in await crowd.text()
        room_state = await client.get(STATE, headers=KEY)  # the room is not in that queue
        assert room_state.status == 200
        held.release()
        answers = await asyncio.gather(*first)
        assert [a.status for a in answers] == [200] * MAX_SEARCHES
        assert admission.running == {}
        assert (await client.get("/archive/search", params={"q": "rota"})).status == 200


@pytest.mark.parametrize(("query", "said"), [
    ("w" * 201, "at most 200 characters"),
    ("one two three four five six seven eight nine", "at most 8 different words"),
])
async def test_a_query_past_the_bounds_is_a_plain_400(room: Any, query: str, said: str) -> None:
    _, client = room
    r = await client.get("/archive/search", params={"q": query})
    assert r.status == 400 and said in await r.text()


async def test_a_word_typed_many_times_is_searched_once(room: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    ended_session(bot.archive, 4)
    seen: list[str] = []
    real = search_module.fts_query
    monkeypatch.setattr(search_module, "fts_query", lambda t: seen.append(real(t)) or real(t))
    r = await client.get("/archive/search", params={"q": " ".join(["#WebTest"] * 20)})
    assert r.status == 200 and "4 messages found" in await r.text()
    assert seen == ['"WebTest"']


async def test_index_counts_are_read_off_the_loop_and_kept(room: Any, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    first = ended_session(bot.archive, 3)
    reads: list[str] = []
    real = ArchiveReads.session_stats

    def counted(self: ArchiveReads) -> dict[int, tuple[int, int]]:
        reads.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(ArchiveReads, "session_stats", counted)
    page = await (await client.get("/archive")).text()
    assert f'href="/archive/{first}"' in page and '<td class="n">3</td>' in page
    await client.get("/archive")
    assert len(reads) == 1 and reads[0].startswith("archive-pages")  # kept, read on a worker
    second = ended_session(bot.archive, 2)  # a session has ended since: counted again at once
    page = await (await client.get("/archive")).text()
    assert len(reads) == 2 and f'href="/archive/{second}"' in page
    clock.advance(120)  # stale after a minute
    await client.get("/archive")
    assert len(reads) == 3


def test_past_the_budget_the_newest_matches_are_shown(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(tmp_path / "archive.db")
    ended_session(archive, 4000)  # ranking reads every match: about 60 steps' worth
    reads = ArchiveReads(archive.path)
    ranked = reads.search("canteen", None, budget=10_000)
    assert ranked.ranked and len(ranked.hits) == 50
    newest = reads.search("canteen", None, budget=10)  # the newest 50 take a few steps
    assert not newest.ranked
    assert [h.message_id for h in newest.hits] == [f"s1-{i}" for i in range(3999, 3949, -1)]
    with pytest.raises(SearchTooBroad):
        reads.search("canteen", None, budget=0)
    monkeypatch.setattr(page_reads, "SEARCH_BUDGET", 10)
    assert not reads.search("canteen", None).ranked
    reads.close()
    archive.close()
