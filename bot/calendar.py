"""Calendar invites: one .ics per chat, a weekly recurring event in the chat's own zone.

The event carries the chat's TZID and a VTIMEZONE built from the zone's real transitions,
so a calendar keeps the Wednesday 20:00 London chat at 20:00 local on both sides of each
clock change. Skipped dates become EXDATEs and the script's last date becomes UNTIL.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, vRecur

from bot.schedule import occurrences
from bot.script import DAYS, ChatScript

log = logging.getLogger(__name__)

PRODID = "-//tweetchat//chat invites//EN"
_BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def chat_calendar(script: ChatScript, *, now: datetime, room_url: str = "") -> bytes:
    """The .ics for a chat: VEVENT (weekly RRULE or a single date) plus its VTIMEZONE."""
    model = script.model
    sch = model.schedule
    zone = script.zone
    first = _first_local_start(script, now)
    event = Event.new(
        uid=f"{script.id}@tweetchat",
        summary=f"{model.title} {model.hashtag}" if model.hashtag not in model.title
        else model.title,
        start=first,
        end=first + script.duration,
        stamp=now.astimezone(UTC),
        description=_description(script, room_url),
        url=room_url or None,
        location=room_url or None,
    )
    if sch.weekly is not None:
        rule: dict[str, object] = {"FREQ": "WEEKLY", "BYDAY": _BYDAY[DAYS.index(sch.weekly.day)]}
        if sch.last is not None:
            # UNTIL must be UTC when DTSTART has a TZID (RFC 5545 3.3.10).
            last_start = datetime.combine(sch.last, sch.weekly.start, tzinfo=zone)
            rule["UNTIL"] = last_start.astimezone(UTC)
        event.add("rrule", vRecur(rule))
        skipped = sorted(d for d in sch.skip if d >= first.date())
        if skipped:
            event.add("exdate", [datetime.combine(d, sch.weekly.start, tzinfo=zone)
                                 for d in skipped])
    for reminder in script.reminders[:1]:
        _add_alarm(event, reminder)
    cal = Calendar.new(prodid=PRODID, name=model.title, method="PUBLISH",
                       uid=f"{script.id}-calendar@tweetchat")
    cal.add_component(event)
    # VTIMEZONE from the zone's transitions around the chat's dates (a few years is plenty).
    cal.add_missing_timezones(first_date=first.date() - timedelta(days=366),
                              last_date=_last_date(script, first.date()))
    return cal.to_ical()


def _first_local_start(script: ChatScript, now: datetime) -> datetime:
    """DTSTART: the next occurrence, or the script's own first date when it has none left."""
    sch = script.model.schedule
    upcoming = occurrences(script, now, 1)
    if upcoming:
        return upcoming[0].local_start
    if sch.once is not None:
        once = sch.once
        return once.replace(tzinfo=script.zone) if once.tzinfo is None else once.astimezone(
            script.zone)
    assert sch.weekly is not None
    day = sch.last or sch.first or now.astimezone(script.zone).date()
    return datetime.combine(day, sch.weekly.start, tzinfo=script.zone)


def _last_date(script: ChatScript, first: date) -> date:
    last = script.model.schedule.last
    if last is not None:
        return last + timedelta(days=2)
    return first + timedelta(days=5 * 366)


def _description(script: ChatScript, room_url: str) -> str:
    lines = [script.model.description.strip()] if script.model.description.strip() else []
    lines.append(f"Follow and answer with {script.hashtag}: A1, A2 ... for Q1, Q2 ...")
    if room_url:
        lines.append(f"Join the room: {room_url}")
    return "\n\n".join(lines)


def _add_alarm(event: Event, before: timedelta) -> None:
    from icalendar import Alarm

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "The chat starts soon")
    alarm.add("trigger", -before)
    event.add_component(alarm)


__all__ = ["chat_calendar"]
