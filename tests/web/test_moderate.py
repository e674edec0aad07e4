"""The moderator console and the control API: sign-in, CSRF, controls, starting sessions,
script upload with line-numbered errors, hiding and restoring, the review queue."""

from __future__ import annotations

from bot.archive import moderation_store
from tests.web.conftest import SCRIPT, TOKEN, frames_until, join, sign_in, until

BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def test_console_needs_the_token(room):
    bot, client = room
    r = await client.get("/moderate")
    assert r.status == 200 and 'action="/moderate/login"' in await r.text()
    for path in ("/moderate/control", "/moderate/start", "/moderate/script", "/moderate/hide",
                 "/moderate/restore", "/moderate/review", "/moderate/logout"):
        r = await client.post(path, data={"csrf": "0" * 64}, allow_redirects=False)
        assert r.status == 403, path
    r = await client.post("/moderate/login", data={"token": "wrong"})
    assert r.status == 403 and "not right" in await r.text()
    assert "tweetchat_mod" not in r.cookies
    for path in ("/api/control", "/api/sessions", "/api/reload"):
        assert (await client.post(path, json={})).status == 403
        r = await client.post(path, json={}, headers={"Authorization": "Bearer nope"})
        assert r.status == 403


async def test_login_is_throttled_after_many_wrong_tokens(room):
    _, client = room
    for _ in range(10):
        await client.post("/moderate/login", data={"token": "wrong"})
    r = await client.post("/moderate/login", data={"token": TOKEN})
    assert r.status == 429


async def test_csrf_and_cross_site_posts_are_refused(room):
    bot, client = room
    csrf = await sign_in(client)
    page = await (await client.get("/moderate")).text()
    assert "Moderator console" in page and csrf in page
    r = await client.post("/moderate/start", data={"chat": "webtest"}, allow_redirects=False)
    assert r.status == 403  # no CSRF field
    r = await client.post("/moderate/start", data={"chat": "webtest", "csrf": csrf},
                          headers={"Origin": "http://evil.example"}, allow_redirects=False)
    assert r.status == 403
    assert bot.live_session("webtest") is None


async def test_start_control_and_stop_from_the_console(room):
    bot, client = room
    csrf = await sign_in(client)
    r = await client.post("/moderate/start", data={"chat": "webtest", "rehearsal": "on",
                                                   "pace": "30", "csrf": csrf},
                          allow_redirects=False)
    assert r.status == 303 and "started+session" in r.headers["Location"]
    sid = bot.live_session("webtest")
    session = bot.archive.session(sid)
    assert session.rehearsal and session.pace == 30
    r = await client.post("/moderate/control", data={"command": "pause", "session": str(sid),
                                                     "csrf": csrf})
    assert r.status == 200 and "paused" in await r.text()
    assert bot.archive.session(sid).status == "paused"
    r = await client.post("/moderate/control", data={"command": "pause", "session": str(sid),
                                                     "csrf": csrf})
    assert "already paused" in await r.text()
    for command in ("resume", "extend"):
        await client.post("/moderate/control", data={"command": command, "minutes": "5",
                                                     "session": str(sid), "csrf": csrf})
    log = [row["kind"] for row in bot.archive.session_log(sid)]
    assert "control:resume" in log and "control:extend" in log
    await client.post("/moderate/control", data={"command": "stop", "session": str(sid),
                                                 "csrf": csrf})
    await until(lambda: bot.archive.session(sid).status == "ended", what="end")
    r = await client.post("/moderate/start", data={"chat": "nope", "csrf": csrf})
    assert "no chat &#39;nope&#39;" in await r.text()


async def test_control_api_still_works_with_the_bearer_token(room):
    _bot, client = room
    r = await client.post("/api/sessions", json={"chat": "webtest", "pace": 60},
                          headers=BEARER)
    assert r.status == 200
    sid = (await r.json())["session"]["id"]
    r = await client.post("/api/control", json={"command": "pause"}, headers=BEARER)
    assert r.status == 200 and (await r.json())["ok"]
    status = await (await client.get("/api/status")).json()
    assert status["chats"] == ["webtest"] and status["live"][0]["id"] == sid
    r = await client.post("/api/control", json={"command": "dance"}, headers=BEARER)
    assert r.status == 400
    r = await client.post("/api/control", data=b"nope", headers=BEARER)
    assert r.status == 400
    # The console's cookie works for the API too, from the console's own page with its
    # CSRF header (tests/security/test_moderator_sessions.py refuses everything else).
    csrf = await sign_in(client)
    r = await client.post("/api/control", json={"command": "stop"}, headers={
        "X-CSRF-Token": csrf, "Origin": str(client.make_url("/")).rstrip("/")})
    assert r.status == 200


async def test_script_upload_shows_errors_with_line_numbers(room):
    bot, client = room
    csrf = await sign_in(client)
    bad = SCRIPT.format(id="second", close="60m").replace('hashtag: "#WebTest"',
                                                          'hashtag: "no hash"')
    r = await client.post("/moderate/script", data={"text": bad, "csrf": csrf})
    assert r.status == 422
    html = await r.text()
    assert "line 3: hashtag must start with #" in html
    assert "not saved" in html and "no hash" in html  # the text is kept for fixing
    assert not (bot.settings.chats.dir / "second.yaml").exists()
    good = SCRIPT.format(id="second", close="60m")
    r = await client.post("/moderate/script", data={"text": good, "csrf": csrf},
                          allow_redirects=False)
    assert r.status == 303
    saved = bot.settings.chats.dir / "second.yaml"
    assert saved.read_text() == good


async def test_hide_and_restore_from_the_console_update_every_room(live):
    bot, client, _sid = live
    ann, _ = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "text": "A1 a patient's name", "nonce": "1"})
    mid = (await frames_until(ann, "ack"))[-1]["id"]
    csrf = await sign_in(client)
    page = await (await client.get("/moderate")).text()
    assert "A1 a patient&#39;s name" in page
    r = await client.post("/moderate/hide", data={"platform": "web", "id": mid,
                                                  "csrf": csrf})
    assert r.status == 200
    for ws in (ann, bo):
        assert (await frames_until(ws, "hidden"))[-1]["id"] == mid
    assert not bot.archive.message("web", mid).public
    rejoined, state = await join(client, "Cy")
    assert mid not in [m["id"] for m in state["messages"]]
    await client.post("/moderate/restore", data={"platform": "web", "id": mid,
                                                 "csrf": csrf})
    assert (await frames_until(bo, "restored"))[-1]["message"]["id"] == mid
    assert bot.archive.message("web", mid).public
    for ws in (ann, bo, rejoined):
        await ws.close()


async def test_review_queue_decisions(live):
    bot, client, sid = live
    ann, _ = await join(client, "Ann")
    # Something the detectors let through (07700 900123 no longer is: it is a phone number).
    await ann.send_json({"type": "send", "text": "A1 ring bleep 4821 now", "nonce": "1"})
    mid = (await frames_until(ann, "ack"))[-1]["id"]
    bot.archive.set_moderation_state("web", mid, held=True)
    [event_id] = moderation_store.add_events(bot.archive, [{
        "platform": "web", "message_id": mid, "session_id": sid, "check_name": "phone",
        "action": "hold", "spans": [[8, 18]], "reason": "a phone number", "status": "open",
        "actor": "bot", "at": bot.clock.now()}])
    csrf = await sign_in(client)
    page = await (await client.get("/moderate")).text()
    assert "Review queue (1)" in page and "a phone number" in page
    r = await client.post("/moderate/review", data={"event": str(event_id),
                                                    "decision": "redact",
                                                    "csrf": csrf})
    assert r.status == 200 and "now redacted" in await r.text()
    redacted = (await frames_until(ann, "redacted"))[-1]
    assert redacted["id"] == mid and "4821" not in redacted["text"]
    assert "Review queue (0)" in await (await client.get("/moderate")).text()
    r = await client.post("/moderate/review", data={"event": "999", "decision": "hide",
                                                    "csrf": csrf})
    assert "no review item 999" in await r.text()
    await ann.close()
