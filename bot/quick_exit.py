"""Ending a one-shot command without freeing what it built, object by object.

A 100,000-message transcript leaves a couple of million small objects behind (records,
entries, texts, times). Freeing them one by one when the render returns, then Python's
own teardown of everything imported, took about half a second after the last file was
written: time the user waits for nothing, since the operating system takes a process's
memory back at once when it ends.

So the process entry (`bot.cli.main`, `process_entry`) lets a command that ends the
process once it returns say so (`end_at_once`); what it built is then kept
(`keep_until_exit`) instead of freed, and `finish` ends the process with `os._exit`
after flushing the standard streams and the logs. Nothing else is skipped that the
transcript command needs: its files are written and renamed, its archive connection
closed and its forked workers reaped before it returns (SQLite commits are durable
without a close), and it starts no thread.

Only there. A test calling the Typer app in its own process (CliRunner) never went
through `process_entry`, so nothing is kept and nothing ends; the bot's publisher thread
never asks, so a long-running process keeps nothing either.
"""

from __future__ import annotations

import gc
import os
import sys
import threading

_entry: list[threading.Thread] = []  # the thread of the process entry, once it is one
_armed: list[bool] = []  # [True] once a command asked to end the process at once
_kept: list[object] = []  # what that command built, left for the OS to take back


def process_entry() -> None:
    """Called by the `tweetchat` process's entry point (never by a library or a test)."""
    _entry[:] = [threading.current_thread()]


def end_at_once() -> None:
    """The command running now ends the process when it returns: skip freeing what it built.

    A no-op except on the process entry's thread (a test's CliRunner, another thread).
    """
    if _entry and _entry[0] is threading.current_thread():
        _armed[:] = [True]


def ending_at_once() -> bool:
    """Whether this process ends with `finish` as soon as the command returns."""
    return bool(_armed)


def keep_until_exit(value: object) -> None:
    """Keep `value` alive until the process ends, if it ends at once (else: nothing)."""
    if _armed and _entry and _entry[0] is threading.current_thread():
        _kept.append(value)
        # Built with the cyclic collector paused (bot.gc_pause), it is all in the youngest
        # generation: the first collection after the pause would walk every object of it
        # (0.2 s at 100,000 messages) only to free nothing. Frozen, collections skip it.
        gc.freeze()


def finish(status: int) -> None:
    """End the process with `status` now, if a command asked to; else return."""
    if not _armed:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more to say there
            pass
    import logging  # here: loading it costs every command that never ends this way

    logging.shutdown()
    os._exit(status)
