"""A transcript read back from the archive is written in forked lanes, each on its own connection.

SQLite forbids using a connection in a process other than the one that opened it, and a
forked child inherits its parent's lock bookkeeping for every database file the parent has
open. So the parent closes its connection before forking; every lane, the parent's
included, opens its own; the files are those written in turn, and the archive still works
afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.publishing import publish_session
from bot.transcript import side_by_side as lanes_module
from bot.transcript.side_by_side import Piece, run_side_by_side
from bot.transcript.sources import ArchiveSource
from tests.transcript.test_streamed import busy_archive


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir())}


def test_streamed_lanes_read_through_their_own_connections(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    archive, sid = busy_archive(tmp_path, 5, n=1300)  # more than one batch of 1,000
    original = archive.db.conn  # held, so no later connection can reuse its identity
    calls = tmp_path / "fetches.txt"
    real_fetch = ArchiveSource.fetch

    def recording_fetch(self: ArchiveSource, refs: object) -> object:
        with calls.open("a") as f:  # O_APPEND: lines from several processes stay whole
            f.write(f"{os.getpid()} {self.conn is original}\n")
        return real_fetch(self, refs)  # type: ignore[arg-type]

    real_release = ArchiveSource.release

    def recording_release(self: ArchiveSource) -> bool:
        with calls.open("a") as f:
            f.write("release\n")
        return real_release(self)

    monkeypatch.setattr(ArchiveSource, "fetch", recording_fetch)
    monkeypatch.setattr(ArchiveSource, "release", recording_release)
    try:
        monkeypatch.setattr(lanes_module, "can_fork", lambda: False)
        publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / "in-turn",
                        in_memory_limit=0)
        calls.unlink()
        monkeypatch.setattr(lanes_module, "can_fork", lambda: True)
        with caplog.at_level(logging.WARNING):
            publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / "lanes",
                            in_memory_limit=0)
        assert digests(tmp_path / "lanes") == digests(tmp_path / "in-turn")
        assert len(digests(tmp_path / "lanes")) == 5
        # No lane failed (a failed lane is written again here, which would hide it).
        assert not [r for r in caplog.records if "failed" in r.getMessage()]
        # Building the transcript read some messages here, through the parent's connection;
        # once it was released (before the fork) every lane read through its own.
        lines = calls.read_text().splitlines()
        assert lines.count("release") == 1
        readers = [line.split() for line in lines[lines.index("release") + 1:]]
        assert {pid for pid, _ in readers} - {str(os.getpid())}  # a child read messages
        assert str(os.getpid()) in {pid for pid, _ in readers}  # and so did this process
        assert {used for _, used in readers} == {"False"}  # none through the parent's
        with pytest.raises(sqlite3.ProgrammingError):  # closed before anything forked
            original.execute("select 1")
        assert archive.message_count(sid) > 1300  # this process reads again afterwards
    finally:
        archive.close()


class _Connection:
    """A stand-in for the archive source: records what run_side_by_side asks of it."""

    def __init__(self, releasable: bool) -> None:
        self.releasable = releasable
        self.calls: list[str] = []

    def release(self) -> bool:
        self.calls.append("release")
        return self.releasable

    def reconnect(self) -> None:
        self.calls.append(f"reconnect in {os.getpid()}")


def test_a_connection_that_may_not_be_released_means_writing_in_turn(tmp_path: Path) -> None:
    """A transaction still open (it would be lost by closing): no lane forks, nothing reconnects."""
    connection = _Connection(releasable=False)
    pids: list[int] = []
    pieces = [Piece(str(i), 1.0, lambda: pids.append(os.getpid())) for i in range(3)]
    run_side_by_side(pieces, fork=True, reconnects=connection)
    assert pids == [os.getpid()] * 3
    assert connection.calls == ["release"]


def test_the_archive_source_keeps_an_open_transaction(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.db")
    try:
        source = ArchiveSource(archive, 1, set())
        archive.db.conn.execute("create temp table pending (x)")
        archive.db.conn.execute("insert into temp.pending values (1)")
        assert archive.db.conn.in_transaction
        assert source.release() is False
        assert archive.db.conn.execute("select x from temp.pending").fetchall() == [(1,)]
        archive.db.conn.commit()
        assert source.release() is True
        source.reconnect()
        assert source.conn is archive.db.conn
        assert archive.db.conn.execute("select 1").fetchone() == (1,)
    finally:
        archive.close()


def test_an_archive_in_memory_is_never_released() -> None:
    archive = Archive(":memory:")
    try:
        assert ArchiveSource(archive, 1, set()).release() is False
        assert archive.db.conn.execute("select 1").fetchone() == (1,)
    finally:
        archive.close()
