"""A file read by two readers, chunk by chunk, stores exactly what one reader stores.

`import_stream` shares a big X file between two forked readers (bot/importers/parts.py):
reader 0 reads chunks 0, 2, 4..., reader 1 chunks 1, 3, 5..., and the parent takes their
batches back in file order. Whatever the chunk size (a chunk smaller than a line, chunks
with no line starting in them, an edited tweet's versions in chunks of both readers, a
repeated tweet, bad lines), the archive and the report must be those of one reader.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.importers.common as common
import bot.importers.parts as parts
from bot.archive import Archive
from bot.archive.bulk import Batch
from bot.forking import ChildFailed
from bot.importers.reading import Read
from bot.platforms.x.importer import NotTweets, import_x
from bot.script import load_script
from tests.importers.equivalence_fixtures import HOST, SCRIPT, TWARC, USERS, _tweet, dump
from tests.importers.test_import_held_rows import richer_x_lines

ROOT = Path(__file__).resolve().parents[2]


def _page(tweets: list[dict[str, Any]], users: list[dict[str, Any]] | None = None) -> bytes:
    return orjson.dumps({"data": tweets, "includes": {"users": users or USERS},
                         "meta": {"result_count": len(tweets)}, "__twarc": TWARC})


def lines() -> list[bytes]:
    """The richer fixture, plus what splitting could get wrong."""
    u1, u2 = USERS[1], USERS[2]
    renamed = {**u2, "name": "Nurse Two (on nights)"}
    return [
        *richer_x_lines(),
        b"",  # a blank line
        # An edited tweet whose versions are far apart (in different readers' chunks).
        _page([_tweet(2_800, u1, "A1 first go", 9, edit_history_tweet_ids=["2800"])]),
        b"{broken",
        _page([_tweet(2_801, u1, "A1 second go", 10, edit_history_tweet_ids=["2800", "2801"]),
               _tweet(2_900, renamed, "A1 renamed since", 11)], [HOST, u1, renamed]),
        _page([_tweet(2_802, u1, "A1 third go", 10.5,
                      edit_history_tweet_ids=["2800", "2801", "2802"])]),
        _page([_tweet(2_100, u1, "A1 gardening, said again", 6)]),  # a repeat, new text
        orjson.dumps({"data": [{"id": "77", "text": "no author"}], "meta": {}}),
    ]


def _script(tmp_path: Path) -> Any:
    (tmp_path / "parts.yaml").write_text(SCRIPT)
    return load_script(tmp_path / "parts.yaml")


def _import(tmp_path: Path, name: str, data: bytes, monkeypatch: pytest.MonkeyPatch, *,
            chunk: int | None, fork: bool = False) -> dict[str, Any]:
    """Import `data` twice: read whole in this process, or by two readers in `chunk`s."""
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(data)
    used: list[bool] = []
    if chunk is None:
        monkeypatch.setattr(common, "READ_IN_CHILD_FROM", 1 << 62)
    else:
        _in_parts(monkeypatch, chunk, fork=fork, used=used)
    script = _script(tmp_path)
    archive = Archive(tmp_path / f"{name}.db")
    try:
        reports, dumps = [], []
        for _ in range(2):
            r = import_x(archive, path, script)
            reports.append((r.read, r.messages, r.changed, r.bad_lines, r.sessions,
                            r.host_posts, r.skipped))
            dumps.append(dump(archive))
    finally:
        archive.close()
    assert used == ([fork, fork] if chunk else [])
    return {"reports": reports, "dumps": dumps}


def _in_parts(monkeypatch: pytest.MonkeyPatch, chunk: int, *, fork: bool = True,
              used: list[bool] | None = None) -> None:
    """Every import from here on is read by two readers in chunks of `chunk` bytes."""
    real = parts.read_in_parts

    def read(split: Any, readers: int, chat_id: Any, host_names: Any, *, fork: Any,
             screen: Any) -> Any:
        assert readers == 2 and fork
        if used is not None:
            used.append(forked)
        return real(split, readers, chat_id, host_names, fork=forked, chunk_bytes=chunk,
                    screen=screen)

    forked = fork
    monkeypatch.setattr(common, "read_in_parts", read)
    monkeypatch.setattr(common, "READ_IN_PARTS_FROM", 0)
    monkeypatch.setattr(common, "READ_IN_CHILD_FROM", 0)
    monkeypatch.setattr(common, "can_fork", lambda: True)


def _children() -> set[str]:
    """This process's children now (from /proc)."""
    found: set[str] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update((task / "children").read_text().split())
    return found


@pytest.mark.parametrize("chunk", [1, 97, 400, 1500, 4000, 1 << 20])
def test_two_readers_store_what_one_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           chunk: int) -> None:
    data = b"\n".join(lines()) + b"\n"
    one = _import(tmp_path, "one", data, monkeypatch, chunk=None)
    two = _import(tmp_path, "two", data, monkeypatch, chunk=chunk)
    assert two == one
    read, messages, _, bad, sessions, hosts, _ = one["reports"][0]
    assert bad and len(sessions) == 2 and hosts > 0 and messages > 20  # the file is rich


def test_two_forked_readers_store_what_one_stores(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\n".join(lines()) + b"\n"
    one = _import(tmp_path, "one", data, monkeypatch, chunk=None)
    two = _import(tmp_path, "two", data, monkeypatch, chunk=700, fork=True)
    assert two == one


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kept=st.lists(st.integers(0, len(lines()) - 1), min_size=1, max_size=16),
       chunk=st.integers(1, 6000), newline=st.booleans())
def test_any_lines_in_any_order_and_chunk_size(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        kept: list[int], chunk: int, newline: bool) -> None:
    every = lines()
    body = b"\n".join(every[i] for i in kept) + (b"\n" if newline else b"")
    tmp_path = tmp_path_factory.mktemp("parts")
    with monkeypatch.context() as patch:
        one = _import(tmp_path, "one", body, patch, chunk=None)
    with monkeypatch.context() as patch:
        two = _import(tmp_path, "two", body, patch, chunk=chunk)
    assert two == one


def test_a_refusal_in_the_second_readers_chunk_is_raised_as_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = orjson.dumps({"data": USERS})
    body = b"\n".join([*lines()[:4], users]) + b"\n"
    path = tmp_path / "users.jsonl"
    path.write_bytes(body)
    _in_parts(monkeypatch, len(body) - len(users) - 1)  # the users' line opens chunk 1
    before = _children()
    archive = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(NotTweets, match="line 5 holds user profiles") as caught:
            import_x(archive, path, _script(tmp_path))
        assert isinstance(caught.value.__cause__, ChildFailed)
    finally:
        archive.close()
    assert _children() <= before  # both readers waited for


def test_a_reader_killed_mid_file_stops_the_import_and_the_other_is_reaped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"\n".join(lines()) + b"\n"
    path = tmp_path / "x.jsonl"
    path.write_bytes(body)
    _in_parts(monkeypatch, 300)
    real = parts.read_part

    def dies(split: Any, part: parts.Part, *args: Any) -> Any:
        for read in real(split, part, *args):
            if part.index == 1 and read.chunk is not None and read.chunk >= 5:
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
            yield read

    monkeypatch.setattr(parts, "read_part", dies)
    script = _script(tmp_path)
    before = _children()
    archive = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(ChildFailed, match="killed by signal 9"):
            import_x(archive, path, script)
        assert _children() <= before
        monkeypatch.setattr(parts, "read_part", real)
        import_x(archive, path, script)  # the same command again completes it
        again = dump(archive)
    finally:
        archive.close()
    clean = Archive(tmp_path / "clean.db")
    try:
        import_x(clean, path, script)
        assert again == dump(clean)
    finally:
        clean.close()


def test_a_participant_is_first_and_last_seen_at_their_earliest_and_newest_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a newest-first file, read in one batch or many: the span of their messages."""
    u1 = USERS[1]
    named = [{**u1, "name": f"Nurse 1, week {9 - i}"} for i in range(6)]
    newest_first = [_page([_tweet(9_000 - i, named[i], f"A1 note {i}", 60 - i)], [named[i]])
                    for i in range(6)]
    body = b"\n".join(newest_first) + b"\n"
    for name, chunk in (("whole", None), ("parts", 1)):
        assert _participant(tmp_path, name, body, monkeypatch, chunk, u1["id"]) == (
            "Nurse 1, week 9", "2025-11-05T20:55:00+00:00", "2025-11-05T21:00:00+00:00"), name


def _participant(tmp_path: Path, name: str, body: bytes, monkeypatch: pytest.MonkeyPatch,
                 chunk: int | None, author_id: str) -> tuple[str, str, str]:
    """`body` imported (whole, or in parts of `chunk` bytes): the author's name and span."""
    with monkeypatch.context() as patch:
        _import(tmp_path, name, body, patch, chunk=chunk)
    archive = Archive(tmp_path / f"{name}.db")
    try:
        return archive.db.conn.execute(
            "select name, first_seen, last_seen from participants where id = ?",
            [author_id]).fetchone()
    finally:
        archive.close()


def test_a_reader_out_of_step_is_an_error_not_a_silent_reordering() -> None:
    def reader(chunks: list[int]) -> Any:
        for chunk in chunks:
            yield Read(Batch("c"), 0, parts.ReadEnd(), chunk=chunk)

    split = parts.Split(lambda advance, part: iter(()), lambda items: iter(()), size=40)
    merged = parts.merge_parts([reader([0, 2]), reader([3])], split, 10, "c", set())
    with pytest.raises(RuntimeError, match="sent chunk 3 for chunk 1"):
        list(merged)
    extra = parts.merge_parts([reader([0, 2, 4]), reader([1, 3])], split, 10, "c", set())
    with pytest.raises(RuntimeError, match="past the last"):
        list(extra)


def test_the_command_reads_a_big_file_with_two_readers(tmp_path: Path) -> None:
    """The real CLI on a file over READ_IN_PARTS_FROM: the archive one reader makes."""
    from bench.gen_x import generate_x

    data, flat = tmp_path / "pages.jsonl", tmp_path / "flat.jsonl"
    generate_x(7_000, data, flat)
    command_reads_with_two_readers(tmp_path, "x", data, import_x)


def command_reads_with_two_readers(tmp_path: Path, platform: str, data: Path,
                                   import_here: Any) -> None:
    """`tweetchat import PLATFORM DATA` starts two readers and stores what one reader does.

    `import_here(archive, data, script)` imports the same file in this process, read by one
    reader, for the comparison.
    """
    from bench.gen_x import SCRIPT as BENCH_SCRIPT

    assert data.stat().st_size >= common.READ_IN_PARTS_FROM
    (tmp_path / "bench.yaml").write_text(BENCH_SCRIPT)
    config = tmp_path / "settings.toml"
    config.write_text(f'[archive]\npath = "{tmp_path / "cli.db"}"\n'
                      f'transcripts_dir = "{tmp_path / "transcripts"}"\n')
    spy = tmp_path / "spy.py"
    # Counts the readers the command starts, then runs it as `python -m bot` does.
    spy.write_text(
        "import sys, bot.importers.common as c, bot.importers.parts as p\n"
        "real = p.read_in_parts\n"
        "def counted(*a, **k):\n"
        "    print('readers', a[1], k['fork'], file=sys.stderr)\n"
        "    return real(*a, **k)\n"
        "c.read_in_parts = counted\n"
        "from bot.cli import main\n"
        "sys.argv = ['tweetchat', *sys.argv[1:]]\n"
        "main()\n")
    done = subprocess.run(
        [sys.executable, str(spy), "import", platform, str(data), "--script",
         str(tmp_path / "bench.yaml")],
        cwd=tmp_path, env={**os.environ, "TWEETCHAT_CONFIG": str(config),
                           "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "readers 2 True" in done.stderr
    script = load_script(tmp_path / "bench.yaml")
    cli, here = Archive(tmp_path / "cli.db"), Archive(tmp_path / "here.db")
    try:
        common_from = common.READ_IN_CHILD_FROM
        common.READ_IN_CHILD_FROM = 1 << 62  # one reader, in this process
        try:
            import_here(here, data, script)
        finally:
            common.READ_IN_CHILD_FROM = common_from
        assert dump(cli) == dump(here)
    finally:
        cli.close()
        here.close()


def test_an_edited_tweet_keeps_the_participant_rule(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Edits are stored last, through the events path: its upsert keeps the same rule."""
    old, new = ({**USERS[1], "name": name} for name in ("Old name", "New name"))
    body = b"\n".join([
        _page([_tweet(6_001, old, "A1 second go", 5, edit_history_tweet_ids=["6000", "6001"])],
              [old]),
        _page([_tweet(6_100, new, "A2 much later", 40)], [new]),
    ]) + b"\n"
    for name, chunk in (("whole", None), ("parts", 100)):
        assert _participant(tmp_path, name, body, monkeypatch, chunk, USERS[1]["id"]) == (
            "New name", "2025-11-05T20:05:00+00:00", "2025-11-05T20:40:00+00:00"), name


def test_of_two_refusals_the_first_in_the_file_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Users on line 2 (chunk 1, reader 1), counts on line 3 (chunk 2, reader 0)."""
    first = lines()[0]
    users = orjson.dumps({"data": USERS})
    counts = orjson.dumps({"data": [{"tweet_count": 3}], "meta": {"total_tweet_count": 3}})
    chunk = len(first) + 1
    body = first + b"\n" + users.ljust(chunk - 1) + b"\n" + counts + b"\n"
    path = tmp_path / "two.jsonl"
    path.write_bytes(body)
    _in_parts(monkeypatch, chunk)
    archive = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(NotTweets, match="line 2 holds user profiles"):
            import_x(archive, path, _script(tmp_path))
    finally:
        archive.close()


def _changed_after_stat(patch: pytest.MonkeyPatch, path: Path, chunk: int | None,
                        fork: bool, change: Callable[[Path], Any]) -> None:
    """Read `path` whole in this process (chunk None) or in parts, `change(path)` run each
    time its size is taken: after import_x took the size, the file is no longer that."""
    if chunk is None:
        patch.setattr(common, "READ_IN_CHILD_FROM", 1 << 62)
    else:
        _in_parts(patch, chunk, fork=fork)
    stat = Path.stat

    def changed_after_stat(self: Path, *args: Any, **kwargs: Any) -> Any:
        found = stat(self, *args, **kwargs)
        if self == path:
            change(path)
        return found

    patch.setattr(Path, "stat", changed_after_stat)


def _appending(late: bytes) -> Callable[[Path], None]:
    """A change that appends `late` to the file (twarc2 still writing)."""
    def append(path: Path) -> None:
        with open(path, "ab") as f:
            f.write(late)
    return append


def test_lines_appended_during_the_import_wait_for_the_next_either_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """twarc2 still writing: both paths read the lines the file had when the import began."""
    late = _page([_tweet(7_777, USERS[3], "A1 appended while importing", 7)]) + b"\n"
    body = b"\n".join(lines()) + b"\n"
    stored = {}
    for name, chunk in (("whole", None), ("parts", 500)):
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(body)
        with monkeypatch.context() as patch:
            _changed_after_stat(patch, path, chunk, False, _appending(late))
            archive = Archive(tmp_path / f"{name}.db")
            try:
                import_x(archive, path, _script(tmp_path))
                stored[name] = dump(archive)
            finally:
                archive.close()
        assert path.read_bytes().endswith(late)
    assert stored["parts"] == stored["whole"]
    assert "7777" not in {m["id"] for m in stored["whole"]["messages"]}


@pytest.mark.parametrize(("chunk", "fork"), [(None, False), (500, False), (500, True)])
def test_a_file_cut_while_it_is_read_is_one_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int | None, fork: bool) -> None:
    """Rewritten shorter after the import took its size: refused, whoever reads which part.

    (Read as it now is, it would be counted as fewer lines, some bad, and reported done.)
    """
    path = tmp_path / "cut.jsonl"
    body = b"\n".join(lines()) + b"\n"
    path.write_bytes(body)
    with monkeypatch.context() as patch:
        _changed_after_stat(patch, path, chunk, fork,
                            lambda path: path.write_bytes(body[:len(body) // 3]))
        archive = Archive(tmp_path / "a.db")
        try:
            with pytest.raises(parts.FileChanged, match="changed while it was read") as caught:
                import_x(archive, path, _script(tmp_path))
        finally:
            archive.close()
    assert f"{len(body):,} when the import began" in str(caught.value)


def test_the_command_says_so_in_one_line(tmp_path: Path) -> None:
    """`run_import`, which every import command runs its importer through."""
    from bot.terminal import UserError
    from bot.terminal_imports import run_import

    path = tmp_path / "cut.jsonl"
    path.write_bytes(b"{}\n")

    def cut(advance: Any) -> Any:
        raise parts.FileChanged("it changed while it was read (now 3 bytes, 9 when the import "
                                "began); import it again once nothing is writing to it")

    with pytest.raises(UserError) as caught:
        run_import(path, cut)
    assert str(caught.value) == (f"{path}: it changed while it was read (now 3 bytes, 9 when "
                                 "the import began); import it again once nothing is writing "
                                 "to it")


def test_readers_start_at_the_first_read_and_all_are_closed_whatever_happens() -> None:
    split = parts.Split(lambda advance, part: iter(()), lambda items: iter(()), size=40)
    before = _children()
    unstarted = parts.read_in_parts(split, 2, "c", set(), fork=True, chunk_bytes=10)
    assert _children() == before  # nothing forked yet...
    unstarted.close()  # ...so nothing left behind when it is never read
    closed: list[int] = []

    def reader(index: int) -> Any:
        try:
            yield Read(Batch("c"), 0, None, chunk=index)
            yield Read(Batch("c"), 0, None, chunk=index)
        finally:
            closed.append(index)
            if index == 0:
                raise KeyboardInterrupt  # Ctrl-C again while the first is being reaped

    first, second = reader(0), reader(1)
    merged = parts.merge_parts([first, second], split, 10, "c", set())
    next(merged)
    with pytest.raises(KeyboardInterrupt):
        merged.close()
    assert closed == [0] and second.gi_frame is None  # the second closed all the same


def test_a_reader_holds_no_other_readers_pipe() -> None:
    """Else a reader whose parent died would wait on a pipe its sibling keeps open."""
    import bot.forking as forking

    def first() -> Any:
        yield 1

    def second() -> Any:
        yield sorted(fd for fd in others if _open(fd))

    one = forking.stream_from_child(first, now=True)
    others = set(forking._READ_ENDS)
    assert others
    two = forking.stream_from_child(second, now=True)
    try:
        assert list(two) == [[]]
        assert list(one) == [1]
    finally:
        one.close()
        two.close()


def _open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_lines_read_are_the_files_lines_with_edits_merged_at_the_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited tweet's versions are merged after the whole file: their lines count once."""
    u1, u2 = USERS[1], USERS[2]
    body = b"\n".join([
        _page([_tweet(6_100, u1, "A2 first go", 5, edit_history_tweet_ids=["6100"])]),
        _page([_tweet(6_101, u1, "A2 edited", 6, edit_history_tweet_ids=["6100", "6101"]),
               _tweet(6_200, u2, "A2 plain", 7)]),
        _page([_tweet(6_300, USERS[3], "A3", 8)]),
    ]) + b"\n"
    for name, chunk in (("whole", None), ("parts", 50)):
        with monkeypatch.context() as patch:
            got = _import(tmp_path, name, body, patch, chunk=chunk)
        assert got["reports"][0][0] == 3, name
