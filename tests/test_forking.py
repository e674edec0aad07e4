"""`stream_from_child`: a generator run in a forked child, its items and errors here."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from bot.forking import ChildFailed, stream_from_child


def test_items_arrive_in_order_whole_and_from_another_process() -> None:
    def produce() -> Iterator[tuple[int, int, bytes]]:
        for n in range(5):
            yield n, os.getpid(), bytes([n]) * (300_000 + n)  # bigger than the pipe

    got = list(stream_from_child(produce))
    assert [n for n, _, _ in got] == list(range(5))
    assert {pid for _, pid, _ in got} != {os.getpid()}
    assert all(blob == bytes([n]) * (300_000 + n) for n, _, blob in got)


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickle calls it with one argument
        super().__init__(f"{a}-{b}")


def test_an_exception_that_cannot_be_pickled_arrives_as_a_description() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise Unpicklable(2, 3)

    got: list[int] = []
    with pytest.raises(RuntimeError, match="Unpicklable: 2-3") as caught:
        got.extend(stream_from_child(produce))
    assert got == [1]
    assert isinstance(caught.value.__cause__, ChildFailed)


def test_a_child_that_exits_without_a_word_is_a_failure_not_an_end() -> None:
    def produce() -> Iterator[int]:
        yield 1
        os._exit(3)

    with pytest.raises(ChildFailed, match="exit status 3"):
        list(stream_from_child(produce))


def test_leaving_early_kills_the_child() -> None:
    def produce() -> Iterator[int]:
        while True:
            yield os.getpid()

    stream = stream_from_child(produce)
    pid = next(stream)
    stream.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize("ignored", [False, True])
def test_the_child_keeps_an_ignored_ctrl_c_ignored(ignored: bool) -> None:
    """A background job ignores SIGINT: its reading child must not die of one either."""
    def produce() -> Iterator[str]:
        yield "started"
        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C reaches the whole process group
        yield "carried on"

    before = signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else
                           signal.default_int_handler)
    try:
        if ignored:
            assert list(stream_from_child(produce)) == ["started", "carried on"]
        else:
            with pytest.raises(ChildFailed, match="killed by signal 2"):
                list(stream_from_child(produce))
    finally:
        signal.signal(signal.SIGINT, before)
