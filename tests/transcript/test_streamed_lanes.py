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
                        in_memory_limit=0, own_archive=True)
        calls.unlink()
        monkeypatch.setattr(lanes_module, "can_fork", lambda: True)
        with caplog.at_level(logging.WARNING):
            publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / "lanes",
                            in_memory_limit=0, own_archive=True)
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


def test_only_the_sole_connection_to_a_file_may_be_reopened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another connection of this process to the file would be inherited by every lane."""
    monkeypatch.chdir(tmp_path)
    first = Archive(tmp_path / "archive.db")
    try:
        assert first.may_reopen()
        second = Archive("archive.db")  # the same file, named another way
        assert not first.may_reopen() and not second.may_reopen()
        second.close()
        second.close()  # twice: counted once
        assert first.may_reopen()
    finally:
        first.close()
    assert not first.may_reopen()  # closed
    for private in (":memory:", ""):  # closing one of these discards it
        archive = Archive(private)
        try:
            assert not archive.may_reopen()
            assert ArchiveSource(archive, 1, set()).release() is False
        finally:
            archive.close()


def test_a_publish_beside_another_connection_writes_in_turn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tweetchat review --decide` kept its archive open while publishing (found in review)."""
    archive, sid = busy_archive(tmp_path, 6, n=1100)
    other = Archive(archive.path)
    forked: list[bool] = []
    real = lanes_module.run_side_by_side

    def spy(pieces: object, *, fork: object = None, **kwargs: object) -> None:
        forked.append(bool(fork is not False and kwargs.get("reconnects") is not None))
        real(pieces, fork=fork, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lanes_module, "can_fork", lambda: True)
    monkeypatch.setattr("bot.transcript.write.run_side_by_side", spy)
    try:
        original = archive.db.conn
        publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / "beside",
                        in_memory_limit=0, own_archive=True)
        assert archive.db.conn is original  # not released: the other connection is open
        other.close()
        publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / "alone",
                        in_memory_limit=0, own_archive=True)
    finally:
        other.close()
        archive.close()
    assert digests(tmp_path / "beside") == digests(tmp_path / "alone")
    assert len(forked) == 2


def test_a_callers_archive_keeps_its_connection_unless_it_is_the_publishers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings on the caller's connection (an import's cache size) are not dropped."""
    archive, sid = busy_archive(tmp_path, 7, n=1100)
    monkeypatch.setattr(lanes_module, "can_fork", lambda: True)
    try:
        archive.db.conn.execute("PRAGMA cache_size=-65536")
        original = archive.db.conn
        publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / "out",
                        in_memory_limit=0)
        assert archive.db.conn is original
        assert original.execute("PRAGMA cache_size").fetchone() == (-65536,)
    finally:
        archive.close()


def test_a_lane_killed_mid_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Its lane is written again here, and what the dead writer left is removed."""
    import signal

    from bot.transcript.write import remove_leftovers, write_atomic

    parent = os.getpid()
    out = tmp_path / "out"
    out.mkdir()

    def chunks() -> object:
        yield b"x" * (1 << 17)  # more than one buffered write: the file exists on disk
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        yield b"end"

    pieces = [Piece("transcript.json", 1.0, lambda: write_atomic(out / "transcript.json",
                                                                 chunks())),
              # The costlier lane runs here, so the JSON's runs in the child.
              Piece("transcript.csv", 2.0, lambda: write_atomic(out / "transcript.csv",
                                                                b"a,b\n"))]
    run_side_by_side(pieces, fork=True, after_failure=lambda pid: remove_leftovers(out, pid))
    assert sorted(p.name for p in out.iterdir()) == ["transcript.csv", "transcript.json"]
    assert (out / "transcript.json").read_bytes().endswith(b"end")
