"""Rows held until their session is known store exactly what writing them as read stores.

An import holds new message rows back and writes each once, attributed, when its session
is rebuilt (bot/importers/held_rows.py); past `HOLD_ROWS` it writes them as it reads them
and the sessions update them, as imports always did. Both paths, and a switch from one to
the other mid-file, must leave the same archive: compared with the equivalence test's
dump (every table, the full-text index), on the golden fixtures plus what they lack:
a tweet repeated by overlapping searches with a new like count, chatter outside any
session, a second evening, and importing the same file again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.importers.common as common
import bot.importers.reading as reading
import bot.importers.sessions as sessions
from bot.archive import Archive
from bot.importers.held_rows import HeldRows
from bot.platforms.discord.importer import import_discord
from bot.platforms.x.importer import import_x
from bot.script import load_script
from tests.importers.equivalence_fixtures import (
    HOST,
    SCRIPT,
    TWARC,
    USERS,
    _tweet,
    dump,
    import_twice,
    write_discord,
    x_lines,
    x_tweets,
)

WEEK = 7 * 24 * 60  # minutes


def _page(tweets: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"data": tweets, "includes": {"users": USERS},
                         "meta": {"result_count": len(tweets)}, "__twarc": TWARC})


def richer_x_lines() -> list[bytes]:
    """The golden fixture's lines plus repeats, chatter outside sessions, a second evening."""
    by_id = {t["id"]: t for t in x_tweets()}
    repeat = [dict(by_id["2100"], public_metrics={"like_count": 9}), by_id["3300"]]
    u1, u2 = USERS[1], USERS[2]
    next_week = [
        _tweet(11_000, HOST, "Welcome to #NHSSM tonight", WEEK),
        _tweet(12_000, HOST, "Q1 How do you switch off after a shift? #NHSSM", WEEK + 5),
        _tweet(12_100, u1, "A1 gardening", WEEK + 6),
        _tweet(12_200, u2, "same", WEEK + 7,
               referenced_tweets=[{"type": "replied_to", "id": "12100"}]),
        _tweet(13_000, HOST, "Q2 Who do you talk to? #NHSSM", WEEK + 20),
        _tweet(13_100, u2, "my dog", WEEK + 21),
    ]
    outside = [_tweet(20_000 + i, u1, f"a quiet Sunday {i}", 4 * 24 * 60 + i)
               for i in range(3)]
    return [*x_lines(), _page(repeat), _page(next_week[3:]), _page(outside),
            _page(next_week[:3])]


@pytest.fixture
def imports(tmp_path: Path) -> dict[str, Any]:
    """Each platform's import of the richer files, as a function of an archive."""
    (tmp_path / "equiv.yaml").write_text(SCRIPT)
    script = load_script(tmp_path / "equiv.yaml")
    (tmp_path / "x.jsonl").write_bytes(b"\n".join(richer_x_lines()) + b"\n")
    discord_files = write_discord(tmp_path)
    return {"x": lambda a: import_x(a, tmp_path / "x.jsonl", script),
            "discord": lambda a: import_discord(a, discord_files, script)}


def _run(imports: dict[str, Any], db_dir: Path, monkeypatch: pytest.MonkeyPatch, batch: int,
         hold: int, *, worker: bool = False) -> dict[str, Any]:
    """Both importers into fresh archives, each file twice: dumps and reports.

    With `worker`, sessions of held rows are attributed in a forked worker (any number).
    """
    monkeypatch.setattr(sessions, "BATCH", batch)
    monkeypatch.setattr(reading, "BATCH", batch)
    monkeypatch.setattr(common, "HOLD_ROWS", hold)
    monkeypatch.setattr(sessions, "ATTRIBUTE_IN_CHILD_FROM", 0 if worker else 1 << 62)
    db_dir.mkdir()
    out: dict[str, Any] = {}
    for platform, run in imports.items():
        archive = Archive(db_dir / f"{platform}.db")
        try:
            reports, dumps = import_twice(archive, run)
        finally:
            archive.close()
        out[platform] = {"dumps": dumps, "reports": [
            (r.messages, r.changed, r.sessions, r.host_posts) for r in reports]}
    return out


def test_held_rows_store_what_rows_written_as_read_store(
        imports: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    held = _run(imports, tmp_path / "held", monkeypatch, batch=5000, hold=100_000)
    as_read = _run(imports, tmp_path / "as-read", monkeypatch, batch=2, hold=0)
    switched = _run(imports, tmp_path / "switched", monkeypatch, batch=3, hold=7)
    beside = _run(imports, tmp_path / "worker", monkeypatch, batch=3, hold=100_000,
                  worker=True)
    for platform in ("x", "discord"):
        assert held[platform] == as_read[platform] == switched[platform], platform
        assert beside[platform] == held[platform], platform
    x = held["x"]
    assert x["dumps"][0] == x["dumps"][1]
    messages = {m["id"]: m for m in x["dumps"][0]["messages"]}
    assert x["reports"][0][2] == [1, 2]
    # Again: only the repeated tweet changes, its like count going 4 then 9 once more.
    assert x["reports"][1][1] == 2 and held["discord"]["reports"][1][1] == 0
    assert messages["2100"]["reactions"] == 9  # the repeat's newer like count
    assert {messages[f"2000{i}"]["session_id"] for i in range(3)} == {None}
    assert (messages["12200"]["session_id"], messages["12200"]["question"]) == (2, 1)
    assert messages["13100"]["question"] == 2


@pytest.mark.parametrize(("dies_in", "worker"), [("attribute", False), ("insert_rows", False),
                                                 ("insert_rows", True)])
def test_an_import_killed_in_its_sessions_then_run_again_leaves_what_one_clean_run_leaves(
        imports: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        dies_in: str, worker: bool) -> None:
    """Payloads are written before the held rows: a crash in between loses nothing.

    (A worker that dies does not stop the import: see test_sessions_beside_worker.)
    """
    clean = _run(imports, tmp_path / "clean", monkeypatch, batch=5000, hold=100_000,
                 worker=worker)
    real = getattr(sessions, dies_in)
    calls = 0

    def dies_on_the_second_session(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # as a kill: committed work stays, the rest is lost
        return real(*args, **kwargs)

    (tmp_path / "killed").mkdir()
    archive = Archive(tmp_path / "killed" / "x.db")
    try:
        monkeypatch.setattr(sessions, dies_in, dies_on_the_second_session)
        with pytest.raises(KeyboardInterrupt):
            imports["x"](archive)
        assert calls == 2
        assert dump(archive) != clean["x"]["dumps"][0]  # stopped part way
        monkeypatch.setattr(sessions, dies_in, real)
        imports["x"](archive)
        assert dump(archive) == clean["x"]["dumps"][0]
    finally:
        archive.close()


created = st.integers(0, 50).map(lambda m: (f"2025-11-05T20:{m:02d}:00+00:00"))


@given(rows=st.lists(st.tuples(st.sampled_from(["x", "discord"]), created), max_size=40),
       windows=st.lists(st.tuples(created, created), max_size=5))
def test_each_held_row_is_taken_once_by_the_first_window_holding_it(
        rows: list[tuple[str, str]], windows: list[tuple[str, str]]) -> None:
    # Batch rows carry `created` at index 9; the row number tells repeats apart.
    batch_rows = [(platform, str(n), *[None] * 7, at) for n, (platform, at) in enumerate(rows)]
    held = HeldRows(batch_rows)
    left = list(batch_rows)
    for start, end in windows:
        taken = held.take(["x"], start, end)
        expected = sorted((r for r in left if r[0] == "x" and start <= r[9] <= end),
                          key=lambda r: r[9])  # stable: rows read first come first
        assert taken == expected
        left = [r for r in left if r not in taken]
    assert sorted(held.rest(), key=lambda r: int(r[1])) == left
