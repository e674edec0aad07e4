"""Work done in a forked child of this process, where that is safe.

Two commands use a second core this way: a transcript's formats are written side by side
(bot/transcript/side_by_side.py), and an import reads its file in a child while this
process writes what the child sends (`stream_from_child`, used by bot/importers/common.py):
the parsing is Python and holds the GIL, SQLite's writing is C, so in two processes they
overlap where in one they take turns.

Forking is only safe in a process with a single thread: the child gets a copy of every
lock another thread might hold at that instant (logging's, the event loop's) and could wait
on it forever. The CLI works on its only thread and forks; the bot works beside its event
loop, so there everything runs in this process (`can_fork` is False).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar, cast

T = TypeVar("T")

# The child's pickles pass through a pipe in pieces of this size: the pipe's own buffer
# (64 KiB) plus one of these is all that waits between the two processes.
_PIPE_BUFFER = 1 << 16


# The read ends of the pipes of the children now running (see _stream).
_READ_ENDS: set[int] = set()


class ChildFailed(RuntimeError):
    """The child stopped before it finished (killed, out of memory) or could not say why."""


def can_fork() -> bool:
    """Whether this process may fork workers: POSIX, one thread, more than one core."""
    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and (os.cpu_count() or 1) > 1
    )


def stream_from_child(produce: Callable[[], Iterable[T]], *, now: bool = False
                      ) -> Generator[T, None, None]:
    """Yield what `produce()` yields, produced in a forked child while the caller works.

    Each item is pickled through a pipe, so items should be few and large (batches). The
    pipe is the back-pressure: a child ahead of its reader waits, so at most about one item
    is in flight. The child's log records are re-emitted here, in order with its items.

    An exception raised in the child is raised here (its type kept, so a caller's `except`
    still matches; the child's traceback is its `__cause__`). A child that dies without a
    word raises ChildFailed. Leaving the loop early (an exception in the caller, Ctrl-C)
    kills the child; it is always waited for. The child is forked at the first item asked
    for, or at once with `now` (several children started side by side).
    """
    stream = _stream(produce, started=now)
    if now:
        next(stream)  # up to the fork: from here, closing the stream reaps the child
    return cast(Generator[T, None, None], stream)


def _stream(produce: Callable[[], Iterable[T]], *, started: bool
            ) -> Generator[T | None, None, None]:
    """`stream_from_child`'s work; with `started`, a first None once the child is forked."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # pragma: no cover - runs in the child, which never returns (os._exit)
        # Its own read end, and those of children started before it (side by side): a
        # pipe read only by its parent tells its child at once when the parent is gone.
        for fd in (read_end, *_READ_ENDS):
            os.close(fd)
        _run_child(produce, write_end)
    os.close(write_end)
    _READ_ENDS.add(read_end)
    finished = False
    try:
        with os.fdopen(read_end, "rb", buffering=_PIPE_BUFFER) as pipe:
            if started:
                yield None  # forked: the caller's first step ends here
            while True:
                try:
                    kind, payload, records = pickle.load(pipe)
                except (EOFError, pickle.UnpicklingError):
                    break  # the child stopped, maybe part way through an item: see below
                for record in records:
                    logging.getLogger(record.name).handle(record)
                if kind == "item":
                    yield payload
                elif kind == "error":
                    error, child_traceback = payload
                    raise error from ChildFailed(f"in the child process:\n{child_traceback}")
                else:
                    finished = True
                    break
    finally:
        _READ_ENDS.discard(read_end)  # closed by the `with` above
        status = reap(pid, kill=not finished)
    if not finished:
        raise ChildFailed(f"the forked process stopped before the end ({_describe(status)})")


def _run_child(produce: Callable[[], Iterable[Any]], write_end: int) -> None:
    """The child: send every item, then the end (or the error), and leave by os._exit."""
    status = 1
    try:
        records = _collect_logs()
        with os.fdopen(write_end, "wb", buffering=_PIPE_BUFFER) as pipe:
            try:
                for item in produce():
                    # Pickled whole before any byte is sent: an item that cannot be pickled
                    # is an error the parent is told about, never half an item on the pipe.
                    data = pickle.dumps(("item", item, _drain(records)),
                                        pickle.HIGHEST_PROTOCOL)
                    pipe.write(data)
                    pipe.flush()  # the whole item now: the parent should not wait for the next
                    del data
                message: tuple[Any, ...] = ("end", None, _drain(records))
            except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
                message = ("error", (_picklable(exc), traceback.format_exc()), _drain(records))
            pipe.write(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
        status = 0
    except BaseException:  # noqa: BLE001, S110 - the parent sees the pipe end early
        pass
    finally:
        os._exit(status)


def _collect_logs() -> list[logging.LogRecord]:
    """Route every log record of the child into a list the parent will emit.

    The child writes nothing itself: a handler's stream may be locked by a thread that does
    not exist here, and the parent's display (a progress bar) owns the terminal.
    """
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        # Ctrl-C ends the child at once, quietly (the parent reports it). A parent that
        # ignores SIGINT (a background job) keeps the child ignoring it too.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # Formatted now: the arguments and exception may not survive pickling.
            record.msg, record.args = record.getMessage(), None
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
                record.exc_info = None
            records.append(record)

    collect = Collect()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        if logger.handlers:
            logger.handlers = [] if logger.propagate else [collect]
    logging.root.handlers = [collect]
    return records


def _drain(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    taken = records[:]
    records.clear()
    return taken


def _picklable(exc: Exception) -> Exception:
    """`exc` if it survives a round trip through pickle, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure means: send a plain description
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def reap(pid: int, *, kill: bool = False) -> int | None:
    """Wait for child `pid` (killed first when `kill`); its wait status, None if not ours."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover - it had exited already
            pass
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
        except ChildProcessError:
            return None


def exited_cleanly(status: int | None) -> bool:
    """Whether a wait status from `reap` is a child that exited with status 0."""
    return status is not None and os.waitstatus_to_exitcode(status) == 0


def _describe(status: int | None) -> str:
    if status is None:
        return "its exit status is unknown"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
