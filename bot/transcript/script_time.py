"""Script time: the instants of a paced rehearsal as the chat they stand for.

A rehearsal at pace 60 plays an hour's script in a minute. Its transcript reads like the
hour: an instant `s` real seconds after the session started is shown `s x pace` seconds
after it (a pause is not taken out: five real seconds of pause at pace 60 read as five
quiet script minutes, as the remaining posts moved five script minutes later). Live
sessions, imports and unpaced rehearsals are shown in real time, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.archive.records import SessionRow


def script_pace(session: SessionRow) -> float:
    """How many script seconds one real second of the session stands for (1: real time)."""
    return session.pace if session.rehearsal and session.pace > 0 else 1.0


def script_clock(session: SessionRow) -> Callable[[datetime], datetime] | None:
    """Real instant -> script instant for a paced rehearsal; None when times are real."""
    pace = script_pace(session)
    if pace == 1.0:
        return None
    anchor = session.started_at or session.scheduled_start

    def to_script(when: datetime) -> datetime:
        return anchor + (when - anchor) * pace

    return to_script


def script_minutes(session: SessionRow, real_minutes: float) -> int:
    """A real length in whole script minutes."""
    return max(0, round(real_minutes * script_pace(session)))
