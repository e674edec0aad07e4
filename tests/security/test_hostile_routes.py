"""Finding 10 of issue 12: no input makes a route answer 500 (or leak a traceback).

Before: `/archive/99999999999999999999`, `/api/sessions/<40 digits>`,
`state?session=<5000 digits>`, `/archive/search?q=%00`, deep JSON bodies and
`{"minutes": [5]}` answered 500. The corpus below is sent to every route, signed in as a
moderator (cookie and CSRF field, or Bearer) so the checks behind the sign-in are reached
too, with a live session running so the handlers have state to trip over.
"""

from __future__ import annotations

import json
import random
from typing import Any

from tests.web.conftest import TOKEN, sign_in

BEARER = {"Authorization": f"Bearer {TOKEN}"}
HUGE = "9" * 5000
IDS = ["0", "-1", "1", "99999999999999999999", "9" * 40, HUGE, "1e3", "%00", "%C0%AE",
       "..%2F..%2Fetc%2Fpasswd", "%F0%9F%92%A9", "1%00", " 1", "١٢"]
TEXTS = ["", "%00", "\x00", '"', "*", "AND", "NEAR(", "a" * 5000, "%FF%FE", "'; drop table x",
         "\"unterminated", "^", "q OR", "-", "NOT", ":", "(", ")", "{}", "a:b", "%2A%2A"]


def rng_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value: every type, odd numbers, nesting, unicode, controls."""
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, -(2**64), 10**30, 1, 5, 3600])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e308, 1e-308, 3.5, 60.0])
    if kind in (4, 5):
        return rng.choice(TEXTS + ["webtest", "pause", "extend", "stop", "resume", "skip",
                                   "Ann", "x" * 300])
    if kind == 6:
        return [rng_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    keys = ["command", "minutes", "chat", "session", "actor", "pace", "rehearsal", "key",
            "name", "text", "reply_to", "role"]
    return {rng.choice(keys): rng_json(rng, depth + 1) for _ in range(rng.randrange(1, 5))}


def bodies() -> list[bytes]:
    rng = random.Random(12)
    raw = [b"", b"null", b"[]", b"{", b"\x00", b"NaN", b'{"a": NaN}', b'{"minutes": 1e400}',
           b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
           b'{"command": "extend", "minutes": [5]}', b'{"chat": 5}', b'{"session": "1"}',
           b'{"key": 1, "name": 2, "text": 3}', b"\xff\xfe", b"x" * 2_000_000]
    return raw + [json.dumps(rng_json(rng)).encode() for _ in range(120)]


def forms(csrf: str) -> list[dict[str, str]]:
    rng = random.Random(13)
    fields = ["command", "minutes", "session", "chat", "pace", "rehearsal", "text", "id",
              "platform", "event", "decision", "key", "token"]
    out = []
    for _ in range(60):
        form = {rng.choice(fields): rng.choice(TEXTS + IDS) for _ in range(rng.randrange(1, 5))}
        form["csrf"] = csrf
        out.append(form)
    return out


async def test_no_route_answers_500_to_the_hostile_corpus(live) -> None:  # type: ignore[no-untyped-def]
    bot, client, sid = live
    csrf = await sign_in(client)
    statuses: dict[str, int] = {}

    async def hit(method: str, path: str, **kwargs: Any) -> None:
        async with client.request(method, path, allow_redirects=False, **kwargs) as resp:
            body = await resp.read()
        statuses[f"{method} {path[:80]} {str(kwargs)[:80]}"] = resp.status
        assert resp.status < 500, (method, path[:200], str(kwargs)[:200], resp.status, body[:300])
        assert b"Traceback" not in body

    for value in IDS:
        for path in (f"/archive/{value}", f"/api/sessions/{value}", f"/chats/{value}",
                     f"/chats/{value}.ics", f"/archive?chat={value}",
                     f"/api/chats/webtest/state?session={value}",
                     f"/api/chats/webtest/state?since={value}", f"/api/chats/{value}/state",
                     f"/moderate?session={value}", f"/moderate?msg={value}&err={value}"):
            await hit("GET", path)
        await hit("GET", "/api/chats/webtest/state", headers={"X-Room-Key": value * 3})
    for text in TEXTS:
        await hit("GET", "/archive/search", params={"q": text})
        await hit("GET", "/archive/search", params={"q": text, "chat": text})
    for body in bodies():
        for path in ("/api/control", "/api/sessions", "/api/reload",
                     "/api/chats/webtest/messages"):
            await hit("POST", path, data=body, headers={**BEARER,
                                                        "Content-Type": "application/json"})
    for form in forms(csrf):
        for path in ("/moderate/control", "/moderate/start", "/moderate/script",
                     "/moderate/hide", "/moderate/restore", "/moderate/review",
                     "/chats/webtest/certificate"):
            await hit("POST", path, data=form)
    assert len(statuses) > 500
    assert bot.live_session("webtest") in (sid, None)  # the bot is still answering
    assert (await client.get("/api/status")).status == 200
