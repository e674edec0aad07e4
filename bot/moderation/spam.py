"""Spam checks: repeats, floods, link-only posts, mass mentions and deny-listed links.

Repeats and floods need to remember what each author said recently, so these checks take
a `SpamContext`: a small per-author history bounded by time and length. History is keyed
on message ids and uses the message's own timestamp, so a replayed or backfilled message
is counted once and a backfill after a gap is judged by when things were really posted.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

from bot.moderation.detectors import Finding

__all__ = [
    "SpamContext", "SpamSettings", "detect_deny_links", "detect_link_only",
    "detect_mass_mentions", "detect_repeats_and_floods", "normalise_for_repeat",
]

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@./])(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|uk|info|biz|ly|gd|xyz|ru|top)"
    r"(?:/[^\s<>\"']*)?(?![\w@])",
    re.IGNORECASE,
)
_ANY_DOMAIN = re.compile(
    r"(?<![\w@./])(?:[a-z0-9-]+\.)+[a-z]{2,24}(?:/[^\s<>\"']*)?(?![\w@])", re.IGNORECASE
)
_MENTION = re.compile(r"(?<![\w@])@\w{1,32}|<@!?\d+>")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_FILLER = re.compile(r"[\s\W_]+")
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class SpamSettings:
    """The limits for repeats, floods and mass mentions."""

    repeats: int = 3  # the same text this many times ...
    repeat_window: float = 600.0  # ... within this many seconds is a repeat
    flood_messages: int = 8  # this many messages ...
    flood_seconds: float = 60.0  # ... within this many seconds is a flood
    max_mentions: int = 5  # more @mentions than this is mass-mentioning
    # One client address behind many authors (a web room's made-up keys) is judged too,
    # with this many times the limits: 30 staff behind one hospital's NAT, each writing
    # twice a minute, must not trip it together (80 a minute, 30 repeats by default).
    sender_factor: int = 10

    def for_senders(self) -> SpamSettings:
        """The same limits scaled for everything one address sends."""
        f = self.sender_factor
        return replace(self, repeats=self.repeats * f, flood_messages=self.flood_messages * f)


@dataclass
class _Entry:
    key: str
    at: float
    text: str


@dataclass
class SpamContext:
    """Per-author recent history. One per engine; `max_per_author` bounds memory."""

    settings: SpamSettings = field(default_factory=SpamSettings)
    max_per_author: int = 64
    history: dict[str, deque[_Entry]] = field(default_factory=dict)

    def remember(self, author_key: str, message_key: str, at: datetime, text: str) -> deque[_Entry]:
        """Add a message to its author's recent history (once, even if replayed) and return it."""
        entries = self.history.setdefault(author_key, deque(maxlen=self.max_per_author))
        # Live messages arrive in time order, so only an out-of-order one (a replay or a
        # backfill) needs the scan for a message already counted.
        fresh = not entries or entries[-1].at < at.timestamp()
        if fresh or not any(e.key == message_key for e in entries):
            entries.append(_Entry(message_key, at.timestamp(), normalise_for_repeat(text)))
        return entries

    def prune(self, now: datetime) -> None:
        """Forget authors with nothing recent (call now and then on a long-running bot)."""
        horizon = now.timestamp() - max(self.settings.repeat_window, self.settings.flood_seconds)
        for author in [a for a, es in self.history.items() if not es or es[-1].at < horizon]:
            del self.history[author]


def normalise_for_repeat(text: str) -> str:
    """"A1 great point!!" and "a1 great point" are the same message for repeat counting."""
    return _FILLER.sub(" ", text.lower()).strip()


def detect_repeats_and_floods(
    text: str, author_key: str, message_key: str, at: datetime, context: SpamContext
) -> list[Finding]:
    """Remember the message, then find a repeat of the same text or a flood of messages."""
    s = context.settings
    entries = context.remember(author_key, message_key, at, text)
    now = at.timestamp()
    found = []
    norm = normalise_for_repeat(text)
    if norm:
        same = sum(1 for e in entries if e.text == norm and now - s.repeat_window <= e.at <= now)
        if same >= s.repeats:
            found.append(Finding("spam_repeat", 0, len(text), "",
                                 f"same text posted {same} times in {s.repeat_window:g}s"))
    recent = sum(1 for e in entries if now - s.flood_seconds < e.at <= now)
    if recent >= s.flood_messages:
        found.append(Finding("spam_flood", 0, len(text), "",
                             f"{recent} messages in {s.flood_seconds:g}s"))
    return found


def _urls(text: str, *, any_domain: bool = False) -> list[re.Match[str]]:
    """Links with a scheme or www, plus bare domains.

    Any TLD counts when checking a deny list, where only listed domains count; common TLDs
    otherwise, so "e.g." is not a link.
    """
    found = list(_URL.finditer(text))
    taken = [(m.start(), m.end()) for m in found]
    for m in (_ANY_DOMAIN if any_domain else _BARE_DOMAIN).finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            found.append(m)
    return found


def _host(url: str) -> str:
    url = url.rstrip(_TRAILING)
    if not re.match(r"https?://", url, re.IGNORECASE):
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def detect_link_only(text: str) -> list[Finding]:
    """A post that is nothing but links (and hashtags/mentions): a drive-by advert."""
    if "." not in text:
        return []
    urls = _urls(text)
    if not urls:
        return []
    rest = text
    for m in sorted(urls, key=lambda m: m.start(), reverse=True):
        rest = rest[: m.start()] + " " + rest[m.end():]
    rest = _MENTION.sub(" ", _HASHTAG.sub(" ", rest))
    if _FILLER.sub("", rest):
        return []
    return [Finding("link_only", 0, len(text), "", "a post with nothing but links")]


def detect_mass_mentions(text: str, max_mentions: int) -> list[Finding]:
    """More than `max_mentions` @mentions in one post, as one finding spanning them."""
    if text.count("@") + text.count("<@") <= max_mentions:
        return []
    mentions = list(_MENTION.finditer(text))
    if len(mentions) <= max_mentions:
        return []
    return [Finding("mass_mention", mentions[0].start(), mentions[-1].end(), "",
                    f"{len(mentions)} mentions (more than {max_mentions})")]


def detect_deny_links(text: str, deny: frozenset[str]) -> list[Finding]:
    """Links to a denied domain or any of its subdomains."""
    if not deny or "." not in text:
        return []
    found = []
    for m in _urls(text, any_domain=True):
        host = _host(m.group())
        parts = host.split(".")
        if any(".".join(parts[i:]) in deny for i in range(len(parts) - 1)):
            end = m.start() + len(m.group().rstrip(_TRAILING))
            found.append(Finding("deny_link", m.start(), end, m.group(), "link to a denied domain"))
    return found
