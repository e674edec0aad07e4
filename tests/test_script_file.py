"""Script files are read bounded: a FIFO, a device or a directory is refused before it is
read (a FIFO in chats/ once hung `tweetchat run` in open(), deaf to Ctrl-C), and a file
is read to one byte past the 256 KB cap, never whole."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.script import ScriptError, load_script, load_scripts
from bot.yaml_lines import MAX_BYTES
from tests.conftest import write_script


def _in_thread(load: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """load() on a daemon thread, so a blocking open cannot hang the run."""
    outcome: list[object] = []

    def work() -> None:
        try:
            outcome.append(load())
        except BaseException as exc:  # noqa: BLE001 - handed to the test to judge
            outcome.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(10)  # a guard, not a timing: the fixed code returns without waiting
    return thread, outcome


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "chat.yaml"
    os.mkfifo(fifo)
    thread, outcome = _in_thread(lambda: load_script(fifo))
    if thread.is_alive():  # release the reader stuck in open(), then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join()
    assert outcome and isinstance(outcome[0], ScriptError), outcome
    assert "named pipe (FIFO), not a file" in str(outcome[0])


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a device"), ("/dev/null", "a device")])
def test_a_device_is_refused_before_it_is_read(path: str, kind: str) -> None:
    with pytest.raises(ScriptError) as err:
        load_script(path)
    assert str(err.value).startswith(f"{path}:1: this is {kind}, not a file")


def test_a_directory_named_like_a_script_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ScriptError) as err:
        load_script(tmp_path / "dir.yaml")
    assert "this is a directory, not a file" in str(err.value)


def test_an_oversized_file_is_read_only_to_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (4 * MAX_BYTES))
    read: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting_read)
    with pytest.raises(ScriptError) as err:
        load_script(big)
    assert "at most 256 KB" in str(err.value)
    assert sum(read) == MAX_BYTES + 1


def test_a_symlink_to_a_script_loads(tmp_path: Path) -> None:
    real = write_script(tmp_path / "real")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert load_script(link).id == "test"


def test_a_fifo_in_chats_is_one_skipped_script_and_the_rest_load(tmp_path: Path) -> None:
    chats = tmp_path / "chats"
    write_script(chats)
    os.mkfifo(chats / "zz-pipe.yaml")
    thread, outcome = _in_thread(lambda: load_scripts(chats))
    if thread.is_alive():
        os.close(os.open(chats / "zz-pipe.yaml", os.O_WRONLY | os.O_NONBLOCK))
        thread.join()
    assert outcome and isinstance(outcome[0], tuple), outcome
    scripts, issues = outcome[0]
    assert [s.id for s in scripts] == ["test"]
    assert len(issues) == 1 and "zz-pipe.yaml" in issues[0].path
    assert "named pipe" in issues[0].message
