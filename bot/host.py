"""Runs one session: posts each scripted item when due, on every platform, exactly once.

Every post goes through the outbox (the `posts` table): marked *sending* before the call
and *sent* with the platform's id after it. After a crash, a row left in *sending* is
reconciled against what the platform echoed back into the archive, so a restart neither
posts an item twice nor skips one still due. A send that fails is retried with backoff;
one that still cannot go out is recorded and reported to the moderators, never dropped.
A platform that refuses every post until a person acts (X's credits spent) holds its posts
*owed*: they are asked for again on a slow backoff and go out in order, once, when it takes
them again (bot/held_posts.py).

Controls (pause, resume, skip, extend, stop) change the remaining due times; each is
written to the session log, so the transcript and a restarted bot both see it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.archive import Archive, ItemRow
from bot.clock import Clock, SessionClock
from bot.held_posts import HeldPosts, HoldPolicy, Holds, Outcome
from bot.platforms.base import DuplicatePost, Platform, PlatformError, PlatformHeld
from bot.records import Author, Message, PostRef
from bot.repeats import unique_text

log = logging.getLogger(__name__)

CONTROLS = ("pause", "resume", "skip", "extend", "stop")


class ControlError(Exception):
    """A control that makes no sense now (resume when not paused...): one plain line."""


# What a control can mean: `extend nan` once froze a session (SQLite stored NULL and every
# resume raised), `extend 1e400` moved posts past the year 9999.
MAX_EXTEND_MINUTES = 24 * 60
MIN_PACE, MAX_PACE = 0.1, 3600.0


def bounded_number(value: object, what: str, low: float, high: float, example: str) -> float:
    """`value` as a finite number with low < value <= high (low == 0) or low <= value <= high.

    Strings are accepted only as plain decimals (a form field, a CLI argument); booleans,
    lists and the like are refused rather than coerced. Raises ControlError in one line.
    """
    number: float | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = float(value) if abs(value) < 10**15 else math.inf  # float(10**400) raises
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str) and len(value) <= 20:
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise ControlError(f"{what} must be a number, e.g. {example}")
    too_small = number <= low if low == 0 else number < low
    if too_small or number > high:
        floor = f"more than {low:g}" if low == 0 else f"at least {low:g}"
        raise ControlError(f"{what} must be {floor} and at most {high:g}, e.g. {example}")
    return number


def extend_minutes(value: object) -> float:
    """The minutes of an `extend`: finite, above zero, at most a day."""
    return bounded_number(value, "extend's minutes", 0, MAX_EXTEND_MINUTES, "extend 5")


def session_pace(value: object) -> float:
    """A session's pace (1 = real time, 60 = an hour in a minute), within MIN/MAX_PACE."""
    return bounded_number(value, "the pace", MIN_PACE, MAX_PACE, "--pace 60")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed post is tried, with the wait doubling from `base_seconds`."""

    attempts: int = 5
    base_seconds: float = 1.0
    hold: HoldPolicy = HoldPolicy()  # a platform refusing everything until a top-up


class SessionHost(HeldPosts):
    """Runs one session on its platforms: each item posted once, when due (see the module doc)."""

    def __init__(
        self,
        archive: Archive,
        session_id: int,
        platforms: Mapping[str, Platform],
        *,
        clock: Clock | None = None,
        retry: RetryPolicy = RetryPolicy(),
        on_alert: Callable[[int, str], Awaitable[None]] | None = None,
        repeat_text: str | None = None,
    ) -> None:
        self.archive = archive
        self.session_id = session_id
        self.platforms = dict(platforms)
        self.clock = clock or Clock()
        self.retry = retry
        self.on_alert = on_alert
        self.holds = Holds(retry.hold, self.clock)
        self._wake = asyncio.Event()
        self._stopping = False  # the bot is shutting down: leave the session resumable
        self._ended_early: str | None = None  # why it ends now, its close unposted
        session = archive.session(session_id)
        self.chat_id = session.chat_id
        origin = archive.session_origin(session_id)
        self.session_clock = SessionClock(origin or self.clock.now(), session.pace, self.clock)
        self._paused_at: float | None = None
        self.repeat_text = repeat_text  # the script's template for platforms refusing repeats
        self._number = self._session_number()

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Host the session until its close has gone out (or it is stopped)."""
        session = self.archive.session(self.session_id)
        now = self.clock.now()
        if self.archive.session_origin(self.session_id) is None:
            self.archive.update_session(self.session_id, origin=self.session_clock.origin)
        if session.started_at is None:
            self.archive.update_session(self.session_id, started_at=now, status="live")
            self.archive.log_session(self.session_id, "started", self._describe(session), now)
        else:
            self.archive.log_session(
                self.session_id, "resumed", "the bot restarted and resumed this session", now
            )
            if session.status == "paused":
                self._paused_at = self.session_clock.script_now()
        await self._reconcile_sending()
        while not self._stopping and self._ended_early is None:
            pending, owed = self._pending(), self._owed()
            if not pending and not owed:
                break
            if self._paused_at is not None:
                await self._wait(None)
                continue
            if await self._settle_holds(owed):
                continue
            retry_in = self.holds.seconds_to_next()
            if not pending:
                await self._wait(retry_in)
                continue
            item = pending[0]
            wait = (item.due_offset - self.session_clock.script_now()) / self.session_clock.pace
            if wait > 0:
                await self._wait(wait if retry_in is None else min(wait, retry_in))
                continue
            await self._post_item(item)
        if not self._stopping:
            ended = self.clock.now()
            self.archive.update_session(self.session_id, status="ended", ended_at=ended)
            self.archive.log_session(self.session_id, "ended",
                                     self._ended_early or "closing post sent", ended)

    def end_now(self, why: str) -> None:
        """End the session at once, its close unposted: every item not out is skipped."""
        for item in self._pending():
            self.archive.set_item_status(self.session_id, item.key, "skipped")
        self._ended_early = why
        self._wake.set()

    def shutdown(self) -> None:
        """The bot is stopping: finish the current write, leave the session resumable."""
        self._stopping = True
        self._wake.set()

    def _session_number(self) -> int:
        """This session's place among the chat's hosted sessions (1 for the first)."""
        this = self.archive.session(self.session_id)
        return sum(1 for s in self.archive.sessions(chat_id=self.chat_id)
                   if not s.rehearsal and s.scheduled_start <= this.scheduled_start
                   and s.id <= self.session_id) or 1

    def _text_for(self, platform: Platform, item: ItemRow) -> str:
        """The item's text on one platform: unique each week where repeats are refused."""
        if not (platform.capabilities.refuses_repeats and self.repeat_text):
            return item.text
        session = self.archive.session(self.session_id)
        zone = ZoneInfo(session.timezone) if session.timezone else UTC
        local = session.scheduled_start.astimezone(zone)
        return unique_text(self.repeat_text, item.text, local, self._number)

    def _describe(self, session) -> str:  # type: ignore[no-untyped-def]
        kind = f"rehearsal at pace {session.pace:g}" if session.rehearsal else "live"
        return f"{kind} on {', '.join(self.platforms)}"

    def _pending(self) -> list[ItemRow]:
        return [i for i in self.archive.items(self.session_id)
                if i.status in ("pending", "sending", "failed") and not self._given_up(i)]

    def _given_up(self, item: ItemRow) -> bool:
        rows = self.archive.outbox(self.session_id, item.key)
        return item.status == "failed" and all(r["status"] in ("failed", "sent", "skipped")
                                                for r in rows)

    async def _wait(self, wall_seconds: float | None) -> None:
        self._wake.clear()
        waiter: asyncio.Future[object] = asyncio.ensure_future(self._wake.wait())
        tasks = {waiter}
        if wall_seconds is not None:
            tasks.add(asyncio.ensure_future(self.clock.sleep(wall_seconds)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()

    # -- posting ---------------------------------------------------------------------------

    async def _post_item(self, item: ItemRow) -> None:
        outbox = self.archive.outbox(self.session_id, item.key)
        owed = [r for r in outbox if r["status"] in ("pending", "sending")]
        rows = [r for r in owed if r["platform"] in self.platforms]
        absent = [r["platform"] for r in owed if r["platform"] not in self.platforms]
        lateness = self.session_clock.script_now() - item.due_offset
        if lateness > 60 * self.session_clock.pace:
            self.archive.log_session(
                self.session_id, "late",
                f"{item.key} posted {lateness / 60:.1f} script minutes after its due time",
                self.clock.now(),
            )
        results = await asyncio.gather(
            *(self._send(item, row["platform"]) for row in rows)
        )
        for name in absent:
            await self._not_running(item, name)
        if not outbox:  # a session with no platform at all: nothing can go out
            await self._tell("post_failed", f"{item.key} could not be posted: the session has "
                             "no platform to post on")
        now = self.clock.now()
        earlier = set() if owed else {r["status"] for r in outbox}  # nothing left to ask
        if "sent" in results or "sent" in earlier:
            # Sent only when a platform accepted it now, or (no row still owed) earlier.
            self.archive.set_item_status(self.session_id, item.key, "sent", posted_at=now)
        elif "owed" in results or "owed" in earlier:  # a held platform still owes it
            self.archive.set_item_status(self.session_id, item.key, "owed")
        else:
            self.archive.set_item_status(self.session_id, item.key, "failed")

    async def _not_running(self, item: ItemRow, platform_name: str) -> None:
        """An item owed to a platform this bot is not running: failed, and said so.

        Recovering a session under a bot whose settings lack one of its platforms used to
        mark the item sent though nothing went out. Left pending, it would be due forever;
        failed with an alert, the moderators learn what was not posted and where.
        """
        await self._failed(item, platform_name,
                           f"the {platform_name} platform is not running in this bot "
                           "(add it to the settings, or post this item by hand)")

    async def _send(self, item: ItemRow, platform_name: str, *, owed: bool = False) -> Outcome:
        """Post one item on one platform, with retries; `owed`: paying back a held post."""
        hold = self.holds.get(platform_name)
        if hold is not None and not owed:
            # Queued behind the posts already owed, without asking: order is kept and no
            # request is spent on a platform that refuses everything.
            self.archive.mark_owed(self.session_id, item.key, platform_name, hold.reason)
            return "owed"
        platform = self.platforms[platform_name]
        reply_to, thread = None, None
        if item.number is not None and platform.capabilities.threads:
            thread = item.text[:90]
        error = ""
        text = self._text_for(platform, item)
        for attempt in range(self.retry.attempts):
            self.archive.mark_sending(self.session_id, item.key, platform_name)
            try:
                ref = await platform.post(text, reply_to=reply_to, new_thread=thread)
            except PlatformHeld as exc:
                await self._held(item, platform_name, str(exc), exc.retry_at)
                return "owed"
            except PlatformError as exc:
                error = str(exc)
                log.warning("posting %s on %s failed (attempt %d): %s",
                            item.key, platform_name, attempt + 1, error)
                if exc.retryable or isinstance(exc, DuplicatePost):
                    # A timeout or 5xx may come after the platform accepted the post, and a
                    # duplicate may be our own post: look before sending it again.
                    found = await self._already_there(platform_name, text)
                    if found is not None:
                        self._reconciled(item, found, text, "it had gone out despite the error")
                        return "sent"
                if not exc.retryable:
                    break
                await self.clock.sleep(self.retry.base_seconds * 2**attempt)
                continue
            self.archive.mark_sent(
                self.session_id, item.key, ref, self.clock.now(),
                message=self._host_message(ref, text),
            )
            return "sent"
        await self._failed(item, platform_name, error)
        return "failed"

    async def _failed(self, item: ItemRow, platform_name: str, error: str) -> None:
        """Record that `item` did not go out on one platform, and alert the moderators."""
        self.archive.mark_failed(self.session_id, item.key, platform_name, error)
        await self._tell("post_failed", f"{item.key} could not be posted on {platform_name}: "
                         f"{error}")

    async def _tell(self, kind: str, alert: str, level: int = logging.ERROR) -> None:
        """Write `alert` to the session log and tell the moderators."""
        self.archive.log_session(self.session_id, kind, alert, self.clock.now())
        log.log(level, "%s (session %s)", alert, self.session_id)
        if self.on_alert is not None:
            await self.on_alert(self.session_id, alert)

    def _host_message(self, ref: PostRef, text: str) -> Message:
        return Message(
            platform=ref.platform, id=ref.id,
            author=Author(ref.platform, "host", self.archive.session(self.session_id).host_name
                          or "Host", is_bot=True),
            text=text, created=self.clock.now(), thread_id=ref.thread_id, url=ref.url,
            raw={"posted_by": "tweetchat", "ref": ref.__dict__},
        )

    def _since(self) -> datetime:
        """The earliest moment a post of this session can have been made."""
        session = self.archive.session(self.session_id)
        return self.session_clock.origin if session.rehearsal else session.scheduled_start

    async def _already_there(self, platform_name: str, text: str) -> PostRef | None:
        """The bot's own post of `text` in this session, by the platform's evidence.

        That is its echo in the archive (the bot's account, the text as sent), else the
        platform itself.
        """
        platform = self.platforms[platform_name]
        since = self._since()
        texts = list(dict.fromkeys([text, platform.as_sent(text)]))
        echo = self.archive.host_echo(platform_name, texts, since, platform.account_id)
        found: PostRef | None = None
        if echo is not None:
            found = PostRef(platform_name, echo[0], thread_id=echo[1])
        else:
            try:
                found = await platform.find_post(text, since)
            except Exception as exc:  # looking must never end the session; resend instead
                log.warning("could not look for %s's earlier post: %s", platform_name, exc)
        if found is not None and self.archive.post_owner(platform_name, found.id) is not None:
            return None  # already another item's post (an identical text, another week)
        return found

    def _reconciled(self, item: ItemRow, ref: PostRef, text: str, why: str) -> None:
        self.archive.mark_sent(self.session_id, item.key, ref, self.clock.now(),
                               message=self._host_message(ref, text))
        owed = [r for r in self.archive.outbox(self.session_id, item.key)
                if r["status"] in ("pending", "sending") and r["platform"] in self.platforms]
        if not owed:  # the item is out only when no platform still waits for it
            self.archive.set_item_status(self.session_id, item.key, "sent",
                                         posted_at=self.clock.now())
        self.archive.log_session(self.session_id, "reconciled",
                                 f"{item.key} on {ref.platform}: {why}", self.clock.now())
        log.info("reconciled %s on %s: %s", item.key, ref.platform, why)

    async def _reconcile_sending(self) -> None:
        """Settle the rows a crash left in 'sending'.

        If the post reached the platform (its echo is in the archive, or the platform shows
        it) the row is marked sent; otherwise it is left pending, to be sent again.
        """
        for item in self.archive.items(self.session_id):
            for row in self.archive.outbox(self.session_id, item.key):
                if row["status"] != "sending" or row["platform"] not in self.platforms:
                    continue
                text = self._text_for(self.platforms[row["platform"]], item)
                found = await self._already_there(row["platform"], text)
                if found is not None:
                    self._reconciled(item, found, text, "it had gone out before the restart")

    # -- controls --------------------------------------------------------------------------

    def control(self, command: str, minutes: float | None = None, actor: str = "moderator") -> str:
        """Apply a moderator's control; returns a one-line description of what changed."""
        now_script = self.session_clock.script_now()
        if command == "pause":
            if self._paused_at is not None:
                raise ControlError("the session is already paused; use resume")
            self._paused_at = now_script
            self.archive.update_session(self.session_id, status="paused")
            detail = "paused: nothing more is posted until resume"
        elif command == "resume" and self._paused_at is None and self.holds.held():
            # Not paused but held (credits spent): after a top-up, ask again now.
            detail = f"resumed: asking {', '.join(self.holds.ask_now())} for the owed posts now"
        elif command == "resume":
            if self._paused_at is None:
                raise ControlError("the session is not paused")
            gap = now_script - self._paused_at
            self._paused_at = None
            self.archive.shift_pending(self.session_id, gap)
            self.archive.update_session(self.session_id, status="live")
            # In script minutes, as extend counts them (a rehearsal's 5 s at pace 60 is 5 min).
            detail = f"resumed: remaining posts moved {gap / 60:.1f} min later"
            self.holds.ask_now()  # a pause is a natural moment to have topped up
        elif command == "skip":
            pending = self._pending()
            if not pending:
                raise ControlError("nothing left to post")
            item = pending[0]
            self.archive.set_item_due(self.session_id, item.key, min(item.due_offset, now_script))
            detail = f"skip: {item.key} goes out now"
        elif command == "extend":
            if minutes is None:
                raise ControlError("extend needs a number of minutes, e.g. extend 5")
            minutes = extend_minutes(minutes)
            self.archive.shift_pending(self.session_id, minutes * 60)
            detail = f"extended: remaining posts moved {minutes:g} min later"
        elif command == "stop":
            for item in self._pending():
                if item.key != "close":
                    self.archive.set_item_status(self.session_id, item.key, "skipped")
                else:
                    self.archive.set_item_due(self.session_id, "close", now_script)
            self._paused_at = None
            self.archive.update_session(self.session_id, status="live")
            detail = "stop: remaining questions skipped, the close goes out now"
        else:
            raise ControlError(f"unknown control '{command}'; use one of {', '.join(CONTROLS)}")
        self.archive.log_session(self.session_id, f"control:{command}", f"{detail} (by {actor})",
                                 self.clock.now())
        self._wake.set()
        return detail
