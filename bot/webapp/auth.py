"""Who a moderator request comes from: a console session, or a script holding the token.

Signing in to the console with the moderator token creates a random session id. The
archive keeps only its hash, bound to the token it was made with, and an expiry; the
cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) holds only the id. Signing out
deletes the row, so the cookie is worthless even if it was copied; a new MODERATOR_TOKEN
makes every binding stale, so rotating the token signs everyone out.

A browser request riding on the cookie must prove it came from a console page: form posts
carry the session's CSRF value in a field, JSON API calls in the `X-CSRF-Token` header with
a same-origin `Origin` (or `Referer`) and an `application/json` body. Scripts send
`Authorization: Bearer <token>` and need none of that: there is no ambient cookie to abuse.

Wrong tokens are throttled per client address on every route that takes one: after ten in
ten minutes, every try from that address is refused with 429 until the lockout ends, and
each lockout in a row lasts twice as long as the one before (at most a day).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from bot.archive import moderator_sessions
from bot.clock import Clock
from bot.platforms.web.origin import client_address, is_https, is_same_origin
from bot.webapp.forms import read_form

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

COOKIE = "tweetchat_mod"
CSRF_HEADER = "X-CSRF-Token"
MAX_COOKIE = 128  # a session id is 43 characters; anything longer is not one of ours
_SESSION_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_COOKIE}}}")


@dataclass(frozen=True)
class Moderator:
    """An authenticated moderator request: how it was signed, and its name in the logs."""

    actor: str  # "console:<first 8 hex of the session hash>" or "api-token"
    session_id: str | None = None  # the cookie's value, for a console session

    @property
    def by_cookie(self) -> bool:
        """Whether a browser cookie (not a Bearer token) authenticated the request."""
        return self.session_id is not None

    @property
    def csrf(self) -> str:
        """The session's CSRF value (derived from its id, so nothing more is stored)."""
        return csrf_for(self.session_id) if self.session_id else ""


def csrf_for(session_id: str) -> str:
    """The CSRF value of a console session: an HMAC of a fixed label under its id."""
    return hmac.new(session_id.encode(), b"tweetchat-csrf", hashlib.sha256).hexdigest()


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def same_secret(supplied: str, expected: str) -> bool:
    """Whether a client's `supplied` secret is `expected`, compared in constant time.

    A header's bytes that are not UTF-8 reach us as lone surrogates, which plain encode()
    refuses (a 500 once); "surrogatepass" encodes any str, and such bytes never match.
    """
    return hmac.compare_digest(supplied.encode("utf-8", "surrogatepass"), expected.encode())


def _binding(token: str, id_hash: str) -> str:
    return hmac.new(token.encode(), b"tweetchat-session:" + id_hash.encode(),
                    hashlib.sha256).hexdigest()


def _refuse(status: int, reason: str, *, json: bool, retry_after: float | None = None
            ) -> web.HTTPException:
    """A refusal with a one-line reason, as JSON for the API or plain text for the console."""
    headers = {"Retry-After": str(max(1, int(retry_after + 0.999)))} if retry_after else None
    cls = {403: web.HTTPForbidden, 415: web.HTTPUnsupportedMediaType,
           429: web.HTTPTooManyRequests}[status]
    if json:
        return cls(text=orjson.dumps({"error": reason}).decode(),
                   content_type="application/json", headers=headers)
    return cls(text=reason, headers=headers)


class TokenThrottle:
    """Wrong moderator tokens per client address: ten in ten minutes, then a lockout.

    Lockouts back off: each one in a row doubles (10 min, 20, 40 ... at most 24 h); a
    right token resets the count.
    """

    def __init__(self, clock: Clock, *, limit: int = 10, window: float = 600.0,
                 max_lock: float = 86_400.0) -> None:
        self.clock, self.limit, self.window, self.max_lock = clock, limit, window, max_lock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._strikes: dict[str, int] = {}

    def wait(self, address: str) -> float:
        """Seconds this address must wait before its next try; 0 when it may try now."""
        until = self._locked_until.get(address, 0.0)
        return max(0.0, until - self.clock.monotonic())

    def failed(self, address: str) -> None:
        """Count a wrong token; lock the address out when it reaches the limit."""
        now = self.clock.monotonic()
        times = self._failures.setdefault(address, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        times.append(now)
        if len(times) >= self.limit:
            strikes = self._strikes.get(address, 0) + 1
            self._strikes[address] = strikes
            self._locked_until[address] = now + min(self.max_lock,
                                                    self.window * 2 ** (strikes - 1))
            times.clear()
            log.warning("moderator token: %d wrong tries from one address; locked out",
                        self.limit)
        if len(self._failures) > 10_000:  # forget quiet addresses so the maps stay small
            for key in [k for k, v in self._failures.items() if not v][:5_000]:
                del self._failures[key]

    def succeeded(self, address: str) -> None:
        """A right token: the address starts afresh."""
        for table in (self._failures, self._locked_until, self._strikes):
            table.pop(address, None)


class ModeratorAuth:
    """Sign-in, sign-out and the checks every moderator route runs."""

    def __init__(self, bot: Core) -> None:
        self.bot = bot
        self.throttle = TokenThrottle(bot.clock)

    # -- who is asking -----------------------------------------------------------------------

    def address(self, request: web.Request) -> str:
        """The client's address (behind a configured proxy, the one it reports)."""
        return client_address(request, self.bot.settings.web.trusted_proxies)

    def token_matches(self, supplied: str) -> bool:
        """Whether `supplied` is the moderator token, compared in constant time."""
        return bool(supplied) and same_secret(supplied, self.bot.moderator_token)

    def check_token(self, request: web.Request, supplied: str, *, json: bool) -> None:
        """Throttle, then compare: 429 while locked out, 403 for a wrong token."""
        address = self.address(request)
        wait = self.throttle.wait(address)
        if wait > 0:
            raise _refuse(429, "too many wrong moderator tokens from here; wait "
                          f"{int(wait // 60) + 1} minutes", json=json, retry_after=wait)
        if not self.token_matches(supplied):
            self.throttle.failed(address)
            raise _refuse(403, "moderator token missing or wrong", json=json)
        self.throttle.succeeded(address)

    def session(self, request: web.Request) -> Moderator | None:
        """The console session the cookie names, if it is live and bound to today's token."""
        session_id = request.cookies.get(COOKIE, "")
        if not _SESSION_ID.fullmatch(session_id):  # ours are URL-safe base64, 43 characters
            return None
        id_hash = _id_hash(session_id)
        found = moderator_sessions.find(self.bot.archive, id_hash)
        if found is None:
            return None
        binding, expires = found
        if expires <= self.bot.clock.now() or not hmac.compare_digest(
                binding, _binding(self.bot.moderator_token, id_hash)):
            moderator_sessions.revoke(self.bot.archive, id_hash)  # expired or token rotated
            return None
        return Moderator(actor=f"console:{id_hash[:8]}", session_id=session_id)

    def identify(self, request: web.Request, *, json: bool) -> Moderator | None:
        """Bearer token (checked and throttled), else the console cookie; None if neither."""
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, supplied = header.partition(" ")
            if scheme.lower() != "bearer":
                raise _refuse(403, "send the token as 'Authorization: Bearer <token>'",
                              json=json)
            self.check_token(request, supplied.strip(), json=json)
            return Moderator(actor="api-token")
        return self.session(request)

    # -- the checks a route runs --------------------------------------------------------------

    def require_api(self, request: web.Request, *, has_body: bool) -> Moderator:
        """A JSON API call: Bearer, or the cookie with CSRF header, same Origin, JSON body."""
        who = self.identify(request, json=True)
        if who is None:
            raise _refuse(403, "moderator token missing or wrong", json=True)
        if who.by_cookie:
            supplied = request.headers.get(CSRF_HEADER, "")
            if not same_secret(supplied, who.csrf):
                raise _refuse(403, f"a console call needs the {CSRF_HEADER} header from the "
                              "console page", json=True)
            if not is_same_origin(request, self.bot.settings.web.public_url):
                raise _refuse(403, "refused: this call did not come from the console's own "
                              "page (Origin)", json=True)
            if has_body and request.content_type != "application/json":
                raise _refuse(415, "send the body as Content-Type: application/json",
                              json=True)
        return who

    async def require_form(self, request: web.Request, files: tuple[str, ...] = ()
                           ) -> tuple[Moderator, dict[str, Any]]:
        """A console form post: Bearer, or the cookie with its CSRF field; (who, fields).

        With the cookie, an Origin (or Referer) from another site is refused too. Fields
        are text, but those named in `files` may be uploads (forms.read_form).
        """
        who = self.identify(request, json=False)
        if who is None:
            raise _refuse(403, "Moderator sign-in needed: the token is missing or wrong.",
                          json=False)
        form = await read_form(request, files=files)
        if who.by_cookie:
            supplied = str(form.get("csrf", ""))
            same = is_same_origin(request, self.bot.settings.web.public_url, missing_ok=True)
            if not same or not same_secret(supplied, who.csrf):
                raise _refuse(403, "Refused: this form did not come from the console page "
                              "(cross-site request). Reload /moderate and try again.",
                              json=False)
        return who, form

    # -- signing in and out -------------------------------------------------------------------

    def sign_in(self, request: web.Request, response: web.StreamResponse, supplied: str
                ) -> Moderator:
        """Check the token (throttled), store a new session, set its cookie on `response`."""
        self.check_token(request, supplied, json=False)
        now = self.bot.clock.now()
        moderator_sessions.prune(self.bot.archive, now)
        session_id = secrets.token_urlsafe(32)
        id_hash = _id_hash(session_id)
        hours = self.bot.settings.web.moderator_session_hours
        moderator_sessions.create(self.bot.archive, id_hash,
                                  _binding(self.bot.moderator_token, id_hash), now,
                                  now + timedelta(hours=hours))
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="Strict", path="/",
                            secure=is_https(request, self.bot.settings.web.public_url),
                            max_age=int(hours * 3600))
        who = Moderator(actor=f"console:{id_hash[:8]}", session_id=session_id)
        self.bot.archive.audit(actor=who.actor, action="console.sign-in", target="console",
                               detail="", at=now)
        return who

    def sign_out(self, who: Moderator, response: web.StreamResponse) -> None:
        """Revoke the session server-side and clear its cookie."""
        if who.session_id is not None:
            moderator_sessions.revoke(self.bot.archive, _id_hash(who.session_id))
            self.bot.archive.audit(actor=who.actor, action="console.sign-out",
                                   target="console", detail="", at=self.bot.clock.now())
        response.del_cookie(COOKIE, path="/")

    def sign_out_everywhere(self, who: Moderator, response: web.StreamResponse) -> int:
        """Revoke every console session (a lost laptop, without changing the token)."""
        gone = moderator_sessions.revoke_all(self.bot.archive)
        self.bot.archive.audit(actor=who.actor, action="console.sign-out-everywhere",
                               target="console", detail=f"{gone} sessions",
                               at=self.bot.clock.now())
        response.del_cookie(COOKIE, path="/")
        return gone


AUTH_KEY = web.AppKey("tweetchat_auth", ModeratorAuth)


def auth_for(app: web.Application, bot: Core) -> ModeratorAuth:
    """The application's one ModeratorAuth (made on first use, so the throttle is shared)."""
    if AUTH_KEY not in app:
        app[AUTH_KEY] = ModeratorAuth(bot)
    return app[AUTH_KEY]


__all__ = ["AUTH_KEY", "COOKIE", "CSRF_HEADER", "Moderator", "ModeratorAuth", "TokenThrottle",
           "auth_for", "csrf_for", "same_secret"]
