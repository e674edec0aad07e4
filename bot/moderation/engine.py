"""The moderation engine: policy + detectors -> verdicts -> archive state and platform actions.

The host calls `screen()` for every batch of incoming events after they are stored. It is
built to be cheap on the common path: a clean message costs the detectors and nothing
else (no database read); only messages with findings, and edits, touch the archive.

Whatever a platform cannot do (ActionResult.done is False) is still done in the archive,
so transcripts and search honour it, and becomes an open "platform" item in the review
queue: never silently nothing. Replays and backfills are harmless: an event already
recorded for the same check and spans is not recorded, nor acted on, twice.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.archive import moderation_store as store
from bot.archive.records import StoredMessage
from bot.archive.store import Archive
from bot.moderation.conduct import detect_abuse
from bot.moderation.crisis import detect_crisis
from bot.moderation.detectors import Finding, detect_identifiers
from bot.moderation.policy import ACTIONS, Policy
from bot.moderation.spam import (
    SpamContext,
    detect_deny_links,
    detect_link_only,
    detect_mass_mentions,
    detect_repeats_and_floods,
)
from bot.platforms.base import Platform
from bot.records import Action, ActionResult, Event

__all__ = ["ApplyResult", "ModerationEngine", "Notice", "ScreenReport", "Verdict", "mask_text"]

log = logging.getLogger(__name__)

_IDENTIFIERS = ("nhs_number", "phone", "email", "postcode", "dob")
_OUTCOME = {"hide": "hidden", "delete": "hidden", "redact": "redacted", "hold": "open",
            "flag": "open"}


@dataclass(frozen=True)
class Verdict:
    """What the policy makes of one message: its findings and the action they call for."""

    findings: tuple[Finding, ...]
    action: str | None  # the most severe action of the checks that matched; None when clean
    redacted_text: str | None  # the text with every "redact" finding masked, or None
    review: bool = False  # a moderator should look at it
    notify: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether nothing was found."""
        return not self.findings

    @property
    def checks(self) -> tuple[str, ...]:
        """The names of the checks that matched, each once, in finding order."""
        return tuple(dict.fromkeys(f.check for f in self.findings))


@dataclass(frozen=True)
class Notice:
    """Someone to tell.

    Moderators are told through the platform's mod log; telling an author needs a private
    channel the contract does not have yet, so the host gets these.
    """

    to: str  # "moderators" | "author"
    platform: str
    message_id: str
    author_id: str
    text: str


@dataclass
class ApplyResult:
    """What applying a verdict did: the events recorded, the platform's answers, notices."""

    event_ids: list[int] = field(default_factory=list)
    results: list[tuple[Action, ActionResult]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


@dataclass
class ScreenReport:
    """What screening a batch did: how many were judged, which were acted on, notices."""

    screened: int = 0
    actioned: list[tuple[str, str, str]] = field(default_factory=list)  # platform, id, action
    notices: list[Notice] = field(default_factory=list)


def mask_text(text: str, findings: Sequence[Finding], masks: dict[str, str]) -> str:
    """Replace each finding's span with its check's mask; overlapping spans merge."""
    spans = sorted((f.start, f.end, masks.get(f.check, "[removed]")) for f in findings)
    merged: list[list] = []
    for start, end, mask in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, mask])
    out, pos = [], 0
    for start, end, mask in merged:
        out.append(text[pos:start])
        out.append(mask)
        pos = end
    out.append(text[pos:])
    return "".join(out)


class ModerationEngine:
    """Judges messages against the policy and records and carries out the verdicts."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy.default()
        # chat id -> the chat script's own signpost text (the policy's is the default)
        self.signposts: dict[str, str] = {}
        self.context = SpamContext(self.policy.spam)
        senders = self.policy.spam.for_senders()
        # Deep enough that the collector's replay of a message (screened once on arrival,
        # again in its batch) still finds it, so nothing is counted twice.
        self.sender_context = SpamContext(senders, max_per_author=10 * max(
            senders.flood_messages, senders.repeats))
        self._keys = itertools.count()
        self._severity = {a: i for i, a in enumerate(ACTIONS)}
        self._masks = {name: c.mask for name, c in self.policy.checks.items()}

    # -- the pure part ----------------------------------------------------------------------

    def verdict(self, message_text: str, author_key: str | None, at: datetime,
                context: SpamContext | None = None, *, message_key: str | None = None,
                sender_key: str | None = None) -> Verdict:
        """Judge one message.

        `context` carries per-author history for repeat/flood checks; pass None (e.g. for
        an edit) to skip them. `sender_key` names the client address behind the author,
        when the platform knows one: its history (in `sender_context`, with limits scaled
        up) catches a flood spread over many made-up authors.
        """
        checks = self.policy.checks
        text = message_text
        found: list[Finding] = []
        if any(c in checks for c in _IDENTIFIERS):
            found += [f for f in detect_identifiers(text, phone_region=self.policy.phone_region)
                      if f.check in checks]
        if "abuse" in checks:
            found += detect_abuse(text, self.policy.words)
        if context is not None and author_key and ("spam_repeat" in checks
                                                   or "spam_flood" in checks):
            key = message_key or f"anon:{next(self._keys)}"
            found += [f for f in detect_repeats_and_floods(text, author_key, key, at, context)
                      if f.check in checks]
            if sender_key:
                already = {f.check for f in found}
                found += [f for f in detect_repeats_and_floods(text, sender_key, key, at,
                                                               self.sender_context)
                          if f.check in checks and f.check not in already]
        if "link_only" in checks:
            found += detect_link_only(text)
        if "mass_mention" in checks:
            found += detect_mass_mentions(text, self.policy.spam.max_mentions)
        if "deny_link" in checks:
            found += detect_deny_links(text, self.policy.deny_domains)
        if "crisis" in checks:
            found += detect_crisis(text)
        if not found:
            return Verdict((), None, None)
        fired = [checks[c] for c in dict.fromkeys(f.check for f in found)]
        action = min((c.action for c in fired), key=self._severity.__getitem__)
        to_mask = [f for f in found if checks[f.check].action == "redact"]
        redacted = mask_text(text, to_mask, self._masks) if to_mask else None
        notify = tuple(dict.fromkeys(n for c in fired for n in c.notify))
        return Verdict(tuple(found), action, redacted, any(c.needs_review for c in fired), notify)

    # -- the side effects -------------------------------------------------------------------

    async def apply(self, archive: Archive, platform_obj: Platform | None,
                    stored_message: StoredMessage, verdict: Verdict, now: datetime) -> ApplyResult:
        """Record the verdict, set the message's state and ask the platform to act."""
        result = ApplyResult()
        if verdict.clean:
            return result
        msg = stored_message
        state = store.message_state(archive, msg.platform, msg.id)
        if state is None:
            raise KeyError(f"no message {msg.platform}:{msg.id} in the archive")
        existing = {(e["check_name"], e["spans"]) for e in
                    store.events_for_message(archive, msg.platform, msg.id)}
        rows = []
        by_check: dict[str, list[Finding]] = defaultdict(list)
        for f in verdict.findings:
            by_check[f.check].append(f)
        for check_name, findings in by_check.items():
            check = self.policy.checks[check_name]
            spans = [[f.start, f.end] for f in findings]
            if (check_name, store.dumps(spans)) in existing:
                continue  # a replay or an edit that did not change what matched
            rows.append({
                "platform": msg.platform, "message_id": msg.id, "session_id": msg.session_id,
                "check_name": check_name, "action": check.action, "spans": spans,
                "reason": findings[0].reason,
                "status": "open" if check.needs_review else _OUTCOME[check.action],
                "actor": "bot", "at": now,
            })
        # A moderator's redaction stands whatever the author edits: only they lift it.
        kept = state["redacted_text"] is not None and store.moderator_redacted(
            archive, msg.platform, msg.id)
        # An edit can keep the same spans but change the text around them: re-mask it.
        remask = not kept and verdict.redacted_text is not None and (
            verdict.redacted_text != state["redacted_text"])
        if not rows and not remask:
            return result
        if rows:
            result.event_ids = store.add_events(archive, rows)

        action = verdict.action
        hidden = state["hidden"] or action in ("hide", "delete")
        held = state["held"] or action == "hold"
        redacted = verdict.redacted_text if verdict.redacted_text is not None and not kept \
            else state["redacted_text"]
        store.set_state(archive, msg.platform, msg.id, hidden=hidden, held=held,
                        redacted_text=redacted)

        reason = ", ".join(f.reason for f in _first_per_check(verdict.findings))
        if platform_obj is not None:
            wanted = self._asks(action or "flag", msg, reason, redacted, set(by_check),
                                {str(r["check_name"]) for r in rows})
            for act in wanted:
                outcome = await _act(platform_obj, act)
                result.results.append((act, outcome))
                if not outcome.done:
                    result.event_ids += store.add_events(archive, [{
                        "platform": msg.platform, "message_id": msg.id,
                        "session_id": msg.session_id, "check_name": "platform",
                        "action": "flag", "spans": [], "status": "open", "actor": "bot",
                        "at": now, "reason": f"{platform_obj.name} could not {act.kind} "
                        f"({outcome.detail or 'no detail'}); done in the archive and "
                        "transcripts only",
                    }])
        line = (f"{action}: {reason} in message {msg.platform}:{msg.id} by {msg.author_name}"
                + (f" (session {msg.session_id})" if msg.session_id is not None else ""))
        crisis = "crisis" in by_check and any(r["check_name"] == "crisis" for r in rows)
        signpost = self.signpost_for(platform_obj) if crisis else ""
        if crisis:
            sent = ActionResult(False, "no platform")
            if platform_obj is not None:
                act = Action("signpost", message_id=msg.id, author_id=msg.author_id,
                             reason="crisis", text=signpost)
                sent = await _act(platform_obj, act)
                result.results.append((act, sent))
            # Moderators need the words to judge how to reach out (masked where the policy
            # masks); the log never gets them.
            other = f"{line}. " if len(by_check) > 1 else ""  # the other checks' verdict
            where = f"message {msg.platform}:{msg.id}" + (
                f", session {msg.session_id}" if msg.session_id is not None else "")
            said = redacted if redacted is not None else msg.text
            line = (f'{other}crisis: {msg.author_name} may be at risk ({where}): "{said}". '
                    "The signpost was " + ("sent to them privately." if sent.done else
                                          f"not sent ({sent.detail}): please reach out "
                                          "another way."))
        for to in verdict.notify:
            text = line if to == "moderators" else (signpost or _author_line(action))
            result.notices.append(Notice(to, msg.platform, msg.id, msg.author_id, text))
        if platform_obj is not None and "moderators" in verdict.notify:
            await _act(platform_obj, Action("modlog", message_id=msg.id, text=line))
        log.info("moderation %s: %s in message %s:%s", action, ", ".join(by_check),
                 msg.platform, msg.id)  # names the checks, never the text
        return result

    def _asks(self, action: str, msg: StoredMessage, reason: str, redacted: str | None,
              matched: set[str], new: set[str]) -> list[Action]:
        """What the platform is asked to do about one message.

        The verdict's action (a flag asks nothing), a timeout for a flood, and the
        `platform_actions` (report, mute, block) of each check that matched anew, once each.
        """
        wanted = []
        if action != "flag":
            wanted.append(Action(action, message_id=msg.id,  # type: ignore[arg-type]
                                 author_id=msg.author_id, reason=reason, text=redacted))
            flood = self.policy.checks.get("spam_flood")
            if "spam_flood" in matched and flood and flood.options.get("timeout_minutes"):
                wanted.append(Action("timeout", author_id=msg.author_id, reason=reason,
                                     minutes=int(flood.options["timeout_minutes"])))
        kinds = dict.fromkeys(kind for name in sorted(new) if name in self.policy.checks
                              for kind in self.policy.checks[name].platform_actions)
        wanted += [Action(kind, message_id=msg.id, author_id=msg.author_id,  # type: ignore[arg-type]
                          reason=reason) for kind in kinds]
        return wanted

    async def screen(self, archive: Archive, platform: Platform | None, events: Sequence[Event],
                     session_id: int | None, now: datetime) -> ScreenReport:
        """Judge a batch of stored events (created/edited) and act on what needs it."""
        report = ScreenReport()
        for event in events:
            msg = event.message
            if msg is None or event.kind not in ("created", "edited") or msg.author.is_bot:
                continue
            report.screened += 1
            created = event.kind == "created"
            sender = msg.raw.get("sender") if isinstance(msg.raw, Mapping) else None
            verdict = self.verdict(
                msg.text, f"{msg.platform}:{msg.author.id}", msg.created,
                self.context if created else None, message_key=f"{msg.platform}:{msg.id}",
                sender_key=f"{msg.platform}~{sender}" if isinstance(sender, str) else None)
            if verdict.clean and created:
                continue
            stored = archive.message(msg.platform, msg.id)
            if stored is None or stored.is_host:
                continue
            later = stored.text != msg.text
            if later:
                # The archive holds a later edit than this event: judge what is stored.
                verdict = self.verdict(stored.text, None, msg.created, None)
            if (later or not created) and self._edited_after_moderator(archive, stored, now):
                report.actioned.append((msg.platform, msg.id, "flag"))
            elif verdict.clean:
                self._clear_stale_redaction(archive, stored)
            if verdict.clean:
                continue
            applied = await self.apply(archive, platform, stored, verdict, now)
            if applied.event_ids or applied.results:
                report.actioned.append((msg.platform, msg.id, verdict.action or "flag"))
                report.notices += applied.notices
        if report.screened:
            self.context.prune(now)
            self.sender_context.prune(now)
        return report

    def signpost_for(self, platform_obj: Platform | None) -> str:
        """The signpost text: the chat script's own, else the policy's."""
        chat = platform_obj.context.chat_id if platform_obj is not None else ""
        check = self.policy.checks.get("crisis")
        default = str(check.options.get("signpost", "")) if check else ""
        return self.signposts.get(chat) or default

    def _edited_after_moderator(self, archive: Archive, stored: StoredMessage,
                                now: datetime) -> bool:
        """Whether this edit is of a message a moderator redacted (True) or not.

        Their mask stays, and they are asked to look at the new text: one open review item
        however many edits.
        """
        if stored.redacted_text is None or not store.moderator_redacted(
                archive, stored.platform, stored.id):
            return False
        if not any(e["check_name"] == "edited" and e["status"] == "open" for e in
                   store.events_for_message(archive, stored.platform, stored.id)):
            store.add_events(archive, [{
                "platform": stored.platform, "message_id": stored.id,
                "session_id": stored.session_id, "check_name": "edited", "action": "flag",
                "spans": [], "status": "open", "actor": "bot", "at": now,
                "reason": "edited after a moderator redacted it; the public still sees the "
                          "redacted text: restore to show the new text or redact it again"}])
        return True

    def _clear_stale_redaction(self, archive: Archive, stored: StoredMessage) -> None:
        """An edit removed what the engine masked: show the new text, not a stale mask.

        Never called for a moderator's redaction (see `_edited_after_moderator`).
        """
        state = store.message_state(archive, stored.platform, stored.id)
        if state and state["redacted_text"] is not None:
            store.set_state(archive, stored.platform, stored.id, hidden=state["hidden"],
                            held=state["held"], redacted_text=None)


def _first_per_check(findings: Sequence[Finding]) -> list[Finding]:
    seen: dict[str, Finding] = {}
    for f in findings:
        seen.setdefault(f.check, f)
    return list(seen.values())


def _author_line(action: str | None) -> str:
    return {
        "redact": "Part of your message was hidden to protect someone's details.",
        "hold": "Your message is waiting for a moderator.",
        "hide": "Your message was hidden by a moderator rule.",
        "delete": "Your message was removed by a moderator rule.",
    }.get(action or "", "A moderator will look at your message.")


async def _act(platform: Platform, action: Action) -> ActionResult:
    try:
        return await platform.act(action)
    except Exception as exc:  # noqa: BLE001 - a failing adapter must not stop screening
        log.warning("%s failed to %s message %s: %s", platform.name, action.kind,
                    action.message_id, exc)
        return ActionResult(False, f"error: {exc}")
