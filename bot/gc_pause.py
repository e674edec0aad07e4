"""Pausing Python's cyclic garbage collector around bulk work (imports, transcripts).

Bulk work allocates several containers per message and frees almost none of them into
cycles; the collector would rescan the growing heap over and over (a fifth of an import's
CPU time, a third of a 100k-message transcript's). Reference counting still frees memory
as usual, and the collector resumes (as it was) afterwards.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The block runs with the cyclic collector off; nested uses are harmless."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of `collector_paused`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return fn(*args, **kwargs)

    return wrapper
