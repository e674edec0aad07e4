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

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.importers.sessions as sessions
from bot.archive import Archive
from bot.platforms.x.importer import import_x
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


def _imports(folder: Path, tweets: list[dict[str, Any]], where: list[int], duration: str,
             worker: bool, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Import the first file, the second, then both again: a dump after each."""
    folder.mkdir()
    (folder / "s.yaml").write_text(SCRIPT.replace("duration: 60m", f"duration: {duration}"))
    script = load_script(folder / "s.yaml")
    files = [_file(folder / f"{n}.jsonl", [t for t, w in zip(tweets, where, strict=True)
                                          if w in (n, 2)]) for n in range(2)]
    monkeypatch.setattr(sessions, "ATTRIBUTE_IN_CHILD_FROM", 0 if worker else 1 << 62)
    archive = Archive(folder / "archive.db")
    try:
        dumps = []
        for file in [*files, *files]:
            import_x(archive, file, script)
            dumps.append(dump(archive))
        return dumps
    finally:
        archive.close()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(evening=evenings(), duration=st.sampled_from(["60m", "150m", "240m"]))
def test_any_evenings_store_the_same_beside_a_worker_as_in_turn(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        evening: tuple[list[dict[str, Any]], list[int]], duration: str) -> None:
    tweets, where = evening
    folder = tmp_path_factory.mktemp("evening")
    in_turn = _imports(folder / "in-turn", tweets, where, duration, False, monkeypatch)
    beside = _imports(folder / "worker", tweets, where, duration, True, monkeypatch)
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
    in_turn = _imports(tmp_path / "in-turn", tweets, where, "240m", False, monkeypatch)
    beside = _imports(tmp_path / "worker", tweets, where, "240m", True, monkeypatch)
    assert beside == in_turn
    rows = {m["id"]: m for m in beside[1]["messages"]}
    assert (rows["50000"]["session_id"], rows["50001"]["session_id"]) == (1, 1)
    assert rows["50000"]["question"] == 1


def test_a_worker_is_used_only_where_it_pays(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Over two sessions and ATTRIBUTE_IN_CHILD_FROM held rows: not one session, not fewer."""
    used: list[int] = []
    real = sessions._beside_a_worker

    def spy(*args: Any, **kwargs: Any) -> Any:
        used.append(len(args[3]))  # the groups of host posts
        return real(*args, **kwargs)

    monkeypatch.setattr(sessions, "_beside_a_worker", spy)
    monkeypatch.setattr(sessions, "ATTRIBUTE_IN_CHILD_FROM", 3)
    (tmp_path / "s.yaml").write_text(SCRIPT)
    script = load_script(tmp_path / "s.yaml")
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
