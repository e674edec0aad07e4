"""Sessions attributed by a forked worker store what sessions rebuilt in turn store.

Beside a worker every session is prepared (created, its window read from the archive)
before any is written (bot/importers/sessions.py). Where that could differ from one
session after another: windows that overlap (a long chat, host posts 3 h apart), rows the
archive already had unassigned in them (an earlier file of chatter only), a host post the
archive already had as chatter, repeats, replies across sessions, a second import of the
same files. Hypothesis builds such evenings; both ways must leave the same archive, dumped
after every import (every table and the full-text index).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.forking as forking
import bot.importers.common as common
import bot.importers.sessions as sessions
from bot.archive import Archive
from bot.importers.common import host_names_for, import_stream
from bot.moderation import forget
from bot.platforms.x.importer import import_x, parse_file
from bot.script import load_script
from tests.importers.equivalence_fixtures import HOST, SCRIPT, TWARC, USERS, _tweet, dump

HOST_TEXTS = ["Welcome to #NHSSM", "Q1 How do you switch off? #NHSSM", "Q2 Who helps? #NHSSM",
              "Q3 What would you change? #NHSSM", "Thanks all #NHSSM"]
CHATTER = ["A1 gardening", "A2 my dog", "A3 rotas", "a1/a2 both", "same here", "hello",
           "A4 not asked", "Q2 mine too"]


@st.composite
def evenings(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    """(tweets, in which of two files each goes: 0, 1 or 2 for both)."""
    tweets: list[dict[str, Any]] = []
    # Host posts in a few clusters; clusters 4 h apart make separate sessions whose
    # windows (15 min before, 2 h after the chat's end) overlap when the chat is long.
    clusters = draw(st.integers(2, 4))
    for cluster in range(clusters):
        base = cluster * 240 + draw(st.sampled_from([0, 20]))
        for k in range(draw(st.integers(1, 4))):
            tid = 1000 * (cluster + 1) + k
            tweets.append(_tweet(tid, HOST, HOST_TEXTS[k], base + 5 * k))
    ids = [int(t["id"]) for t in tweets]
    starts = [cluster * 240 for cluster in range(clusters)]
    for n in range(draw(st.integers(0, 30))):
        tid = 50_000 + n
        extra: dict[str, Any] = {"likes": draw(st.integers(0, 3))}
        if ids and draw(st.booleans()):
            parent = draw(st.sampled_from(ids))
            extra["referenced_tweets"] = [{"type": "replied_to", "id": str(parent)}]
        # Near a host post: from before the chat into the next session's window.
        minute = draw(st.sampled_from(starts)) + draw(st.integers(-30, 380))
        tweets.append(_tweet(tid, draw(st.sampled_from(USERS[1:])), draw(st.sampled_from(CHATTER)),
                             minute, **extra))
        ids.append(tid)
    # Host posts mostly in the second file, chatter mostly in the first: the second import's
    # sessions then find the first's chatter unassigned in their windows.
    host_files, chatter_files = [1, 1, 1, 1, 2, 0], [0, 0, 1, 2]
    where = [draw(st.sampled_from(host_files if t["author_id"] == HOST["id"] else chatter_files))
             for t in tweets]
    return tweets, where


def _file(path: Path, tweets: list[dict[str, Any]]) -> Path:
    page = {"data": tweets, "includes": {"users": USERS}, "meta": {"result_count": len(tweets)},
            "__twarc": TWARC}
    path.write_bytes(orjson.dumps(page) + b"\n")
    return path


def _imports(folder: Path, files: list[list[dict[str, Any]]], worker: bool,
             monkeypatch: pytest.MonkeyPatch, *, scripts: list[str] | None = None,
             ahead: tuple[int, int] = (sessions.PREPARE_AHEAD_ROWS,
                                       sessions.PREPARE_AHEAD_SESSIONS),
             before: Any = None) -> list[dict[str, Any]]:
    """Import each file in turn (with its script, else SCRIPT): a dump after each.

    `before(archive_path, n)` runs before the n-th import's sessions are rebuilt.
    """
    folder.mkdir()
    monkeypatch.setattr(sessions, "ATTRIBUTE_IN_CHILD_FROM", 0 if worker else 1 << 62)
    monkeypatch.setattr(sessions, "PREPARE_AHEAD_ROWS", ahead[0])
    monkeypatch.setattr(sessions, "PREPARE_AHEAD_SESSIONS", ahead[1])
    archive = Archive(folder / "archive.db")
    try:
        dumps = []
        for n, tweets in enumerate(files):
            (folder / f"{n}.yaml").write_text(scripts[n] if scripts else SCRIPT)
            script = load_script(folder / f"{n}.yaml")
            if before is not None:
                _before_rebuild(monkeypatch, lambda n=n: before(folder / "archive.db", n))
            import_x(archive, _file(folder / f"{n}.jsonl", tweets), script)
            dumps.append(dump(archive))
        return dumps
    finally:
        archive.close()


def _before_rebuild(monkeypatch: pytest.MonkeyPatch, act: Any) -> None:
    """Run `act()` once the file is read, just before the sessions are rebuilt."""
    real = sessions.rebuild_sessions

    def acting(*args: Any, **kwargs: Any) -> Any:
        act()
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "rebuild_sessions", acting)


def _evening_files(tweets: list[dict[str, Any]], where: list[int], duration: str
                   ) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """The first file, the second, then both again; each with the chat of `duration`."""
    files = [[t for t, w in zip(tweets, where, strict=True) if w in (n, 2)] for n in range(2)]
    script = SCRIPT.replace("duration: 60m", f"duration: {duration}")
    return [*files, *files], [script] * 4


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(evening=evenings(), duration=st.sampled_from(["60m", "150m", "240m"]),
       ahead=st.sampled_from([(1, 50), (3, 50), (20_000, 2), (20_000, 50)]))
def test_any_evenings_store_the_same_beside_a_worker_as_in_turn(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        evening: tuple[list[dict[str, Any]], list[int]], duration: str,
        ahead: tuple[int, int]) -> None:
    """`ahead` bounds the rows and sessions prepared ahead: (1, _) is one session a round."""
    folder = tmp_path_factory.mktemp("evening")
    files, scripts = _evening_files(*evening, duration)
    in_turn = _imports(folder / "in-turn", files, False, monkeypatch, scripts=scripts)
    beside = _imports(folder / "worker", files, True, monkeypatch, scripts=scripts, ahead=ahead)
    assert beside == in_turn


def test_a_window_overlapping_the_one_before_leaves_its_rows_to_the_earlier_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows the archive has unassigned, in two overlapping windows, go to the first session.

    A 4-hour chat: the first session's window runs to 6 h after its start, the second's
    opens 3.5 h after it. Chatter at 4 h, imported first (no host posts: no session), is in
    both windows; beside a worker the second session is prepared before the first is
    written, so it must leave that chatter to the first, as writing in turn does.
    """
    u1 = USERS[1]
    first = [_tweet(1000, HOST, HOST_TEXTS[0], 0), _tweet(1001, HOST, HOST_TEXTS[1], 5)]
    second = [_tweet(2000, HOST, HOST_TEXTS[0], 210), _tweet(2001, HOST, HOST_TEXTS[1], 215)]
    chatter = [_tweet(50_000, u1, "A1 at four hours", 240), _tweet(50_001, u1, "hello", 250),
               _tweet(50_002, u1, "A1 walking", 8)]
    tweets = first + second + chatter
    # The chatter at 4 h in the first file; the host's posts and more chatter (held rows,
    # or there would be no worker) in the second.
    where = [1] * 4 + [0, 0, 1]
    files, scripts = _evening_files(tweets, where, "240m")
    in_turn = _imports(tmp_path / "in-turn", files, False, monkeypatch, scripts=scripts)
    beside = _imports(tmp_path / "worker", files, True, monkeypatch, scripts=scripts)
    assert beside == in_turn
    rows = {m["id"]: m for m in beside[1]["messages"]}
    assert (rows["50000"]["session_id"], rows["50001"]["session_id"]) == (1, 1)
    assert rows["50000"]["question"] == 1


def _spy_worker(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of sessions each time the worker's way is taken."""
    used: list[int] = []
    real = sessions._beside_a_worker

    def spy(*args: Any, **kwargs: Any) -> Any:
        used.append(len(args[3]))  # the plans: one per group of host posts
        return real(*args, **kwargs)

    monkeypatch.setattr(sessions, "_beside_a_worker", spy)
    return used


def _gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int
          ) -> tuple[list[int], Any]:
    """(the worker's uses, SCRIPT loaded), with ATTRIBUTE_IN_CHILD_FROM at `threshold`."""
    monkeypatch.setattr(sessions, "ATTRIBUTE_IN_CHILD_FROM", threshold)
    (tmp_path / "s.yaml").write_text(SCRIPT)
    return _spy_worker(monkeypatch), load_script(tmp_path / "s.yaml")


WEEK = 7 * 24 * 60
HOST_A = [_tweet(1000, HOST, HOST_TEXTS[0], 0), _tweet(1001, HOST, HOST_TEXTS[1], 5)]
HOST_B = [_tweet(2000, HOST, HOST_TEXTS[0], WEEK), _tweet(2001, HOST, HOST_TEXTS[1], WEEK + 5)]


def test_a_removal_between_prepare_and_write_touches_no_other_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`forget --remove` by another process while the worker attributes.

    Sessions prepared ahead hold rowids read in the prepare transaction. Removing the
    archive's newest row frees its rowid for the next new row: here a message the live bot
    collects meanwhile, outside every session, or else one of the first session's held rows.
    The second session's write must give neither its session.
    """
    u1, u3 = USERS[1], USERS[3]
    files = [HOST_A + HOST_B, [_tweet(60_000, u3, "A1 u3 next week", WEEK + 8)],
             HOST_A + HOST_B + [_tweet(50_000 + n, u1, f"A1 u1 {n}", 6 + n) for n in range(3)]]
    real = sessions.stream_from_child

    def remove_and_collect(path: Path) -> None:
        other = Archive(path)
        try:
            forget(other, "x", u3["id"], actor="moderator", now=datetime.now(UTC), mode="remove")
            other.db.conn.execute(  # a month later: in no window
                "insert into messages (platform, id, chat_id, text, created) values "
                "('x', '70000', 'equiv', 'collected live', '2025-12-05T20:00:00+00:00')")
            other.db.conn.commit()
        finally:
            other.close()

    def remove_then_stream(produce: Any) -> Any:
        remove_and_collect(tmp_path / "worker" / "archive.db")
        return real(produce)

    used = _spy_worker(monkeypatch)
    monkeypatch.setattr(sessions, "stream_from_child", remove_then_stream)
    beside = _imports(tmp_path / "worker", files, True, monkeypatch)
    monkeypatch.setattr(sessions, "stream_from_child", real)

    def remove(path: Path, n: int) -> None:  # in turn: the same, as near as it gets
        if n == 2:
            remove_and_collect(path)

    in_turn = _imports(tmp_path / "in-turn", files, False, monkeypatch, before=remove)
    assert used == [2]
    rows = {m["id"]: m for m in beside[-1]["messages"]}
    assert {rows[f"5000{n}"]["session_id"] for n in range(3)} == {1}
    assert "60000" not in rows and rows["70000"]["session_id"] is None
    assert beside[-1]["messages"] == in_turn[-1]["messages"]


@pytest.mark.parametrize("worker", [False, True], ids=["in-turn", "beside-a-worker"])
def test_a_host_post_archived_as_chatter_becomes_its_own_sessions_and_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool) -> None:
    """Imported first with a script that did not know the host, then twice with the right one.

    A 150-minute chat whose second evening's welcome lies in the first's window. The
    first session must not claim it (it used to: filed as a "window" answer to the first
    evening's Q1, and the next import then changed it again); it is the second session's
    host post, its Q1 its Q1, and importing the same file again changes nothing. Preparing
    ahead records it before the first session is written: the same archive.
    """
    good = SCRIPT.replace("duration: 60m", "duration: 150m")
    wrong = good.replace("host: NHS Employers", "host: Someone Else").replace(
        "host_account: nhs_host", "host_account: someone_else")
    u1, u2 = USERS[1], USERS[2]
    tweets = [_tweet(1000, HOST, HOST_TEXTS[0], 0), _tweet(1001, HOST, HOST_TEXTS[1], 5),
              _tweet(2000, HOST, HOST_TEXTS[0], 210), _tweet(2001, HOST, HOST_TEXTS[1], 215),
              _tweet(50_000, u1, "A1 a walk", 7), _tweet(50_001, u2, "A1 reading", 217)]
    more = [_tweet(60_000, u1, "A1 music", 8), _tweet(60_001, u2, "A1 sleep", 218)]
    files, scripts = [tweets, tweets + more, tweets + more], [wrong, good, good]
    used = _spy_worker(monkeypatch)
    dumps = _imports(tmp_path / "imports", files, worker, monkeypatch, scripts=scripts)
    assert used == ([2, 2] if worker else [])
    assert dumps[2] == dumps[1]  # the same file again: nothing changes
    rows = {m["id"]: m for m in dumps[1]["messages"]}
    assert [(rows[i]["session_id"], rows[i]["is_host"], rows[i]["section"])
            for i in ("2000", "2001")] == [(2, 1, "host"), (2, 1, "host")]
    if worker:
        in_turn = _imports(tmp_path / "in-turn", files, False, monkeypatch, scripts=scripts)
        assert dumps == in_turn


def test_two_groups_of_one_session_go_in_turn(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Two groups over 3 h apart that the schedule maps to one session.

    An evening off the schedule: the first group starts at its welcome, the second at its
    Q3 less Q3's offset (3 h 21 min), the same instant. In turn the second reads the first's
    rows once written and attributes them again with Q3 known; so such an import goes in turn.
    """
    script = SCRIPT.replace('day: wednesday, start: "20:00"', 'day: monday, start: "09:00"'
                            ).replace("duration: 60m", "duration: 240m").replace(
        'number: 3, at: 35m', 'number: 3, at: 201m').replace("at: 55m", "at: 230m")
    u1, u2 = USERS[1], USERS[2]
    tweets = [_tweet(1000, HOST, HOST_TEXTS[0], 0), _tweet(1001, HOST, HOST_TEXTS[1], 5),
              _tweet(1002, HOST, HOST_TEXTS[2], 20), _tweet(2000, HOST, HOST_TEXTS[3], 201),
              _tweet(50_000, u1, "A1 a walk", 7), _tweet(50_001, u2, "my mentor", 22),
              _tweet(50_002, u1, "rotas, honestly", 205), _tweet(50_003, u2, "A3 fewer", 206)]
    used = _spy_worker(monkeypatch)
    beside = _imports(tmp_path / "worker", [tweets, tweets], True, monkeypatch,
                      scripts=[script] * 2)
    in_turn = _imports(tmp_path / "in-turn", [tweets, tweets], False, monkeypatch,
                       scripts=[script] * 2)
    assert used == [] and beside == in_turn
    rows = {m["id"]: m for m in beside[0]["messages"]}
    assert rows["50002"]["question"] == 3


@pytest.mark.parametrize(("failure", "said", "left"), [
    ("killed", "killed by signal 9", 2),  # SIGKILL, as the OOM killer would
    ("out-of-memory", "MemoryError", 2),  # memory capped (RLIMIT_AS): the worker's own error
    ("fork-refused", "Cannot allocate memory", 3),  # the fork itself refused
])
def test_a_worker_that_fails_leaves_the_rest_to_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        failure: str, said: str, left: int) -> None:
    """On its second session (or at its fork): the import completes, nothing is lost."""
    parent = os.getpid()
    real = sessions.attribute_session
    count = [0]

    def fails_on_the_second(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        if os.getpid() != parent and count[0] == 2:
            if failure == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise MemoryError
        return real(*args, **kwargs)

    def refused() -> int:
        raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))

    u1 = USERS[1]
    weeks = [[_tweet(1000 * (w + 1), HOST, HOST_TEXTS[0], w * WEEK),
              _tweet(1000 * (w + 1) + 1, HOST, HOST_TEXTS[1], w * WEEK + 5),
              _tweet(50_000 + w, u1, f"A1 week {w}", w * WEEK + 6)] for w in range(3)]
    tweets = [t for week in weeks for t in week]
    in_turn = _imports(tmp_path / "in-turn", [tweets], False, monkeypatch)
    monkeypatch.setattr(sessions, "attribute_session", fails_on_the_second)
    if failure == "fork-refused":
        monkeypatch.setattr(forking.os, "fork", refused)
    with caplog.at_level(logging.WARNING, logger="bot.importers.sessions"):
        beside = _imports(tmp_path / "worker", [tweets], True, monkeypatch)
    assert beside == in_turn
    assert "the attribution worker stopped" in caplog.text and said in caplog.text
    assert f"remaining {left} sessions" in caplog.text


def test_no_worker_where_forking_is_not_allowed(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`fork=False` (a caller's choice) and `can_fork()` False (the live bot's threads)."""
    used, script = _gate(tmp_path, monkeypatch, 0)
    path = _file(tmp_path / "x.jsonl", HOST_A + HOST_B + [_tweet(50_000, USERS[1], "A1", 6)])
    for n, (fork, can) in enumerate([(False, True), (None, False), (None, True)]):
        monkeypatch.setattr(sessions, "can_fork", lambda can=can: can)
        archive = Archive(tmp_path / f"{n}.db")
        try:
            import_stream(archive, script, lambda advance: parse_file(path, advance),
                          platform="x", host_names=host_names_for(script, "x"), fork=fork)
        finally:
            archive.close()
    assert used == [2]  # only where both allow it


def test_a_worker_is_used_only_where_it_pays(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Over two sessions and ATTRIBUTE_IN_CHILD_FROM held rows: not one session, not fewer."""
    used, script = _gate(tmp_path, monkeypatch, 3)
    u1 = USERS[1]
    one = [_tweet(1000, HOST, HOST_TEXTS[0], 0)]
    two = [*one, _tweet(2000, HOST, HOST_TEXTS[0], 300)]
    few = [_tweet(50_000 + n, u1, "A1 yes", 10 + n) for n in range(2)]
    more = [*few, _tweet(50_009, u1, "A1 again", 12)]
    for name, tweets in [("one-session", one + more), ("few-rows", two + few),
                         ("both", two + more)]:
        archive = Archive(tmp_path / f"{name}.db")
        try:
            import_x(archive, _file(tmp_path / f"{name}.jsonl", tweets), script)
        finally:
            archive.close()
    assert used == [2]  # only the file with two sessions and three held rows
