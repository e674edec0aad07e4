"""Finding 4 of issue 12: moderator identity and CSRF on the JSON API.

Before: the console's cookie held the raw token, logout revoked nothing, the JSON API took
the cookie with any content type and no Origin check (a page on another port paused a
session through a moderator's browser), the log's actor came from the body, and wrong
Bearer tokens were never throttled. Each test here failed against that code.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import moderator_sessions
from tests.web.conftest import TOKEN, running_app, until

BEARER = {"Authorization": f"Bearer {TOKEN}"}
STATE_CHANGING = (("/api/control", {"command": "pause"}),
                  ("/api/sessions", {"chat": "webtest", "pace": 60}),
                  ("/api/reload", None))


def origin(client: TestClient) -> str:
    """The console's own origin, as a browser on its page would send it."""
    return str(client.make_url("/")).rstrip("/")


def session_cookie(set_cookie: str) -> str:
    found = re.search(r"tweetchat_mod=([^;]+)", set_cookie)
    assert found, set_cookie
    return found.group(1)


async def login(client: TestClient) -> tuple[str, str]:
    """(session id from the cookie, CSRF value from the page)."""
    r = await client.post("/moderate/login", data={"token": TOKEN}, allow_redirects=False)
    assert r.status == 303
    sid = session_cookie(r.headers["Set-Cookie"])
    page = await (await client.get("/moderate")).text()
    found = re.search(r'data-csrf="([0-9a-f]{64})"', page)
    assert found
    return sid, found.group(1)


async def test_the_cookie_holds_a_server_side_session_never_the_token(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    r = await client.post("/moderate/login", data={"token": TOKEN}, allow_redirects=False)
    header = r.headers["Set-Cookie"]
    sid = session_cookie(header)
    assert TOKEN not in header and len(sid) >= 40
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert attribute in header, attribute
    assert "Secure" not in header  # plain http on 127.0.0.1, with no https public URL
    assert moderator_sessions.count(bot.archive) == 1
    stored = Path(bot.settings.archive.path).read_bytes() + \
        Path(f"{bot.settings.archive.path}-wal").read_bytes()
    assert sid.encode() not in stored and TOKEN.encode() not in stored  # only a hash is kept
    log = [row["action"] for row in bot.archive.db.table("audit_log").rows]
    assert "console.sign-in" in log


async def test_secure_cookie_when_the_public_url_is_https(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock,
                           public_url="https://chat.example.org") as (_bot, client):
        r = await client.post("/moderate/login", data={"token": TOKEN}, allow_redirects=False)
        assert r.status == 303 and "Secure" in r.headers["Set-Cookie"]


async def test_logout_revokes_the_session_server_side(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    sid, csrf = await login(client)
    r = await client.post("/moderate/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status == 303
    assert moderator_sessions.count(bot.archive) == 0
    # A copy of the old cookie is now worth nothing, on the console and on the API.
    stolen = {"Cookie": f"tweetchat_mod={sid}"}
    page = await (await client.get("/moderate", headers=stolen)).text()
    assert 'action="/moderate/login"' in page and "Moderator console" not in page
    r = await client.post("/api/control", json={"command": "pause"}, headers={
        **stolen, "X-CSRF-Token": csrf, "Origin": origin(client)})
    assert r.status == 403
    r = await client.post("/moderate/start", data={"chat": "webtest", "csrf": csrf},
                          headers=stolen, allow_redirects=False)
    assert r.status == 403 and bot.live_session("webtest") is None


async def test_sessions_expire_on_the_server(room, clock) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    await login(client)
    clock.advance(11 * 3600)
    assert "Moderator console" in await (await client.get("/moderate")).text()
    clock.advance(3600 + 1)  # past the 12 hours, though the browser may keep the cookie
    assert "Moderator console" not in await (await client.get("/moderate")).text()
    assert moderator_sessions.count(bot.archive) == 0


async def test_sessions_survive_a_restart_and_die_with_a_rotated_token(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock) as (_bot, client):
        sid, _ = await login(client)
    cookie = {"Cookie": f"tweetchat_mod={sid}"}
    async with running_app(tmp_path, clock=clock) as (_bot, client):
        page = await (await client.get("/moderate", headers=cookie)).text()
        assert "Moderator console" in page  # durable: kept in the archive
    async with running_app(tmp_path, clock=clock, token="a-brand-new-token-9876543210") as (
            bot, client):
        page = await (await client.get("/moderate", headers=cookie)).text()
        assert "Moderator console" not in page
        assert moderator_sessions.count(bot.archive) == 0


async def test_json_api_with_the_cookie_needs_csrf_origin_and_json(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    sid = await bot.start_session("webtest", pace=60, rehearsal=True)
    _, csrf = await login(client)
    own = {"X-CSRF-Token": csrf, "Origin": origin(client)}
    port = client.port
    hostile = [
        {},  # the cookie alone, as a cross-site form or fetch would ride on it
        {"Origin": origin(client)},  # no CSRF header
        {"X-CSRF-Token": "0" * 64, "Origin": origin(client)},  # a wrong one
        {"X-CSRF-Token": csrf},  # neither Origin nor Referer
        {"X-CSRF-Token": csrf, "Origin": f"http://127.0.0.1:{port + 1}"},  # another port
        {"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
        {"X-CSRF-Token": csrf, "Origin": "null"},
        {"X-CSRF-Token": csrf, "Referer": f"http://localhost:{port}/moderate"},
    ]
    for path, body in STATE_CHANGING:
        for headers in hostile:
            r = await client.post(path, json=body, headers=headers)
            assert r.status == 403, (path, headers, r.status)
            assert "error" in await r.json()
        if body is not None:  # a text/plain body is what a cross-site <form> can send
            r = await client.post(path, data=b'{"command": "pause"}', headers={
                **own, "Content-Type": "text/plain"})
            assert r.status == 415, path
    assert bot.archive.session(sid).status == "live"  # nothing above paused it
    r = await client.post("/api/control", json={"command": "pause"}, headers=own)
    assert r.status == 200 and bot.archive.session(sid).status == "paused"
    r = await client.post("/api/control", json={"command": "resume"},
                          headers={"X-CSRF-Token": csrf, "Referer": f"{origin(client)}/moderate"})
    assert r.status == 200  # Referer stands in for Origin
    assert (await client.post("/api/reload", headers=own)).status == 200


async def test_one_sessions_csrf_does_not_open_another(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    await bot.start_session("webtest", pace=60, rehearsal=True)
    _, csrf_a = await login(client)
    client.session.cookie_jar.clear()
    _, csrf_b = await login(client)
    assert csrf_a != csrf_b
    r = await client.post("/api/control", json={"command": "pause"},
                          headers={"X-CSRF-Token": csrf_a, "Origin": origin(client)})
    assert r.status == 403


async def test_the_log_names_who_signed_in_not_what_the_body_says(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    sid = await bot.start_session("webtest", pace=60, rehearsal=True)
    r = await client.post("/api/control", json={"command": "pause", "actor": "mallory"},
                          headers=BEARER)
    assert r.status == 200
    cookie_sid, csrf = await login(client)
    r = await client.post("/api/control", json={"command": "resume", "actor": "mallory"},
                          headers={"X-CSRF-Token": csrf, "Origin": origin(client)})
    assert r.status == 200
    r = await client.post("/moderate/control", data={"command": "extend", "minutes": "5",
                                                     "session": str(sid), "csrf": csrf,
                                                     "actor": "mallory"})
    assert r.status == 200
    details = [row["detail"] for row in bot.archive.session_log(sid)
               if row["kind"].startswith("control:")]
    assert len(details) == 3 and not any("mallory" in d for d in details)
    import hashlib

    console = f"console:{hashlib.sha256(cookie_sid.encode()).hexdigest()[:8]}"
    assert details[0].endswith("(by api-token)")
    assert details[1].endswith(f"(by {console})") and details[2].endswith(f"(by {console})")


async def test_wrong_tokens_are_throttled_on_every_route(room, clock) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    routes = ["/api/control", "/api/sessions", "/api/reload", "/moderate/start",
              "/moderate/control"]
    for i in range(10):  # ten wrong tries, spread over the routes, all inside ten minutes
        path = routes[i % len(routes)]
        r = await client.post(path, json={}, headers={"Authorization": f"Bearer wrong{i}"})
        assert r.status == 403, (i, path, r.status)
        clock.advance(30)
    r = await client.post("/api/control", json={"command": "pause"},
                          headers={"Authorization": "Bearer wrong-eleventh"})
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    # Locked out: the right token is refused too, or the lock would tell a guesser nothing.
    for path, body in STATE_CHANGING:
        assert (await client.post(path, json=body, headers=BEARER)).status == 429
    r = await client.post("/moderate/login", data={"token": TOKEN})
    assert r.status == 429 and "Too many wrong tokens" in await r.text()
    clock.advance(600)
    r = await client.post("/api/sessions", json={"chat": "webtest", "pace": 60}, headers=BEARER)
    assert r.status == 200  # after the window, the right token works at once


async def test_lockouts_back_off(room, clock) -> None:  # type: ignore[no-untyped-def]
    _, client = room
    wrong = {"Authorization": "Bearer wrong"}
    for _ in range(10):
        await client.post("/api/reload", headers=wrong)
    clock.advance(601)
    for _ in range(10):  # a second lockout in a row lasts twice as long
        assert (await client.post("/api/reload", headers=wrong)).status == 403
    clock.advance(601)
    assert (await client.post("/api/reload", headers=BEARER)).status == 429
    clock.advance(600)
    assert (await client.post("/api/reload", headers=BEARER)).status == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock) as (_bot, client):
        for i in range(10):  # a client naming a new address each time is still one client
            await client.post("/api/reload", headers={
                "Authorization": "Bearer wrong", "X-Forwarded-For": f"10.0.0.{i}"})
        r = await client.post("/api/reload", headers={**BEARER, "X-Forwarded-For": "10.9.9.9"})
        assert r.status == 429
    async with running_app(tmp_path / "proxied", clock=clock,
                           trusted_proxies=("127.0.0.1",)) as (_bot, client):
        for _ in range(10):
            await client.post("/api/reload", headers={
                "Authorization": "Bearer wrong", "X-Forwarded-For": "203.0.113.7"})
        locked = await client.post("/api/reload", headers={
            **BEARER, "X-Forwarded-For": "203.0.113.7"})
        assert locked.status == 429
        # Another client behind the same proxy is not locked out by the first one's guesses.
        other = await client.post("/api/reload", headers={
            **BEARER, "X-Forwarded-For": "198.51.100.2, 203.0.113.7"})
        assert other.status == 429  # the proxy appends: the right-most hop is the client
        other = await client.post("/api/reload", headers={
            **BEARER, "X-Forwarded-For": "203.0.113.7, 198.51.100.2"})
        assert other.status == 200


async def test_tweetchat_control_still_works_with_bearer(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.control_client import send_control

    async with running_app(tmp_path, clock=clock) as (bot, client):
        sid = await bot.start_session("webtest", pace=60, rehearsal=True)
        detail = await asyncio.to_thread(send_control, bot.settings, "pause", None,
                                         url=origin(client))
        assert "pause" in detail
        await until(lambda: bot.archive.session(sid).status == "paused", what="pause")
        assert bot.archive.session_log(sid)[-1]["detail"].endswith("(by api-token)")


# What an HTTP client can put in a header: printable Latin-1 (no control characters).
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    exclude_characters="\x7f"), max_size=80)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cookie=st.one_of(st.none(), HEADER_TEXT), authorization=st.one_of(st.none(), HEADER_TEXT),
       csrf=st.one_of(st.none(), HEADER_TEXT), page=st.one_of(st.none(), HEADER_TEXT),
       content_type=st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"]))
async def test_made_up_credentials_never_act_and_never_500(  # type: ignore[no-untyped-def]
        room, cookie, authorization, csrf, page, content_type) -> None:
    """Whatever a client makes up for cookie, Authorization, CSRF and Origin: 403/415/429,
    never 200, never 500 (the token and live session ids are never guessed)."""
    bot, client = room
    headers = {"Content-Type": content_type} if content_type else {}
    if cookie is not None:
        headers["Cookie"] = f"tweetchat_mod={cookie}"
    if authorization is not None:
        headers["Authorization"] = authorization
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    if page is not None:
        headers["Origin"] = page
    for path in ("/api/control", "/api/reload", "/moderate/control"):
        r = await client.post(path, data=b'{"command": "pause"}', headers=headers)
        assert r.status in (400, 403, 415, 429), (path, headers, r.status)
    assert bot.live_session("webtest") is None


async def test_sign_out_everywhere_revokes_every_session(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    """A lost laptop: one moderator signs every browser out without changing the token."""
    async with running_app(tmp_path, clock=clock) as (bot, client):
        laptop_sid, _ = await login(client)
        client.session.cookie_jar.clear()
        _, csrf = await login(client)
        assert moderator_sessions.count(bot.archive) == 2
        r = await client.post("/moderate/logout-everywhere", data={"csrf": csrf},
                              allow_redirects=False)
        assert r.status == 303 and moderator_sessions.count(bot.archive) == 0
        page = await (await client.get("/moderate", headers={
            "Cookie": f"tweetchat_mod={laptop_sid}"})).text()
        assert "Moderator console" not in page
        r = await client.post("/moderate/logout-everywhere", data={"csrf": csrf},
                              allow_redirects=False)
        assert r.status == 403  # needs a live session (or the token) like every console post
        await login(client)  # the token still works: nothing was rotated


async def test_a_lockout_does_not_sign_out_a_moderator_already_in(room) -> None:  # type: ignore[no-untyped-def]
    """Someone guessing from the same address (a shared NAT) locks out new sign-ins and
    Bearer calls, not the console session a moderator already holds."""
    bot, client = room
    sid = await bot.start_session("webtest", pace=60, rehearsal=True)
    _, csrf = await login(client)
    for _ in range(10):
        await client.post("/api/reload", headers={"Authorization": "Bearer guess"})
    assert (await client.post("/api/reload", headers=BEARER)).status == 429
    r = await client.post("/api/control", json={"command": "pause"},
                          headers={"X-CSRF-Token": csrf, "Origin": origin(client)})
    assert r.status == 200 and bot.archive.session(sid).status == "paused"
