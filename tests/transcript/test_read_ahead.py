"""The summary's words read ahead in a forked worker give the same transcript, byte for byte.

`Ahead` itself: the value comes from a child process, a child that fails is made up for
here, and a cancelled child does not linger.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.publishing import Publisher, attributed_transcript
from bot.testing.crowd import archived_session
from bot.transcript import side_by_side as lanes_module
from bot.transcript import write_transcript
from bot.transcript.build import assemble, item_post_ids, local_clock
from bot.transcript.model import Transcript
from bot.transcript.read_ahead import read_ahead, spell
from bot.transcript.side_by_side import Ahead
from bot.transcript.sources import MemorySource
from bot.transcript.words import Tokenizer, Words, strip_markup
from tests.transcript import crowd
from tests.transcript.test_side_by_side import DIGESTS, build, digests
from tests.web.conftest import make_script


def _crowd_ahead(fork: bool) -> Transcript:
    messages, items = crowd.messages(), crowd.items()
    post_keys = item_post_ids(items)
    session = crowd.session()
    ahead = Ahead(partial(read_ahead, messages, post_keys, session.hashtag,
                          local_clock(session.timezone)), fork=fork)
    return assemble(session, items, MemorySource(messages, post_keys),
                    previous_participants=crowd.previous(),
                    moderation_counts={"hidden": 20, "redacted": 20},
                    roles={("web", "p1"): "nurse", ("web", "p2"): "patient"},
                    ahead=ahead)


@pytest.mark.parametrize("fork", [True, False])
def test_words_spelled_ahead_write_the_golden_bytes(fork: bool, tmp_path: Path) -> None:
    """Forked or not, the crowd's files are those the plain renderers wrote before."""
    write_transcript(build(), tmp_path / "plain", side_by_side=False)
    ahead = _crowd_ahead(fork)
    write_transcript(ahead, tmp_path / "ahead", side_by_side=False)
    assert digests(tmp_path / "ahead") == digests(tmp_path / "plain")
    golden = "".join(f"{d}  {name}\n" for name, d in digests(tmp_path / "ahead").items())
    assert golden == DIGESTS.read_text()
    plain = build().summary
    for a, b in zip(ahead.summary.questions, plain.questions, strict=True):
        assert a.key_terms == b.key_terms and a.key_terms
        assert [e.index for e in a.representative] == [e.index for e in b.representative]


def test_spelled_words_are_the_tokenizers() -> None:
    """Each public message's words as numbers read back as Tokenizer.distinct gives them."""
    messages, items = crowd.messages(), crowd.items()
    public = MemorySource(messages, item_post_ids(items)).public
    spelled = spell(public, "#NHSSM")
    tokenizer = Tokenizer("#NHSSM")
    for i, m in enumerate(public):
        want = () if m.is_host else tokenizer.distinct(strip_markup(m.public_text))
        assert spelled.distinct(i) == want
    assert spelled.words.docs == sum(1 for m in public if not m.is_host)
    inline = Words("#NHSSM")
    for i, m in enumerate(public):
        inline.add(i, m.public_text, m.is_host)
    inline.flush()
    assert list(spelled.words.df.items()) == list(inline.df.items())  # and in that order


def test_the_cli_path_forks_the_speller_and_writes_what_in_turn_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing from one thread (the CLI) forks; the files equal an unforked publish."""
    archive = Archive(tmp_path / "archive.db")
    session_id = archived_session(archive, make_script(tmp_path), 600,
                                  start=datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
    archive.close()
    real_fork, forks = os.fork, []

    def recording_fork() -> int:
        forks.append(os.getpid())
        return real_fork()

    monkeypatch.setattr(os, "fork", recording_fork)
    publisher = Publisher(tmp_path / "archive.db", tmp_path / "transcripts")
    monkeypatch.setattr(lanes_module, "can_fork", lambda: True)
    publisher.publish_now(session_id, out_dir=tmp_path / "forked")
    assert len(forks) >= 2  # the speller, then the second lane of formats
    monkeypatch.setattr(lanes_module, "can_fork", lambda: False)
    publisher.publish_now(session_id, out_dir=tmp_path / "in-turn")
    assert digests(tmp_path / "forked") == digests(tmp_path / "in-turn")


def _pid() -> int:
    return os.getpid()


def _fails_in_child(parent: int) -> str:
    if os.getpid() != parent:
        raise RuntimeError("this worker fails")
    return "made here"


def test_ahead_computes_in_a_child() -> None:
    ahead = Ahead(_pid, fork=True)
    assert ahead() != os.getpid()
    assert ahead() == ahead()  # asked twice, computed once


def test_ahead_without_fork_computes_here() -> None:
    assert Ahead(_pid, fork=False)() == os.getpid()


def test_a_failed_child_is_made_up_for_here() -> None:
    assert Ahead(partial(_fails_in_child, os.getpid()), fork=True)() == "made here"


def test_a_cancelled_child_is_stopped_and_reaped() -> None:
    ahead = Ahead(partial(time.sleep, 600), fork=True)
    pid = ahead._pid
    assert pid is not None
    ahead.cancel()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, signal.SIG_DFL)  # gone, and reaped: no zombie is left
    ahead.cancel()  # twice is harmless


def test_the_lanes_write_the_texts_and_cells_made_ahead(tmp_path: Path) -> None:
    """HTML, Markdown and CSV look each message's pieces up (else the worker's work is wasted)."""
    t = _crowd_ahead(fork=False)
    assert set(t.shown) == {"html", "md"} and len(t.shown["html"]) == len(t.layout)
    assert len(t.csv_cells) == len(t.layout)
    first = next(t.in_time_order(), None)
    assert first is not None
    t.shown["html"][0] = "HTML-MADE-AHEAD"
    t.shown["md"][0] = "MD-MADE-AHEAD"
    t.csv_cells[0] = ("CSV-HEAD-MADE-AHEAD", ",0,0", None, None, "CSV-TEXT-MADE-AHEAD")
    write_transcript(t, tmp_path, formats=("html", "md", "csv"), side_by_side=False)
    assert "HTML-MADE-AHEAD" in (tmp_path / "transcript.html").read_text()
    assert "MD-MADE-AHEAD" in (tmp_path / "transcript.md").read_text()
    csv_text = (tmp_path / "transcript.csv").read_text()
    assert "CSV-HEAD-MADE-AHEAD" in csv_text and "CSV-TEXT-MADE-AHEAD" in csv_text


def test_nothing_is_read_ahead_where_the_process_may_not_fork(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside other threads (the bot), the texts are read as the summary goes, as before."""
    archive = Archive(tmp_path / "archive.db")
    try:
        session_id = archived_session(archive, make_script(tmp_path), 200,
                                      start=datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
        session = archive.session(session_id)
        monkeypatch.setattr(lanes_module, "can_fork", lambda: False)
        plain = attributed_transcript(archive, session)
        assert plain.shown == {} and plain.csv_cells == []
        monkeypatch.setattr(lanes_module, "can_fork", lambda: True)
        made = attributed_transcript(archive, session)
        assert set(made.shown) == {"html", "md"} and len(made.csv_cells) == len(made.layout)
    finally:
        archive.close()
