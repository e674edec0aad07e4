"""Erasure reaches what a killed import left without a message row.

An import writes payloads, follower counts and participant rows as it reads, and the
message rows only once their sessions are rebuilt (bot/importers/held_rows.py). Killed in
between, it left a person's payloads that `tweetchat forget` could not find (erasure found
rows through `messages`), and the person could not even be named: `forget` looked only at
message rows and answered "nobody ... has the id". Here the import is killed just before
its sessions phase, the person is forgotten through the real CLI, and not a byte of what
they wrote, nor their name or handle, is left in the archive's files; a re-run of the
import, or one still running when `forget` ran, writes none of their messages again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

import bot.importers.common as common
import bot.importers.sessions as sessions
from bot.archive import Archive
from bot.moderation import forget
from bot.platforms.x.importer import import_x
from bot.script import ChatScript, load_script
from tests.importers.equivalence_fixtures import HOST, SCRIPT, TWARC, USERS, _tweet
from tests.security.test_erasure_files import fts_terms
from tests.test_cli import tweetchat

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
SECRET = "xylophonicmarker"
ZED = {"id": "7770001", "username": "zquokka", "name": "Zebedee Quokkaton",
       "public_metrics": {"followers_count": 4242}}
ZED_TWEETS = ("2100", "2300")
ANN = USERS[1]
WORDS = (SECRET, "Quokkaton", "zquokka", ZED["id"])


def evening() -> bytes:
    """One twarc2 page: the host's welcome and questions, Zed twice, Ann once."""
    tweets = [
        _tweet(1_000, HOST, "Welcome to #NHSSM tonight", 0),
        _tweet(2_000, HOST, "Q1 How do you switch off after a shift? #NHSSM", 5),
        _tweet(2_100, ZED, f"A1 my {SECRET} story from ward 7", 6),
        _tweet(2_200, ANN, "A1 a long walk with the dog", 7),
        _tweet(2_300, ZED, f"A1 and another {SECRET} detail", 8),
        _tweet(3_000, HOST, "Q2 Who do you talk to? #NHSSM", 20),
    ]
    return orjson.dumps({"data": tweets, "includes": {"users": [HOST, ZED, ANN]},
                         "meta": {"result_count": len(tweets)}, "__twarc": TWARC}) + b"\n"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, ChatScript]:
    """(archive path, import file, script)."""
    (tmp_path / "equiv.yaml").write_text(SCRIPT)
    (tmp_path / "x.jsonl").write_bytes(evening())
    return tmp_path / "archive.db", tmp_path / "x.jsonl", load_script(tmp_path / "equiv.yaml")


def killed_before_its_sessions(path: Path, file: Path, script: ChatScript,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the import's reading phase, then die as a kill would, before any session."""
    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # committed work stays, the held rows are lost

    archive = Archive(path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sessions, "prepare", killed)
            with pytest.raises(KeyboardInterrupt):
                import_x(archive, file, script)
    finally:
        archive.close()


def residue(path: Path) -> dict[str, list[str]]:
    """Which of the archive's files still hold Zed's words, name, handle or id."""
    found: dict[str, list[str]] = {}
    for file in path.parent.glob(path.name + "*"):
        data = file.read_bytes()
        hits = [w for w in WORDS if w.encode() in data]
        if hits:
            found[file.name] = hits
    return found


def rows_of(path: Path) -> dict[str, list[Any]]:
    """Every row naming Zed or one of Zed's tweets, table by table."""
    db = Archive(path)
    try:
        marks = ",".join("?" * len(ZED_TWEETS))
        out = {table: db.db.execute(f"select * from {table} where platform = 'x' and id in "
                                    f"({marks})", ZED_TWEETS).fetchall()
               for table in ("messages", "message_raw", "message_reach")}
        out["participants"] = db.db.execute(
            "select * from participants where id = ?", [ZED["id"]]).fetchall()
        out["by_author"] = db.db.execute(
            "select id from messages where author_id = ?", [ZED["id"]]).fetchall()
        return out
    finally:
        db.close()


@pytest.mark.parametrize("remove", [False, True])
def test_forget_after_a_killed_import_leaves_no_byte_and_a_rerun_writes_none_back(
        setup: tuple[Path, Path, ChatScript], tmp_path: Path, remove: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path, file, script = setup
    killed_before_its_sessions(path, file, script, monkeypatch)
    held = rows_of(path)
    # The defect's state: payloads, counts and the participant row, and no message row.
    assert held["messages"] == [] and len(held["message_raw"]) == 2
    assert len(held["message_reach"]) == 2 and len(held["participants"]) == 1
    assert set(residue(path).get("archive.db", [])) >= {SECRET, "Quokkaton", "zquokka"}

    # Named by handle, as the room (here X) showed them: found through their participant row.
    result = tweetchat(tmp_path, "forget", "x:@zquokka", *(["--remove"] if remove else []),
                       TWEETCHAT_ARCHIVE=str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 messages in 0 sessions" in result.stdout
    assert "and 2 of their messages an unfinished import had read" in result.stdout
    assert residue(path) == {}
    assert all(rows == [] for rows in rows_of(path).values())
    assert SECRET not in fts_terms(path)

    archive = Archive(path)
    try:
        report = import_x(archive, file, script)  # the import run again, to the end
        ann = archive.message("x", "2200")
        assert ann is not None and ann.session_id == report.sessions[0]
        assert ann.raw["data"]["text"] == "A1 a long walk with the dog"  # Ann's payload kept
        audit = archive.db.execute("select detail from audit_log").fetchone()[0]
        assert "2 payloads without a message" in audit
    finally:
        archive.close()
    # The re-run read Zed's tweets again: the import leaves out messages under erased
    # keys before writing anything, so they are not recorded as a participant either.
    assert all(rows == [] for rows in rows_of(path).values())
    assert residue(path) == {}


def test_an_import_running_beside_forget_writes_none_of_the_forgotten_rows(
        setup: tuple[Path, Path, ChatScript], monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget runs between the import's reading and its sessions, on another connection."""
    path, file, script = setup
    real = common.group_posts
    forgotten: list[Any] = []

    def forget_first(*args: Any, **kwargs: Any) -> Any:
        # Called once the file is read and the rows are held, before any session is built.
        other = Archive(path)
        try:
            forgotten.append(forget(other, "x", ZED["id"], "dpo", T0, mode="anonymise"))
        finally:
            other.close()
        return real(*args, **kwargs)

    archive = Archive(path)
    try:
        monkeypatch.setattr(common, "group_posts", forget_first)
        report = import_x(archive, file, script)
        assert len(report.sessions) == 1
        kept = {r[0] for r in archive.db.execute("select id from messages where platform = 'x'")}
        assert kept == {"1000", "2000", "2200", "3000"}  # the host's and Ann's, not Zed's
        raws = {r[0] for r in archive.db.execute("select id from message_raw")}
        assert raws == kept  # no payload without its message, none of Zed's
        assert (forgotten[0].payloads, forgotten[0].messages) == (2, 0)
    finally:
        archive.close()
    assert SECRET not in str(residue(path))


@pytest.mark.parametrize("mode", ["anonymise", "remove"])
def test_importing_again_after_forget_brings_back_none_of_their_words(
        setup: tuple[Path, Path, ChatScript], mode: Any) -> None:
    """A finished import, forget, the same file again: anonymised rows stay placeholders
    (as before), and removed rows are no longer written back as if new."""
    path, file, script = setup
    archive = Archive(path)
    try:
        import_x(archive, file, script)
        report = forget(archive, "x", ZED["id"], "dpo", T0, mode=mode)
        assert (report.messages, report.payloads) == (2, 0)
        import_x(archive, file, script)
        texts = [r[0] for r in archive.db.execute("select text from messages")]
        assert not [t for t in texts if SECRET in t]
        assert archive.db.execute("select count(*) from messages where author_id = ?",
                                  [ZED["id"]]).fetchone()[0] == 0
        raws = [r[0] or "" for r in archive.db.execute("select raw from message_raw")]
        assert not [r for r in raws if SECRET in r]
    finally:
        archive.close()


def test_an_orphan_payload_naming_no_author_is_left_and_counted(
        setup: tuple[Path, Path, ChatScript], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A payload whose author the platform cannot read is neither erased on a guess nor
    passed over in silence: `forget` says how many, and how to finish the job."""
    path, file, script = setup
    killed_before_its_sessions(path, file, script, monkeypatch)
    archive = Archive(path)
    try:
        archive.db.execute("insert into message_raw (platform, id, raw) values "
                           "('x', '9999', '{\"neither\": \"data nor user\"}')")
    finally:
        archive.close()
    result = tweetchat(tmp_path, "forget", f"x:{ZED['id']}", TWEETCHAT_ARCHIVE=str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 payloads of an unfinished import name no author" in result.stdout
    assert residue(path) == {}  # Zed's own two are gone all the same
    archive = Archive(path)
    try:
        left = {r[0] for r in archive.db.execute("select id from message_raw")}
        assert left == {"2200", "9999"}  # Ann's orphan and the unreadable one stay
    finally:
        archive.close()


def test_a_replayed_live_event_of_a_removed_message_is_not_stored_again(
        tmp_path: Path) -> None:
    """A platform that delivers a removed message again (a backfill, an edit) gets nothing
    back into the archive, and the call that stores it goes on as usual."""
    from bot.records import Author, Event, Message

    archive = Archive(tmp_path / "a.db")
    try:
        zed = Author("x", ZED["id"], ZED["name"], ZED["username"], followers=4242)
        mine = Message("x", "2100", zed, f"A1 my {SECRET} story", T0, raw={"t": SECRET})
        other = Message("x", "2200", Author("x", "101", "Ann", "ann"), "A1 walks", T0)
        archive.record_events([Event("created", "x", m.id, T0, m) for m in (mine, other)])
        forget(archive, "x", ZED["id"], "dpo", T0, mode="remove")
        again = [Event("created", "x", "2100", T0, mine),
                 Event("edited", "x", "2100", T0, mine)]
        assert archive.record_events(again) == 0  # nothing stored, nothing counted
        assert archive.message("x", "2100") is None and archive.message("x", "2200")
        assert archive.db.execute("select count(*) from message_raw where id = '2100'"
                                  ).fetchone()[0] == 0
        assert archive.db.execute("select count(*) from participants where id = ?",
                                  [ZED["id"]]).fetchone()[0] == 0  # not recorded again
    finally:
        archive.close()


def test_an_erased_key_on_one_platform_leaves_the_same_id_on_another(tmp_path: Path) -> None:
    """Keys are (platform, id): Discord's erased 123 says nothing of X's 123."""
    from bot.archive.bulk import store_messages
    from bot.archive.schema import guard_erased
    from bot.records import Author, Message

    at = datetime(2025, 11, 5, 20, 5, tzinfo=UTC)
    archive = Archive(tmp_path / "a.db")
    try:
        with archive.db.atomic():
            guard_erased(archive.db)
            archive.db.execute(
                "insert into erased_messages (platform, id) values ('discord', '123')")
        both = [Message(platform, "123", Author(platform, f"{platform}-ann", "Ann"), "A1 hi", at)
                for platform in ("discord", "x")]
        assert store_messages(archive, both, chat_id="equiv") == 1
        kept = archive.db.execute("select platform, id from messages").fetchall()
        people = archive.db.execute("select platform, id from participants").fetchall()
        assert [tuple(r) for r in kept] == [("x", "123")]
        assert [tuple(r) for r in people] == [("x", "x-ann")]
    finally:
        archive.close()
