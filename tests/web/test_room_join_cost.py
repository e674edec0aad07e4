"""Finding 6 of issue 12: joining a room costs what the newcomer sees, not the whole session.

A join used to rebuild every message of the session on the event loop (5,000 messages,
200 joins: the bot stalled 21 s). These tests count the SQLite work a join does (VM steps,
through SQLite's progress handler, and the statements run, through its trace callback) on
the event loop's connection and on the room's read connection, with no clock involved:
the work of a join must not grow with the session, a warm join reads no message at all,
and the page that is read is read in a worker thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from bot.platforms.web.room import new_id
from bot.platforms.web.room_view import RECENT
from bot.records import Action, Author, Event, Message
from bot.webapp.routes import SERVICE_KEY
from tests.web.conftest import frames_until, join


def add_messages(bot, sid: int, count: int, start: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    """`count` participant messages stored straight into the live session (no broadcast)."""
    base = bot.clock.now()
    events, ids = [], []
    for n in range(start, start + count):
        message = Message("web", new_id(), Author("web", f"p{n % 40:02d}-" + "k" * 20,
                          f"Person {n % 40}"), f"A1 answer number {n}",
                          base + timedelta(milliseconds=n))
        events.append(Event("created", "web", message.id, message.created, message))
        ids.append(message.id)
    bot.archive.record_events(events, session_id=sid, chat_id="webtest")
    return ids


class Work:
    """SQLite work done on some connections: VM steps and the statements that ran."""

    def __init__(self) -> None:
        self.steps = 0
        self.statements: list[str] = []
        self.threads: set[str] = set()

    @contextmanager
    def watching(self, *connections: sqlite3.Connection) -> Iterator[Work]:
        def step() -> int:
            self.steps += 1
            return 0

        def trace(sql: str) -> None:
            self.statements.append(sql)
            self.threads.add(threading.current_thread().name)

        for conn in connections:
            conn.set_progress_handler(step, 100)
            conn.set_trace_callback(trace)
        try:
            yield self
        finally:
            for conn in connections:
                conn.set_progress_handler(None, 0)
                conn.set_trace_callback(None)

    def message_reads(self) -> list[str]:
        return [s for s in self.statements if "from messages" in s.lower()]


async def cold_join(bot, client, name: str) -> tuple[dict, Work]:  # type: ignore[no-untyped-def]
    """Join with the room's view dropped (as after a reload), counting the work it does."""
    service = client.server.app[SERVICE_KEY]
    service.views.get("webtest").forget()
    work = Work()
    with work.watching(bot.archive.db.conn, service._reader()._conn):
        ws, state = await join(client, name)
    await ws.close()
    return state, work


async def test_a_join_reads_one_page_however_long_the_session(live) -> None:
    bot, client, sid = live
    add_messages(bot, sid, 300)
    small, small_work = await cold_join(bot, client, "Ann")
    ids = add_messages(bot, sid, 4700, start=300)
    big, big_work = await cold_join(bot, client, "Bo")
    # The newcomer gets the newest page and is told that older messages exist.
    assert [m["id"] for m in big["messages"]] == ids[-RECENT:]
    assert big["more"] is True and len(small["messages"]) == RECENT
    # 16 times the messages, the same work: a page, found through the index.
    assert big_work.steps <= small_work.steps * 1.2 + 20, (small_work.steps, big_work.steps)
    assert all("limit" in s.lower() for s in big_work.message_reads()), big_work.statements


async def test_the_page_is_read_off_the_event_loop_and_a_warm_join_reads_none(live) -> None:
    bot, client, sid = live
    add_messages(bot, sid, 500)
    service = client.server.app[SERVICE_KEY]
    service.views.get("webtest").forget()
    loop_work, reader_work = Work(), Work()
    with loop_work.watching(bot.archive.db.conn), \
            reader_work.watching(service._reader()._conn):
        ann, first = await join(client, "Ann")
    assert loop_work.message_reads() == []  # the event loop's connection reads no message
    assert reader_work.message_reads() and threading.main_thread().name not in \
        reader_work.threads  # the page was read in a worker thread
    # Every later join is served from the view, kept current by the broadcasts.
    await ann.send_json({"type": "send", "text": "A1 fresh news", "nonce": "1"})
    mine = (await frames_until(ann, "ack"))[-1]["id"]
    warm = Work()
    with warm.watching(bot.archive.db.conn, service._reader()._conn):
        bo, second = await join(client, "Bo")
    assert warm.message_reads() == []
    assert second["messages"][-1]["id"] == mine and second["messages"][-1]["text"] == \
        "A1 fresh news"
    assert second["messages"][:-1] == first["messages"][1:]  # the window moved by one
    assert service.views.get("webtest").loads == 1  # never rebuilt per join
    # A moderator's hide reaches the view the same way it reaches the open rooms.
    bot.archive.set_moderation_state("web", mine, hidden=True)
    await bot.chats["webtest"].platforms["web"].act(Action("hide", message_id=mine))
    await frames_until(bo, "hidden")
    cy, third = await join(client, "Cy")
    assert mine not in [m["id"] for m in third["messages"]]
    for ws in (ann, bo, cy):
        await ws.close()


async def test_a_change_made_by_another_process_is_seen_by_the_next_join(live, tmp_path
                                                                        ) -> None:
    bot, client, sid = live
    ids = add_messages(bot, sid, 50)
    ann, first = await join(client, "Ann")
    assert ids[-1] in [m["id"] for m in first["messages"]]
    # `tweetchat forget` or a moderation command, run from another process, writes directly.
    other = sqlite3.connect(tmp_path / "archive.db")
    with other:
        other.execute("update messages set text = 'erased', author_name = 'Former "
                      "participant' where platform = 'web' and id = ?", [ids[-1]])
    other.close()
    bo, second = await join(client, "Bo")
    last = next(m for m in second["messages"] if m["id"] == ids[-1])
    assert last["text"] == "erased" and last["author"] == "Former participant"
    assert second["view"] != first["view"]  # reconnecting clients start afresh
    for ws in (ann, bo):
        await ws.close()


async def test_older_pages_on_request(live) -> None:
    bot, client, sid = live
    ids = add_messages(bot, sid, RECENT * 2 + 10)
    ann, state = await join(client, "Ann")
    assert state["more"] is True
    await ann.send_json({"type": "older", "before": state["messages"][0]["id"], "nonce": "o1"})
    page = (await frames_until(ann, "older"))[-1]
    assert page["nonce"] == "o1" and page["more"] is True
    assert [m["id"] for m in page["messages"]] == ids[-2 * RECENT:-RECENT]
    await ann.send_json({"type": "older", "before": page["messages"][0]["id"]})
    last = (await frames_until(ann, "older"))[-1]
    assert last["more"] is False and [m["id"] for m in last["messages"]][-10:] == ids[:10]
    # The host's posts are in the oldest page, with their question numbers.
    assert any(m["host"] and m["question"] == 1 for m in last["messages"])
    for bad in (None, 5, "", "x" * 65, ["a"]):
        await ann.send_json({"type": "older", "before": bad, "nonce": "bad"})
        assert (await frames_until(ann, "error"))[-1]["code"] == "no_older"
    await ann.send_json({"type": "older", "before": "no-such-id", "nonce": "n"})
    assert (await frames_until(ann, "older"))[-1]["messages"] == []
    await ann.close()


async def test_a_crowd_is_let_in_a_few_at_a_time(live) -> None:
    """200 joins arriving in one pass of the loop do not keep everything else waiting."""
    import asyncio

    from bot.platforms.web.service import JOINS_PER_TURN

    _, client, _ = live
    service = client.server.app[SERVICE_KEY]
    inside, most, joined = 0, 0, 0

    async def one_join() -> None:
        nonlocal inside, most, joined
        async with service.join_turn():
            inside += 1
            most = max(most, inside)
            inside -= 1  # the join's own work has no await: as in ws.py
            joined += 1

    crowd = [asyncio.ensure_future(one_join()) for _ in range(200)]
    seen_by_probe: list[int] = []

    async def probe() -> None:  # another request, arriving just after the crowd
        seen_by_probe.append(joined)

    await asyncio.gather(probe(), *crowd)
    assert joined == 200 and most <= JOINS_PER_TURN
    assert seen_by_probe[0] <= JOINS_PER_TURN  # it was answered before the crowd got in
