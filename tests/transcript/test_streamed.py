"""A session read from the archive in batches gives the same transcript as one in memory.

The publisher reads small sessions into memory (`MemorySource`) and big ones from the
archive in batches (`ArchiveSource`, SQL resolves each reply's parent); both must give
the same bones, the same entries and the same bytes in every format. The session is the
bot's own kind (stored through `record_events`), with what makes threading hard: deep
reply chains, replies to deleted, hidden and scripted posts, answers tagged for two
questions, retweets, redactions, reactions, media and follower counts, timestamp ties.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import publishing
from bot.archive import Archive
from bot.attribution import UNPLACED
from bot.publishing import (
    attribute_session,
    attributed_messages,
    build_certificate,
    publish_session,
)
from bot.records import Author, Event, Message
from bot.testing.crowd import archived_session
from bot.transcript.build import assemble, build_transcript, item_post_ids
from bot.transcript.layout import BATCH
from bot.transcript.model import Transcript
from bot.transcript.sources import ArchiveSource, MemorySource
from tests.transcript import walk
from tests.web.conftest import make_script

START = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


def busy_archive(tmp_path: Path, seed: int, n: int = 400, *, forward_only: bool = False
                 ) -> tuple[Archive, int]:
    """An ended session of `n` answers plus replies, removals, retweets and ties.

    With `forward_only` every reply is newer than what it replies to (as platforms give).
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    archive = Archive(tmp_path / f"archive-{seed}.db")
    sid = archived_session(archive, make_script(tmp_path), n, start=START, people=25)
    rng = random.Random(seed)
    ids = [f"seed{i:08d}" for i in range(n)]
    posts = [ref for item in archive.items(sid) for ref in item.refs.values()]
    events = []
    for k in range(n):
        parent = rng.choice(ids[-8:] + ids + posts + ["gone"])
        at = START + timedelta(seconds=rng.choice([30, 60, 60, 90]) * (k // 3 + 1))
        if forward_only:
            parent = rng.choice(ids[n:][-8:] + posts + ["gone"]) if k else None
            at = START + timedelta(hours=2, seconds=k)
        person = rng.randrange(30)
        author = Author("web", f"person{person}", f"Person {person} {rng.randrange(2)}",
                        followers=rng.choice([None, 10, 500]))
        tag = rng.choice(["", "A1 ", "A2 ", "A1/A2 ", "A3 & A1 "])
        kind = "retweet" if rng.random() < 0.03 else "message"
        text = f"{tag}reply {k} nurses wards {rng.choice(['', 'https://x.org/a', 'care'])}"
        msg = Message("web", f"r{k:05d}", author, text, at, reply_to=parent,
                      reactions=rng.randrange(4), kind=kind, media=rng.randrange(3) // 2)
        events.append(Event("created", "web", msg.id, at, msg))
        ids.append(msg.id)
    archive.record_events(events, session_id=sid, chat_id="chat")
    for mid in rng.sample(ids, 30):
        choice = rng.randrange(3)
        if choice == 0:
            archive.set_moderation_state("web", mid, hidden=True)
        elif choice == 1:
            archive.set_moderation_state("web", mid, redacted_text="[removed]")
        else:
            archive.record_events([Event("deleted", "web", mid, START + timedelta(hours=2))])
    return archive, sid


def fingerprint(t: Transcript) -> list[tuple[object, ...]]:
    """Everything a renderer can see of each entry, walked through every traversal."""
    out: list[tuple[object, ...]] = []
    for b in t.blocks:
        out += [(b.label, b.message_count, b.answer_count, [e.index for e in b.also])]
        out += [(e.index, e.msg, e.text, e.local, e.depth, e.shown_replies, e.reply_count,
                 e.reply_to_name, e.parent_removed, e.kind, e.role, e.media, e.block.label)
                for e in t.thread(b)]
    for p in t.participants:
        shown = list(t.messages_of(p))
        assert list(t.message_ids_of(p)) == [e.msg.id for e in shown]
        out.append((p.key, p.message_count, p.reactions, p.question_labels, p.followers,
                    [e.index for e in shown]))
    out.append(tuple(e.index for e in t.in_time_order()))
    return out


def summary_view(t: Transcript) -> tuple[object, ...]:
    """The summary with entries and people as what identifies them."""
    s = t.summary
    questions = [(q.number, q.answers, q.participants, q.median_first_answer, q.key_terms,
                  q.roles, [e.index for e in q.most_engaged],
                  [e.index for e in q.representative]) for q in s.questions]
    people = [(p.key, n) for p, n in s.top_contributors + s.top_replied]
    return (s.messages, s.participants, s.host_messages, s.links, s.activity, s.media,
            s.impressions, s.reposts, questions, people)


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), engaged=st.booleans())
def test_archive_source_matches_the_list_in_memory(tmp_path: Path, seed: int,
                                                   engaged: bool) -> None:
    archive, sid = busy_archive(tmp_path, seed)
    try:
        session, items = archive.session(sid), archive.items(sid)
        messages = attributed_messages(archive, session, items)
        order = "engaged" if engaged else "time"
        kw = {"order": order, "roles": {("web", "person3"): "nurse"}}
        memory = build_transcript(session, items, messages, reach=archive.reach(sid), **kw)
        streamed = assemble(session, items, ArchiveSource(archive, sid, item_post_ids(items)),
                            **kw)
        assert fingerprint(streamed) == fingerprint(memory)
        assert summary_view(streamed) == summary_view(memory)
        assert streamed.reposts == memory.reposts > 0
        assert any(e.parent_removed for e in walk.entries(memory))
        assert any(e.depth > 1 for e in walk.entries(memory))
    finally:
        archive.close()


def test_bones_agree_row_by_row(tmp_path: Path) -> None:
    archive, sid = busy_archive(tmp_path, 7)
    try:
        items = archive.items(sid)
        keys = item_post_ids(items)
        memory = MemorySource(archive.messages(sid), keys, archive.reach(sid))
        stored = ArchiveSource(archive, sid, keys)
        got = [b._replace(ref=0) for b in stored.bones()]
        assert got == [b._replace(ref=0) for b in memory.bones()]
        assert {b.parent_removed for b in got} == {True, False}
        assert [m.key for m in stored.posts()] == [m.key for m in memory.posts()]
    finally:
        archive.close()


def test_publisher_writes_the_same_bytes_either_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the in-memory limit the publisher streams from the archive: same files.

    Streamed, the lanes are told what to reconnect (each forked lane opens its own
    connection: tests/transcript/test_streamed_lanes.py) when the archive is the
    publisher's own; else, and in memory, there is nothing to.
    """
    import bot.transcript.write as write

    forks: list[tuple[bool | None, object]] = []
    real = write.run_side_by_side

    def spy(pieces: Any, *, fork: bool | None = None, reconnects: Any = None,
            **kwargs: Any) -> None:
        forks.append((fork, reconnects))
        real(pieces, fork=fork, reconnects=reconnects, **kwargs)

    monkeypatch.setattr(write, "run_side_by_side", spy)
    archive, sid = busy_archive(tmp_path, 3, n=BATCH + 300)  # more than one batch
    try:
        files = {}
        for limit, own in ((10**9, False), (0, True), (0, False)):
            out = tmp_path / f"out-{limit}-{own}"
            publish_session(archive, sid, tmp_path / "t", out_dir=out, in_memory_limit=limit,
                            own_archive=own)
            files[limit, own] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                 for p in sorted(out.iterdir())}
        assert files[0, True] == files[0, False] == files[10**9, False]
        assert len(files[0, True]) == 5
        assert [fork for fork, _ in forks] == [None, None, False]  # as the process allows
        assert forks[0][1] is None and isinstance(forks[1][1], ArchiveSource)
        assert forks[2][1] is None  # not the publisher's own: in turn, nothing replaced
    finally:
        archive.close()


def placements(archive: Archive, sid: int) -> dict[tuple[str, str], tuple[object, ...]]:
    return {m.key: (m.question, m.section, m.method, m.confidence, m.extra_questions)
            for m in archive.messages(sid)}


@pytest.mark.parametrize("seed", [1, 2])
def test_attribution_in_place_stores_what_attribute_session_stores(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replies in time order take the one pass; replies older than their parent fall back."""
    results = []
    fallbacks: list[int] = []
    real = publishing.session_placings

    def whole_session(*args: Any, **kw: Any) -> Any:
        fallbacks.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(publishing, "session_placings", whole_session)
    for way in ("whole", "in place"):
        archive, sid = busy_archive(tmp_path / way, seed, forward_only=seed == 1)
        try:
            # Forget the live attribution, so that everything has to be placed again.
            archive.save_attribution(sid, {m.key: UNPLACED for m in archive.messages(sid)})
            if way == "whole":
                attribute_session(archive, sid)
            else:
                publishing.attribute_in_place(archive, archive.session(sid),
                                              archive.items(sid), batch=50)
            results.append(placements(archive, sid))
        finally:
            archive.close()
    assert results[0] == results[1]
    assert len({v for v in results[0].values()}) > 5
    assert len(fallbacks) == (0 if seed == 1 else 1)


def test_a_certificate_reads_the_archive_the_same_way(tmp_path: Path) -> None:
    """A certificate of a big session (streamed) is the page of a small one (in memory)."""
    archive, sid = busy_archive(tmp_path, 5)
    try:
        pages = {limit: build_certificate(archive, sid, "web", "person3", in_memory_limit=limit)
                 for limit in (10**9, 0)}
        assert pages[0] == pages[10**9]
        assert "Person 3" in pages[0][1]
    finally:
        archive.close()


def test_a_reply_shown_apart_names_the_name_its_parent_was_posted_under(tmp_path: Path) -> None:
    """The name comes from the skeleton, not a join: a rename mid-session still shows."""
    archive, sid = busy_archive(tmp_path, 11, n=600)  # people post under two names each
    try:
        session, items = archive.session(sid), archive.items(sid)
        stored = sorted(archive.messages(sid), key=lambda m: (m.created, m.platform, m.id))
        posted_as = {m.key: m.author_name for m in stored}
        author_of = {m.key: m.author_id for m in stored}
        first_name: dict[tuple[str, str], str] = {}
        for m in stored:
            first_name.setdefault((m.platform, m.author_id), m.author_name)
        memory = build_transcript(session, items, attributed_messages(archive, session, items))
        streamed = assemble(session, items, ArchiveSource(archive, sid, item_post_ids(items)))
        renamed = 0
        for t in (memory, streamed):
            named = [e for e in walk.entries(t) if e.reply_to_name is not None]
            assert named
            for e in named:
                parent = (e.msg.platform, e.msg.reply_to)
                assert e.reply_to_name == posted_as[parent]
                renamed += posted_as[parent] != first_name[(e.msg.platform, author_of[parent])]
        assert renamed > 0
    finally:
        archive.close()


@pytest.mark.parametrize("forward_only", [True, False])  # the one pass, and its fallback
def test_a_streamed_publish_commits_its_attribution_and_holds_no_lock(
        tmp_path: Path, forward_only: bool) -> None:
    """Read back on another connection: the placings a big session's publish saved are there.

    Filling the temporary tables used to leave Python's implicit transaction open, so the
    attribution saved after it was a savepoint never committed (rolled back at close) and
    every other writer waited for the whole render.
    """
    archive, sid = busy_archive(tmp_path, 4, n=300, forward_only=forward_only)
    other = Archive(archive.path)  # another writer, as the live bot would be
    try:
        found = []
        for limit in (10**9, 0):  # in memory (known to commit), then streamed
            archive.save_attribution(sid, {m.key: UNPLACED for m in archive.messages(sid)})
            publish_session(archive, sid, tmp_path / "t", out_dir=tmp_path / f"out{limit}",
                            in_memory_limit=limit)
            assert not archive.db.conn.in_transaction
            found.append(placements(other, sid))
            # The publisher's connection holds no lock: another connection writes at once.
            other.save_attribution(sid, {m.key: m for m in other.messages(sid)[:1]})
        assert found[1] == found[0]
        assert any(section != "unplaced" for _, section, *_ in found[1].values())
    finally:
        other.close()
        archive.close()
