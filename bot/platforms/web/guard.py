"""What the room accepts from a participant: who they are, what they may say, how often.

Identity is a per-browser secret key (kept in the browser's localStorage) hashed into the
author id, so a display name never proves anything and nobody can edit another person's
message by choosing the same name. Every refusal is one sentence a participant can act on.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from bot.clock import Clock
from bot.moderation.names import NameRefused, screen_name

NAME_MAX = 60
KEY_MIN, KEY_MAX = 16, 200
MESSAGE_ID_MAX = 64  # the room's ids are 21 hex characters; anything past 64 is not one
# C0/C1 controls other than newline and tab: never meaningful in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Refused(Exception):
    """A participant's request the room declines; str(exc) is shown to them as is."""

    def __init__(self, message: str, *, code: str = "refused", status: int = 400,
                 retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after = retry_after  # seconds, for a 429's Retry-After header

    @property
    def retry_seconds(self) -> int | None:
        """Whole seconds before trying again (rounded up, at least 1); None: no wait given."""
        return max(1, int(self.retry_after) + 1) if self.retry_after else None

    def headers(self) -> dict[str, str]:
        """HTTP headers to send with this refusal: Retry-After (whole seconds) on a 429."""
        wait = self.retry_seconds
        return {"Retry-After": str(wait)} if wait is not None else {}


def author_id_for(key: object) -> str:
    """The public author id for a browser's secret key (the key itself never leaves us)."""
    if not isinstance(key, str) or not KEY_MIN <= len(key) <= KEY_MAX:
        raise Refused(_BAD_KEY, code="bad_key")
    try:  # a header's non-UTF-8 bytes arrive as lone surrogates, which encode() refuses
        raw = key.encode()
    except UnicodeEncodeError:
        raise Refused(_BAD_KEY, code="bad_key") from None
    digest = hashlib.sha256(b"tweetchat-web-author:" + raw).hexdigest()
    return "w" + digest[:24]


_BAD_KEY = "Your browser did not send a valid identity key; reload the page."


def clean_name(value: object, protected: Iterable[str] = ()) -> str:
    """The display name to show, screened like a message (bot.moderation.names).

    No personal data or abuse, no invisible or bidi tricks, nobody posing as the host, a
    co-host (`protected`) or a moderator; Refused with a sentence otherwise.
    """
    if value is None or value == "":
        raise Refused("Choose a display name before joining.", code="bad_name")
    if not isinstance(value, str):
        raise Refused("A display name is text; choose one.", code="bad_name")
    if len(value) > NAME_MAX * 4:  # before normalising: NFKC can grow text 18-fold
        raise Refused(f"Display names can be at most {NAME_MAX} characters.", code="bad_name")
    try:
        name = screen_name(value, protected)
    except NameRefused as exc:
        raise Refused(str(exc), code="bad_name") from None
    if len(name) > NAME_MAX:
        raise Refused(f"Display names can be at most {NAME_MAX} characters.", code="bad_name")
    return name


def clean_text(value: object, max_chars: int) -> str:
    """A message body: normalised, control characters out; Refused if empty or too long.

    Only a string is a message: a list, object, number or boolean is refused, never turned
    into its Python repr (and a list 1,000 deep no longer reaches str()'s recursion limit).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refused("The message text must be a string.", code="bad_text")
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()
    if not text:
        raise Refused("Type a message first.", code="empty")
    if len(text) > max_chars:
        raise Refused(
            f"Your message is {len(text)} characters; the limit is {max_chars}. "
            "Shorten it and send again.", code="too_long", status=413)
    return text


def message_ref(value: object, field: str) -> str | None:
    """A message id a participant names (`field`: reply_to, id): None when absent or empty.

    Ids are strings, as the room sent them; any other type, or one longer than any id the
    room makes, is Refused (400), never turned into text by str().
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MESSAGE_ID_MAX:
        raise Refused(f"'{field}' must be a message id: a string of at most {MESSAGE_ID_MAX} "
                      "characters, as the room sent it.", code="bad_id")
    return value


@dataclass
class RateLimiter:
    """At most `per_minute` requests per key (an author or an address) a sliding minute."""

    per_minute: int
    clock: Clock
    # How a refusal names who is over the rate, e.g. "You are" or "Your network is".
    who: str = "You are"
    doing: str = "sending messages"  # ... and what they are doing too fast

    def __post_init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float:
        """Seconds until `key` may send again; 0 when it may send now (nothing is counted)."""
        now = self.clock.monotonic()
        times = self._sent.get(key)
        if not times:
            return 0.0
        while times and now - times[0] >= 60:
            times.popleft()
        return 60 - (now - times[0]) if len(times) >= self.per_minute else 0.0

    def refusal(self, wait: float) -> Refused:
        """The 429 a participant sees, with roughly how long to wait."""
        return Refused(f"{self.who} {self.doing} too fast (at most {self.per_minute} a "
                       f"minute); wait about {max(1, int(wait) + 1)} seconds.",
                       code="rate_limited", status=429, retry_after=wait)

    def record(self, key: str) -> None:
        """Count one message for `key`."""
        now = self.clock.monotonic()
        self._sent.setdefault(key, deque()).append(now)
        if len(self._sent) > 50_000:  # forget idle keys so the map stays small
            for stale in [k for k, v in self._sent.items() if not v or now - v[-1] > 60][:10_000]:
                del self._sent[stale]

    def check(self, key: str) -> None:
        """Count one message; Refused (429) when `key` is over the rate."""
        wait = self.wait(key)
        if wait > 0:
            raise self.refusal(wait)
        self.record(key)


def check_all(limits: Iterable[tuple[RateLimiter, str]]) -> None:
    """Refused by the first limit that is over; otherwise one message counted in each.

    Nothing is counted when any limit refuses, so a refusal by the address limit does not
    also eat into the author's own minute.
    """
    pairs = list(limits)
    for limiter, key in pairs:
        wait = limiter.wait(key)
        if wait > 0:
            raise limiter.refusal(wait)
    for limiter, key in pairs:
        limiter.record(key)


__all__ = ["MESSAGE_ID_MAX", "RateLimiter", "Refused", "author_id_for", "check_all", "clean_name",
           "clean_text", "message_ref"]
