"""The web room for health chats: a private safety signpost, and your own CPD certificate."""

from __future__ import annotations

from tests.web.conftest import frames_until, join, until


async def test_signpost_reaches_only_the_writer_and_moderators_are_alerted(live):
    bot, client, sid = live
    ann, _ = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "nonce": "s", "text": "A1 honestly I can't go on"})
    notice = (await frames_until(ann, "private_notice"))[-1]
    assert "116 123" in notice["text"] and "85258" in notice["text"] and "to" not in notice
    # Nothing held: Bo sees the message as written, and never the notice.
    await ann.send_json({"type": "send", "nonce": "t", "text": "A1 later message"})
    seen = await frames_until(bo, "message", where=lambda f: "later" in f["message"]["text"])
    assert any("can't go on" in f.get("message", {}).get("text", "") for f in seen)
    assert not any(f["type"] == "private_notice" for f in seen)
    alert = await until(lambda: [a for a in bot.alerts if "crisis" in a.text], what="alert")
    assert "I can't go on" in alert[0].text and "sent to them privately" in alert[0].text
    # An idiom signposts nobody.
    await bo.send_json({"type": "send", "nonce": "i", "text": "A1 this rota is killing me"})
    await frames_until(bo, "ack")
    assert len([a for a in bot.alerts if "crisis" in a.text]) == 1
    for ws in (ann, bo):
        await ws.close()


async def test_a_participant_downloads_only_their_own_certificate(live):
    bot, client, sid = live
    ann, _ = await join(client, "Ann")
    await ann.send_json({"type": "send", "nonce": "a", "text": "A1 listening events #WebTest"})
    await frames_until(ann, "ack")
    ann_key, bo_key = ("ann" * 20)[:24], ("bo" * 20)[:24]
    form = {"key": ann_key, "session": str(sid)}
    r = await client.post("/chats/webtest/certificate", data=form)
    assert r.status == 409  # not before the chat has closed
    bot.control("stop", chat_id="webtest")
    await until(lambda: bot.archive.session(sid).status == "ended", what="end")
    r = await client.post("/chats/webtest/certificate", data=form)
    assert r.status == 200, await r.text()
    assert r.headers["Content-Disposition"].startswith('attachment; filename="certificate-w')
    page = await r.text()
    assert "listening events" in page and "Reflective account" in page and "Ann" in page
    # Someone else (who posted nothing) gets nothing, least of all Ann's certificate.
    r = await client.post("/chats/webtest/certificate", data={"key": bo_key, "session": str(sid)})
    assert r.status == 404 and "posted nothing" in await r.text()
    for bad, status in [({"key": "short", "session": str(sid)}, 400),
                        ({"key": ann_key, "session": "999"}, 404),
                        ({"key": ann_key, "session": "x" * 50}, 404),
                        ({"key": ann_key, "session": str(sid), "pad": "p" * 5000}, 413)]:
        r = await client.post("/chats/webtest/certificate", data=bad)
        assert r.status == status, (bad, r.status)
    r = await client.post("/chats/other/certificate", data=form)
    assert r.status == 404
    await ann.close()


async def test_disclaimer_goes_with_the_welcome_and_stays_pinned_and_signpost_is_the_chats(
        tmp_path, clock):
    from bot.script import load_script
    from tests.web.conftest import SCRIPT, advance_until, running_app

    path = tmp_path / "chats" / "webtest.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(SCRIPT.format(id="webtest", close="60m")
                    + 'disclaimer: "Not for personal medical advice; in an emergency call 999."\n'
                    + 'signpost: "Our words: Samaritans 116 123, day or night."\n')
    async with running_app(tmp_path, scripts=[load_script(path)], clock=clock) as (bot, client):
        sid = await bot.start_session("webtest")
        await until(lambda: bot.archive.items(sid)[0].status == "sent", what="welcome")
        welcome = bot.archive.items(sid)[0].text
        assert welcome.endswith("Not for personal medical advice; in an emergency call 999.")
        page = await (await client.get("/chats/webtest")).text()
        assert 'class="disclaimer"' in page and "in an emergency call 999" in page
        await advance_until(clock, lambda: bot.archive.items(sid)[1].status == "sent", what="Q1")
        ann, _ = await join(client, "Ann")
        await ann.send_json({"type": "send", "nonce": "s", "text": "A1 I want to end my life"})
        notice = (await frames_until(ann, "private_notice"))[-1]
        assert notice["text"] == "Our words: Samaritans 116 123, day or night."
        await ann.close()


async def test_a_participant_may_declare_a_role_from_the_chats_list(live):
    bot, client, sid = live
    ann, state = await join(client, "Ann")
    assert state["role"] == ""
    page = await (await client.get("/chats/webtest")).text()
    assert 'id="join-role"' in page and ">Prefer not to say<" in page and ">Nurse<" in page
    await ann.send_json({"type": "role", "role": "Nurse", "nonce": "r"})
    ack = (await frames_until(ann, "ack"))[-1]
    assert ack["role"] == "Nurse"
    assert bot.archive.roles("webtest") == {("web", state["me"]): "Nurse"}
    for bad in ("Astronaut", 7, {"x": 1}):
        await ann.send_json({"type": "role", "role": bad, "nonce": "b"})
        error = (await frames_until(ann, "error"))[-1]
        assert error["code"] == "bad_role"
    again, state2 = await join(client, "Ann")  # remembered for the chat
    assert state2["role"] == "Nurse"
    # Shown as a badge: with each new message, and in the state a joining page gets.
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "nonce": "m", "text": "A1 from a nurse"})
    seen = (await frames_until(bo, "message", where=lambda f: "nurse" in f["message"]["text"]))
    assert seen[-1]["message"]["role"] == "Nurse"
    _, state3 = await join(client, "Cy")
    assert [m["role"] for m in state3["messages"] if m["text"] == "A1 from a nurse"] == ["Nurse"]
    await bo.close()
    await again.send_json({"type": "role", "role": "", "nonce": "c"})
    await frames_until(again, "ack")
    assert bot.archive.roles("webtest") == {}
    for ws in (ann, again):
        await ws.close()


async def test_a_moderator_downloads_anyones_certificate_from_the_console(live):
    from tests.web.conftest import sign_in

    bot, client, sid = live
    ann, state = await join(client, "Ann")
    await ann.send_json({"type": "send", "nonce": "a", "text": "A1 listening events #WebTest"})
    await frames_until(ann, "ack")
    await ann.close()
    bot.control("stop", chat_id="webtest")
    await until(lambda: bot.archive.session(sid).status == "ended", what="end")
    form = {"session": str(sid), "platform": "web", "author": state["me"], "csrf": "0" * 64}
    r = await client.post("/moderate/certificate", data=form, allow_redirects=False)
    assert r.status == 403  # not signed in: no certificate for anyone
    form["csrf"] = await sign_in(client)
    page = await (await client.get(f"/moderate?session={sid}")).text()
    assert 'action="/moderate/certificate"' in page
    r = await client.post("/moderate/certificate", data=form)
    assert r.status == 200 and "listening events" in await r.text()
    assert r.headers["Content-Disposition"].startswith('attachment; filename="certificate-')
    r = await client.post("/moderate/certificate", data={**form, "author": "nobody"},
                          allow_redirects=False)
    assert r.status == 303 and "no+participant" in r.headers["Location"]
