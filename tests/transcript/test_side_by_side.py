"""The fast paths write what the plain ones wrote: forked lanes, and a 2,000-message session.

tests/transcript/golden/crowd-2k.sha256 holds the digests of the generated session's files
as the renderers wrote them before the speed work of issue 15 (regenerate only for an
intended change of output, as the golden files: UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.publishing import Publisher
from bot.testing.crowd import archived_session
from bot.transcript import build_transcript, write_transcript
from bot.transcript.model import Transcript
from bot.transcript.side_by_side import Piece, can_fork, lanes, run_side_by_side
from tests.transcript import crowd, walk
from tests.web.conftest import make_script

DIGESTS = Path(__file__).parent / "golden" / "crowd-2k.sha256"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def build() -> Transcript:
    return build_transcript(crowd.session(), crowd.items(), crowd.messages(),
                            previous_participants=crowd.previous(),
                            moderation_counts={"hidden": 20, "redacted": 20},
                            roles={("web", "p1"): "nurse", ("web", "p2"): "patient"})


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    return build()


def test_the_crowd_is_busy(transcript: Transcript) -> None:
    """The generated session has what it promises (else the comparison proves little)."""
    entries = walk.entries(transcript)
    assert len(entries) > 1800
    assert any(e.depth == 6 and e.reply_to_name for e in entries)  # flattened deep chains
    assert any(e.parent_removed for e in entries)
    assert any(e.reply_to_name and e.depth == 0 for e in entries)  # parent in another block
    assert transcript.multi_platform and transcript.reposts > 0
    assert any(e.redacted for e in entries) and any(e.msg.edited for e in entries)
    assert transcript.unplaced.answer_count and any(b.also for b in transcript.questions)
    assert all(q.representative and q.key_terms for q in transcript.summary.questions)


def test_forked_lanes_write_the_same_bytes_as_one_after_another(
        transcript: Transcript, tmp_path: Path) -> None:
    in_turn = write_transcript(transcript, tmp_path / "in-turn", side_by_side=False)
    forked = write_transcript(transcript, tmp_path / "forked", side_by_side=True)
    assert [p.name for p in forked] == [p.name for p in in_turn] == [
        "transcript.html", "transcript.md", "transcript.json", "transcript.csv",
        "activity.png"]
    assert digests(tmp_path / "forked") == digests(tmp_path / "in-turn")
    assert not list((tmp_path / "forked").glob(".*tmp"))


def test_the_files_are_what_the_renderers_wrote_before(transcript: Transcript,
                                                       tmp_path: Path) -> None:
    write_transcript(transcript, tmp_path, side_by_side=True)
    actual = "".join(f"{d}  {name}\n" for name, d in digests(tmp_path).items())
    if UPDATE or not DIGESTS.exists():
        DIGESTS.write_text(actual)
        if not UPDATE:
            pytest.fail(f"{DIGESTS} did not exist; written now, check it and run again")
    assert actual == DIGESTS.read_text()


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def _fail_in_child(parent: int, path: Path) -> None:
    if os.getpid() != parent:
        raise RuntimeError("this lane fails in its worker")
    path.write_text("written by the parent")


def test_a_lane_that_fails_in_its_worker_is_written_here(tmp_path: Path) -> None:
    big = Piece("big", 10.0, partial(_write, tmp_path / "big", "big"))
    flaky = Piece("flaky", 1.0, partial(_fail_in_child, os.getpid(), tmp_path / "flaky"))
    run_side_by_side([big, flaky], fork=True)
    assert (tmp_path / "big").read_text() == "big"
    assert (tmp_path / "flaky").read_text() == "written by the parent"


def test_a_worker_writes_its_lane_in_its_own_process(tmp_path: Path) -> None:
    pieces = [Piece(str(i), cost, partial(_record_pid, tmp_path / str(i)))
              for i, cost in enumerate([5.0, 1.0, 1.0])]
    run_side_by_side(pieces, fork=True)
    pids = {int((tmp_path / str(i)).read_text()) for i in range(3)}
    assert os.getpid() in pids
    assert len(pids) == min(3, os.cpu_count() or 1)


def _record_pid(path: Path) -> None:
    path.write_text(str(os.getpid()))


def test_lanes_balance_the_costs_and_keep_the_order() -> None:
    pieces = [Piece(name, cost, lambda: None) for name, cost in
              [("html", 1.2), ("md", 0.5), ("json", 0.7), ("csv", 1.1), ("png", 0.05)]]
    assert [[p.name for p in lane] for lane in lanes(pieces, 2)] == [
        ["html", "md", "png"], ["json", "csv"]]
    assert [[p.name for p in lane] for lane in lanes(pieces, 1)] == [
        ["html", "md", "json", "csv", "png"]]
    assert len(lanes(pieces[:1], 4)) == 1


def test_no_forking_beside_another_thread() -> None:
    """A fork would copy the locks the other thread holds; the child could wait forever."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        other.join()


async def test_the_bots_publisher_writes_in_turn_in_its_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the event loop (the bot), the publisher's worker never forks, and writes all."""
    archive = Archive(tmp_path / "archive.db")
    session_id = archived_session(archive, make_script(tmp_path), 300,
                                  start=datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
    archive.close()
    forked: list[str] = []
    real_fork = os.fork

    def recording_fork() -> int:
        forked.append(threading.current_thread().name)
        return real_fork()

    monkeypatch.setattr(os, "fork", recording_fork)
    publisher = Publisher(tmp_path / "archive.db", tmp_path / "transcripts")
    try:
        published = await publisher.publish(session_id, out_dir=tmp_path / "out")
    finally:
        publisher.close()
    assert forked == []
    assert [p.name for p in published.files] == [
        "transcript.html", "transcript.md", "transcript.json", "transcript.csv",
        "activity.png"]
    assert all(p.stat().st_size > 0 for p in published.files)
