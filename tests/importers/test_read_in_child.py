"""An import read in a forked child stores exactly what one read in-process stores.

`import_stream` reads big files in a child (bot/forking.stream_from_child) while the
parent writes: the same archive must come out either way, the child's errors and log lines
must reach the user as if raised here, and a child that dies must neither hang the
import nor leave a process behind. The real CLI is run on a file over the fork threshold.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

import bot.importers.common as common
import bot.importers.reading as reading
import bot.importers.sessions as sessions
from bot.archive import Archive
from bot.archive.bulk import Batch
from bot.forking import ChildFailed
from bot.importers.reading import Parsed, Read
from bot.platforms.x.importer import NotTweets, import_x
from bot.script import load_script
from tests.importers.equivalence_fixtures import SCRIPT, TWARC, USERS, _tweet, dump, x_lines
from tests.importers.test_import_held_rows import _run, imports  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[2]


def _reading(monkeypatch: pytest.MonkeyPatch, *, in_child: bool) -> None:
    """Every import from here on reads in a child (or in this process), whatever its size."""
    monkeypatch.setattr(common, "READ_IN_CHILD_FROM", 0 if in_child else 1 << 62)
    monkeypatch.setattr(common, "can_fork", lambda: True)


@pytest.mark.parametrize(("batch", "hold"), [(5000, 100_000), (2, 0), (3, 7)])
def test_read_in_a_child_stores_what_read_here_stores(
        imports: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        batch: int, hold: int) -> None:
    _reading(monkeypatch, in_child=False)
    here = _run(imports, tmp_path / "here", monkeypatch, batch=batch, hold=hold)
    _reading(monkeypatch, in_child=True)
    spied: list[int] = []
    real = common.stream_from_child

    def spy(produce: Any) -> Any:
        spied.append(1)
        return real(produce)

    monkeypatch.setattr(common, "stream_from_child", spy)
    child = _run(imports, tmp_path / "child", monkeypatch, batch=batch, hold=hold)
    assert len(spied) == 4  # both platforms, each imported twice, all read in a child
    assert child == here
    assert child["x"]["reports"][0][2] == [1, 2]  # the fixture's two evenings


def _script(tmp_path: Path) -> Any:
    (tmp_path / "equiv.yaml").write_text(SCRIPT)
    return load_script(tmp_path / "equiv.yaml")


def test_the_childs_refusal_is_raised_here_as_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of users, not tweets: NotTweets, as the CLI expects, with the child's trace."""
    _reading(monkeypatch, in_child=True)
    path = tmp_path / "users.jsonl"
    path.write_bytes(b"\n".join(x_lines()[:1]) + b"\n" + orjson.dumps({"data": USERS}) + b"\n")
    archive = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(NotTweets, match="line 2 holds user profiles") as caught:
            import_x(archive, path, _script(tmp_path))
        assert isinstance(caught.value.__cause__, ChildFailed)
        assert "_parse_lines" in str(caught.value.__cause__)  # where, in the child
    finally:
        archive.close()


def test_the_childs_log_lines_are_logged_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
        ) -> None:
    _reading(monkeypatch, in_child=True)
    parent = os.getpid()

    def parse(advance: Any) -> Any:
        logging.getLogger("bot.test.child").warning("read in %s", os.getpid())
        advance(7)
        yield Parsed(1, error="not JSON")

    archive = Archive(tmp_path / "a.db")
    told: list[int] = []
    try:
        with caplog.at_level(logging.WARNING, logger="bot.test.child"):
            report = common.import_stream(archive, _script(tmp_path), parse, platform="x",
                                          host_names=set(), progress=told.append)
    finally:
        archive.close()
    pids = [int(r.getMessage().split()[-1]) for r in caplog.records if r.name == "bot.test.child"]
    assert len(pids) == 1 and pids[0] != parent  # logged once, by the child, emitted here
    assert report.bad_lines == [1] and told == [7]


def test_a_child_killed_mid_file_stops_the_import_and_a_rerun_completes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _reading(monkeypatch, in_child=True)
    monkeypatch.setattr(sessions, "BATCH", 2)
    monkeypatch.setattr(reading, "BATCH", 2)
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\n".join(x_lines()) + b"\n")
    script = _script(tmp_path)
    clean = Archive(tmp_path / "clean.db")
    try:
        import_x(clean, path, script)
        expected = dump(clean)
    finally:
        clean.close()

    lines = 0

    def killed_after_three_lines(advance: Any) -> Any:
        nonlocal lines
        from bot.platforms.x.importer import parse_file
        for item in parse_file(path, advance):
            if item.line > 3:
                os.kill(os.getpid(), signal.SIGKILL)  # in the child: as the OOM killer would
            lines = item.line
            yield item

    archive = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(ChildFailed, match="killed by signal 9"):
            common.import_stream(archive, script, killed_after_three_lines, platform="x",
                                 host_names=common.host_names_for(script, "x"))
        assert lines == 0  # the parse ran in the child, not here
        import_x(archive, path, script)
        assert dump(archive) == expected
    finally:
        archive.close()


def test_an_error_while_writing_kills_the_child_and_waits_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer fails mid-import: the child (still reading) is gone, not left running."""
    _reading(monkeypatch, in_child=True)
    pid_file = tmp_path / "child.pid"

    def one_batch_then_endless(parse: Any, chat_id: Any, host_names: Any, screen: Any) -> Any:
        pid_file.write_text(str(os.getpid()))
        yield Read(Batch(chat_id))
        while True:  # the reading never ends by itself; only the writer's error stops it
            pass

    def store_fails(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(common, "read_batches", one_batch_then_endless)
    monkeypatch.setattr(common, "store_batch", store_fails)
    archive = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(RuntimeError, match="disk full") as caught:
            common.import_stream(archive, _script(tmp_path), lambda advance: (), platform="x",
                                 host_names=set())
        # While the exception (and the frames it holds) is still alive, the child is gone.
        pid = int(pid_file.read_text())
        assert pid != os.getpid() and caught.value is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped: no such process any more
    finally:
        archive.close()


@pytest.mark.parametrize("in_child", [False, True])
def test_a_file_with_nothing_to_keep_still_moves_the_progress_bar(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_child: bool) -> None:
    _reading(monkeypatch, in_child=in_child)
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"{not json\n" + (b"{nope " + b"y" * 2000 + b"\n") * 3000)
    told: list[int] = []
    archive = Archive(tmp_path / "a.db")
    try:
        report = import_x(archive, path, _script(tmp_path), told.append)
    finally:
        archive.close()
    assert len(report.bad_lines) == 3001
    assert len(told) >= 3 and sum(told) == path.stat().st_size  # as the file is read


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"end": True}
    for _ in range(depth):
        value = {"deeper": value}
    return value


@pytest.mark.parametrize("in_child", [False, True])
def test_a_payload_nested_too_deep_to_store_is_a_bad_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_child: bool) -> None:
    """orjson reads 1,024 levels but writes 255: such a tweet (or host post) is refused alone."""
    _reading(monkeypatch, in_child=in_child)
    lines = x_lines()
    deep_chatter = _tweet(777_001, USERS[1], "A1 deep", 3, entities=_nested(300))
    deep_host = _tweet(777_002, USERS[0], "Thanks all #NHSSM", 59, entities=_nested(300))
    for tweet in (deep_chatter, deep_host):  # the standard library writes any depth
        lines.append(json.dumps({"data": [tweet], "includes": {"users": USERS},
                                 "__twarc": TWARC}).encode())
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    archive = Archive(tmp_path / "a.db")
    try:
        report = import_x(archive, path, _script(tmp_path))
        # The fixture's own deliberate bad line, then exactly the two deep ones.
        earlier = [n for n in report.bad_lines if n < len(lines) - 1]
        assert len(earlier) == 1
        assert report.bad_lines == [*earlier, len(lines) - 1, len(lines)]
        assert report.sessions == [1]
        assert archive.message("x", "777001") is None
        assert archive.message("x", "777002") is None
    finally:
        archive.close()


def _big_x_file(path: Path, minimum: int) -> None:
    """The golden evening's tweets, then chatter pages until the file passes `minimum` bytes."""
    lines = list(x_lines())
    size, n = sum(map(len, lines)), 0
    while size < minimum:
        page = orjson.dumps({"data": [
            _tweet(900_000 + n * 100 + i, USERS[1 + i % 2], f"chatter {n} {i} " + "x" * 200,
                   3 * 24 * 60 + n + i / 100) for i in range(100)],
            "includes": {"users": USERS}, "meta": {"result_count": 100}, "__twarc": TWARC})
        lines.append(page)
        size += len(page)
        n += 1
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_the_cli_reads_a_big_file_in_a_child(tmp_path: Path) -> None:
    """Real command, file over the threshold: the same archive as read in-process."""
    big = tmp_path / "big.jsonl"
    _big_x_file(big, common.READ_IN_CHILD_FROM + 1)
    (tmp_path / "equiv.yaml").write_text(SCRIPT)
    dumps = []
    for mode in ("child", "here"):
        db = tmp_path / f"{mode}.db"
        config = tmp_path / f"{mode}.toml"
        config.write_text(f'[archive]\npath = "{db}"\ntranscripts_dir = "{tmp_path / "t"}"\n')
        probe = ("import sys, bot.importers.common as c, bot.forking as f\n"
                 "real = c.stream_from_child\n"
                 "def spy(p):\n    print('READ IN A CHILD', file=sys.stderr)\n"
                 "    return real(p)\n"
                 "c.stream_from_child = spy\n"
                 + ("" if mode == "child" else "c.READ_IN_CHILD_FROM = 1 << 62\n")
                 + "from bot.cli import main\nsys.argv = ['tweetchat', *sys.argv[1:]]\nmain()\n")
        done = subprocess.run(
            [sys.executable, "-c", probe, "import", "x", str(big), "--script",
             str(tmp_path / "equiv.yaml")],
            env={**os.environ, "TWEETCHAT_CONFIG": str(config)}, cwd=ROOT,
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert ("READ IN A CHILD" in done.stderr) == (mode == "child")
        archive = Archive(db)
        try:
            dumps.append(dump(archive))
        finally:
            archive.close()
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["messages"]) > 1000


def test_a_reading_process_killed_is_one_plain_line_at_the_command(tmp_path: Path) -> None:
    """The command says what happened and what to do, not a traceback (UserError: one line)."""
    from bot.terminal import UserError
    from bot.terminal_imports import run_import

    file = tmp_path / "x.jsonl"
    file.write_bytes(b"\n")

    def killed(advance: Any) -> Any:
        raise ChildFailed("the forked process stopped before the end (killed by signal 9)")

    with pytest.raises(UserError, match=r"x.jsonl: the import stopped part way \(.*signal 9\)\); "
                                        r"what it stored is kept: run the same command again"):
        run_import(file, killed)


def test_a_refused_fork_is_not_called_a_file_the_user_cannot_read(tmp_path: Path) -> None:
    """An OSError without a file name (fork or pipe refused) is not "check the path"."""
    from bot.terminal import UserError
    from bot.terminal_imports import run_import

    file = tmp_path / "x.jsonl"
    file.write_bytes(b"\n")

    def refused(advance: Any) -> Any:
        raise OSError(12, "Cannot allocate memory")

    with pytest.raises(UserError, match=r"x.jsonl: the import stopped \(Cannot allocate memory\); "
                                        r"what it stored is kept: run the same command again$"):
        run_import(file, refused)
