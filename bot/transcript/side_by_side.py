"""Independent pieces of work run side by side in forked processes, where that is safe.

A transcript's formats all read the same finished model and each writes its own file, so
on a machine with two or more cores they can be written at the same time: the model is
built once, then `fork` gives each lane a copy-on-write view of it (no pickling, no second
read of the archive). At 100k messages on 2 cores the HTML page (and the chart) in one lane,
JSON, CSV and Markdown in the other (`write.COSTS` balances them), the four take a little
over half the wall time of one after another.

Forking is only safe in a process with a single thread (`bot.forking.can_fork`): the CLI
renders on its only thread and forks; the bot renders in its publisher thread beside the
event loop, so there the pieces run one after another.

A lane that fails in its child (killed, out of memory, a bug) is run again in the parent,
so a bug still raises its own exception with its traceback, and nothing is left unwritten.

`Ahead` does the same for one value the parent needs later (the summary's reading of the
texts, while the parent attributes the session): computed in a child, sent back pickled,
computed in the parent instead when no child could do it.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, NoReturn, Protocol, TypeVar, runtime_checkable

from bot.forking import can_fork, exited_cleanly, reap

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Piece:
    """One independent piece of work and a rough relative cost, used to balance the lanes."""

    name: str
    cost: float
    run: Callable[[], object]


def lanes(pieces: Sequence[Piece], count: int) -> list[list[Piece]]:
    """Split `pieces` into at most `count` lanes of similar total cost (largest first).

    Each lane keeps its pieces in their original order; empty lanes are dropped.
    """
    order = {id(p): i for i, p in enumerate(pieces)}
    buckets: list[list[Piece]] = [[] for _ in range(max(1, count))]
    totals = [0.0] * len(buckets)
    for p in sorted(pieces, key=lambda p: -p.cost):
        i = totals.index(min(totals))
        buckets[i].append(p)
        totals[i] += p.cost
    return [sorted(b, key=lambda p: order[id(p)]) for b in buckets if b]


@runtime_checkable
class Reconnects(Protocol):
    """What the pieces read through (the archive), reconnected in every lane after the fork.

    `release` closes the connection before anything forks (False: it must stay open, so
    nothing forks), then each process, this one included, calls `reconnect` to open its
    own: no lane ever uses a connection made in another process.
    """

    def release(self) -> bool: ...  # noqa: D102 - as the class says

    def reconnect(self) -> None: ...  # noqa: D102 - as the class says


def run_side_by_side(pieces: Sequence[Piece], *, fork: bool | None = None,
                     reconnects: Reconnects | None = None,
                     after_failure: Callable[[int], object] | None = None) -> None:
    """Run every piece: in forked lanes when `fork` (default: `can_fork()`), else in turn.

    The first lane runs in this process while the others run in children; every child is
    waited for, and a child that did not finish cleanly has its lane run again here, after
    `after_failure(pid)` (to clear what it left half done). Pieces that read through
    `reconnects` get a connection of their own in each lane.
    """
    if fork is None:
        fork = can_fork()
    groups = lanes(pieces, min(len(pieces), os.cpu_count() or 1) if fork else 1)
    if len(groups) < 2 or (reconnects is not None and not reconnects.release()):
        for p in pieces:
            p.run()
        return
    children: list[tuple[int, list[Piece]]] = []
    try:
        try:
            for group in groups[1:]:
                children.append((_fork_lane(group, reconnects), group))
        finally:
            if reconnects is not None:
                reconnects.reconnect()
        for p in groups[0]:
            p.run()
    finally:
        failed = [(pid, group) for pid, group in children if not _finished(pid)]
    for pid, group in failed:
        log.warning("a worker writing %s failed; writing it here instead",
                    ", ".join(p.name for p in group))
        if after_failure is not None:
            after_failure(pid)
        for p in group:
            p.run()


def _fork_lane(group: list[Piece], reconnects: Reconnects | None) -> int:
    """Start a child that runs `group` and exits; returns its pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    _child(partial(_run_all, group, reconnects))


def _run_all(group: list[Piece], reconnects: Reconnects | None = None) -> None:
    if reconnects is not None:
        reconnects.reconnect()
    for p in group:
        p.run()


def _child(work: Callable[[], object]) -> NoReturn:
    """Run `work` in a forked child, then end the child: status 0 if it finished.

    The child must never return into the caller's stack (it would carry on as a second
    copy of the command), so every way out is os._exit.
    """
    status = 1
    try:
        work()
        status = 0
    except BaseException:  # noqa: BLE001 - reported, then redone by the parent
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001, S110 - nothing more a dying child can do
            pass
    finally:
        os._exit(status)


def _finished(pid: int) -> bool:
    """Wait for child `pid`; whether it exited with status 0."""
    return exited_cleanly(reap(pid))


class Ahead(Generic[T]):
    """A value worked out in a forked child while this process goes on; call it to get it.

    `make` runs in the child (where `fork`, default `can_fork()`) and its result comes back
    pickled through a pipe when this process asks for it. A child that fails, or no child,
    means `make` runs here instead, when asked: the value is the same either way, only
    where and when it is computed differs. Call `cancel` if the value will never be asked
    for (an error on the way), so the child does not linger.
    """

    def __init__(self, make: Callable[[], T], *, fork: bool | None = None) -> None:
        self._make = make
        self._pid: int | None = None
        self._fd = -1
        self._value: list[T] = []  # [value] once known
        if fork is None:
            fork = can_fork()
        if fork:
            self._pid, self._fd = _fork_maker(make)

    def __call__(self) -> T:
        """The value: from the child (waiting for it if need be), else computed here."""
        if not self._value:
            found: list[T] = []
            if self._pid is not None:
                with os.fdopen(self._fd, "rb") as pipe:
                    try:  # unpickled as it arrives: never the whole pickle in memory too
                        found.append(pickle.load(pipe))
                    except Exception:  # noqa: BLE001 - a child that died mid-way: see below
                        found.clear()
                if not _finished(self._pid):
                    found.clear()
                    log.warning("a worker computing ahead failed; computing it here instead")
                self._pid = None
            self._value.append(found[0] if found else self._make())
        return self._value[0]

    def cancel(self) -> None:
        """Stop the child, if one is still working: the value will not be asked for."""
        if self._pid is not None:
            os.close(self._fd)
            reap(self._pid, kill=True)
            self._pid = None


def _fork_maker(make: Callable[[], object]) -> tuple[int, int]:
    """Start a child that sends `make()` pickled down a pipe; returns (pid, read end)."""
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    os.close(read)
    _child(partial(_send, make, write))


def _send(make: Callable[[], object], fd: int) -> None:
    data = pickle.dumps(make(), protocol=pickle.HIGHEST_PROTOCOL)
    with os.fdopen(fd, "wb") as pipe:
        pipe.write(data)
