"""Screening: every stored batch of messages checked against the moderation policy.

The canteen rule ("if you wouldn't say it in the canteen, don't type it"): the collector
stores first, then hands each batch here; the web room awaits `screen_now` before it shows a
message, so a held message is never seen and a redacted one only ever masked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.archive import Archive
from bot.clock import Clock
from bot.collector import Listener
from bot.platforms.base import Platform
from bot.records import Event
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.host import SessionHost
    from bot.moderation import ModerationEngine
    from bot.script import ChatScript

log = logging.getLogger(__name__)

Alert = Callable[[int | None, str], Awaitable[None]]


class PolicyProblem(Exception):
    """The moderation policy file cannot be used: one plain line saying what to fix."""


class Screening:
    """The moderation engine, wired to the archive, the clock, the live hosts and alerts."""

    def __init__(self, settings: Settings, archive: Archive, clock: Clock,
                 hosts: Mapping[int, SessionHost], alert: Alert) -> None:
        self.settings = settings
        self.archive = archive
        self.clock = clock
        self.hosts = hosts  # the bot's live hosts: a paced rehearsal's clock lives there
        self.alert = alert
        self.engine: ModerationEngine | None = None
        # chat id -> the script's own safety signpost text (shared with the engine)
        self.signposts: dict[str, str] = {}

    def start(self) -> None:
        """Load the policy (the built-in NHS defaults when the file is missing)."""
        if not self.settings.moderation.enabled:
            return
        from bot.moderation import ModerationEngine, PolicyError, load_policy

        path = Path(self.settings.moderation.policy)
        try:
            policy = load_policy(path) if path.is_file() else None
        except PolicyError as exc:
            raise PolicyProblem(str(exc).splitlines()[0] + " (fix the moderation policy)"
                                ) from None
        if policy is None:
            log.warning("moderation policy %s not found; using the built-in NHS defaults", path)
        self.engine = ModerationEngine(policy)
        self.engine.signposts = self.signposts

    def names_for(self, script: ChatScript) -> Callable[[str], str] | None:
        """How a chat's platform display names are screened (None when moderation is off).

        A name posing as the script's host or a co-host is marked.
        """
        if self.engine is None:
            return None
        from bot.moderation.shown_names import NameScreen

        return NameScreen(self.engine.policy, [script.model.host, *script.model.hosts])

    def listeners(self) -> list[Listener]:
        """What a collector calls after each stored batch (nothing when moderation is off)."""
        return [self.screen_now] if self.engine is not None else []

    async def screen_now(self, platform: Platform, events: Sequence[Event],
                         session_id: int | None) -> None:
        """Screen events at once; moderators hear about what needs them."""
        if self.engine is None:
            return
        events = self.on_script_time(events, session_id)
        report = await self.engine.screen(self.archive, platform, events, session_id,
                                          self.clock.now())
        for notice in report.notices:
            if notice.to == "moderators":
                await self.alert(session_id, notice.text)

    def on_script_time(self, events: Sequence[Event], session_id: int | None
                       ) -> Sequence[Event]:
        """In a paced rehearsal, restate message times in script time.

        So rate-based checks (floods, repeats) judge a minute of rehearsal as the hour it
        stands for.
        """
        host = self.hosts.get(session_id) if session_id is not None else None
        if host is None or host.session_clock.pace == 1:
            return events
        clock = host.session_clock
        origin, pace = clock.origin, clock.pace
        out = []
        for event in events:
            msg = event.message
            if msg is not None:
                msg = replace(msg, created=origin + (msg.created - origin) * pace)
            out.append(replace(event, message=msg))
        return out
