"""The room's WebSocket and JSON endpoint: joining, sending, threads, reconnects, edits,
and every refusal (closed room, oversize, rate limit, bad JSON, someone else's message)."""

from __future__ import annotations

import asyncio

from bot.platforms.web.guard import author_id_for
from bot.records import Action
from bot.webapp.routes import SERVICE_KEY
from tests.web.conftest import advance_until, frames_until, join, running_app, until


async def test_join_before_the_chat_shows_the_countdown_and_refuses_messages(room):
    _, client = room
    ws, state = await join(client, "Ann")
    assert state["session"] is None and state["messages"] == []
    assert state["next"]["start"] == "2026-01-07T20:00:00+00:00"
    assert state["me"] == author_id_for("ann" * 8)
    await ws.send_json({"type": "send", "text": "hello", "nonce": "1"})
    error = (await frames_until(ws, "error"))[-1]
    assert error["code"] == "closed" and "not live" in error["error"]
    r = await client.post("/api/chats/webtest/messages",
                          json={"key": "k" * 20, "name": "Bo", "text": "hi"})
    assert r.status == 409


async def test_two_participants_answer_and_reply_in_a_thread(live):
    bot, client, sid = live
    ann, state = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    assert state["session"]["id"] == sid
    assert state["question"]["number"] == 1  # pinned: the current question
    assert [m["text"][:2] for m in state["messages"]] == ["We", "Q1"]
    assert state["messages"][1]["question"] == 1 and state["messages"][1]["host"] is True
    await ann.send_json({"type": "send", "text": "A1 curiosity #WebTest", "nonce": "a"})
    frames = await frames_until(ann, "ack")
    ack = frames[-1]
    assert ack["nonce"] == "a"
    # Stored before it was acknowledged or broadcast.
    stored = bot.archive.message("web", ack["id"])
    assert stored is not None and stored.session_id == sid
    seen = (await frames_until(bo, "message"))[-1]["message"]
    assert seen["text"] == "A1 curiosity #WebTest" and seen["author"] == "Ann"
    await bo.send_json({"type": "send", "text": "Same here", "reply_to": seen["id"],
                        "nonce": "b"})
    reply = next(f for f in await frames_until(ann, "message") if f["type"] == "message")
    assert reply["message"]["reply_to"] == seen["id"]
    assert bot.archive.message("web", reply["message"]["id"]).reply_to == seen["id"]
    # The next question is broadcast with its number, for the pinned banner.
    await advance_until(bot.clock, lambda: bot.archive.items(sid)[2].status == "sent", what="Q2")
    q2 = (await frames_until(bo, "message", where=lambda f: f["message"]["host"]))[-1]["message"]
    assert q2["host"] and q2["question"] == 2 and q2["item"] == "q2"
    for ws in (ann, bo):
        await ws.close()


async def test_reconnect_gets_what_was_missed_once(live):
    bot, client, sid = live
    ann, first = await join(client, "Ann")
    last = first["messages"][-1]["id"]
    await ann.close()
    bo, _ = await join(client, "Bo")
    ids = []
    for n in range(3):
        await bo.send_json({"type": "send", "text": f"missed {n}", "nonce": str(n)})
        ids.append((await frames_until(bo, "ack"))[-1]["id"])
    # Hidden the way the console and the moderation engine do it: stored, then acted on.
    platform = bot.chats["webtest"].platforms["web"]
    bot.archive.set_moderation_state("web", ids[0], hidden=True)
    await platform.act(Action("hide", message_id=ids[0]))
    await platform.edit(ids[1], "missed 1 (edited)")
    view = first["view"]
    ann, again = await join(client, "Ann", since=last, session=sid, view=view)
    assert again["reset"] is False
    assert [m["id"] for m in again["messages"]] == ids[1:]  # the hidden one is not sent
    assert again["messages"][0]["text"] == "missed 1 (edited)"
    # Already seen, then hidden or edited while away: told by id.
    ann2, third = await join(client, "Ann", since=ids[2], session=sid, view=view)
    assert third["messages"] == [] and third["hidden"] == [ids[0]]
    assert third["edited"][0]["id"] == ids[1]
    # A client that saw another session starts again from scratch ...
    ann3, fresh = await join(client, "Ann", since=ids[2], session=sid + 99, view=view)
    assert fresh["reset"] is True and len(fresh["messages"]) == 4
    # ... and so does one whose view was another load of the room (another process).
    ann4, other = await join(client, "Ann", since=ids[2], session=sid, view="0" * 12)
    assert other["reset"] is True and [m["id"] for m in other["messages"]][-2:] == ids[1:]
    for ws in (ann, ann2, ann3, ann4, bo):
        await ws.close()


async def test_markup_is_stored_and_sent_as_plain_text(live):
    bot, client, _ = live
    ws, _ = await join(client, '<img src=x onerror=alert(1)>')
    payload = '<script>alert("x")</script> & <b>bold</b>'
    await ws.send_json({"type": "send", "text": payload, "nonce": "x"})
    frames = await frames_until(ws, "ack")
    msg = next(f for f in frames if f["type"] == "message")["message"]
    assert msg["text"] == payload and msg["author"] == '<img src=x onerror=alert(1)>'
    assert bot.archive.message("web", msg["id"]).text == payload
    await ws.close()


async def test_refusals_over_the_socket(live):
    _, client, _ = live
    ws = await client.ws_connect("/chats/webtest/ws")
    await ws.send_str("{not json")
    assert (await ws.receive_json())["code"] == "bad_json"
    await ws.send_json({"type": "send", "text": "too early"})
    assert (await ws.receive_json())["code"] == "not_joined"
    await ws.send_json({"type": "join", "key": "short", "name": "Ann"})
    assert (await ws.receive_json())["code"] == "bad_key"
    await ws.send_json({"type": "join", "key": "k" * 20, "name": ""})
    state = await ws.receive_json()
    assert state["type"] == "state"
    await ws.send_json({"type": "send", "text": "no name yet", "nonce": "1"})
    assert (await frames_until(ws, "error"))[-1]["code"] == "bad_name"
    await ws.send_json({"type": "name", "name": "Host"})
    assert (await frames_until(ws, "error"))[-1]["code"] == "bad_name"
    await ws.send_json({"type": "name", "name": "Cy"})
    await frames_until(ws, "ack")
    await ws.send_json({"type": "send", "text": "x" * 1001, "nonce": "2"})
    error = (await frames_until(ws, "error"))[-1]
    assert error["code"] == "too_long" and "1001 characters; the limit is 1000" in error["error"]
    await ws.send_json({"type": "send", "text": "   ", "nonce": "3"})
    assert (await frames_until(ws, "error"))[-1]["code"] == "empty"
    await ws.send_json({"type": "send", "text": "hi", "reply_to": "nope", "nonce": "4"})
    assert (await frames_until(ws, "error"))[-1]["code"] == "bad_reply"
    await ws.send_json({"type": "dance"})
    assert (await frames_until(ws, "error"))[-1]["code"] == "unknown_type"
    await ws.close()


async def test_edit_and_delete_own_messages_within_the_window(live):
    bot, client, _ = live
    ann, _ = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "text": "A1 first try", "nonce": "1"})
    mid = (await frames_until(ann, "ack"))[-1]["id"]
    await bo.send_json({"type": "edit", "id": mid, "text": "hijacked", "nonce": "x"})
    assert (await frames_until(bo, "error"))[-1]["code"] == "not_yours"
    # Same display name, different browser: still not theirs.
    imposter, _ = await join(client, "Ann", key="another-browser-key-123")
    await imposter.send_json({"type": "delete", "id": mid, "nonce": "y"})
    assert (await frames_until(imposter, "error"))[-1]["code"] == "not_yours"
    await ann.send_json({"type": "edit", "id": mid, "text": "A1 better", "nonce": "2"})
    edited = (await frames_until(bo, "edited"))[-1]["message"]
    assert edited["id"] == mid and edited["text"] == "A1 better" and edited["edited"]
    assert bot.archive.message("web", mid).text == "A1 better"
    await ann.send_json({"type": "send", "text": "A1 second", "nonce": "3"})
    second = (await frames_until(ann, "ack", where=lambda f: f["nonce"] == "3"))[-1]["id"]
    await ann.send_json({"type": "delete", "id": second, "nonce": "4"})
    assert (await frames_until(bo, "deleted"))[-1]["id"] == second
    assert bot.archive.message("web", second).deleted
    bot.clock.advance(6 * 60)  # past the five-minute window
    await ann.send_json({"type": "edit", "id": mid, "text": "A1 too late", "nonce": "5"})
    error = (await frames_until(ann, "error"))[-1]
    assert error["code"] == "too_late" and "5 minutes" in error["error"]
    for ws in (ann, bo, imposter):
        await ws.close()


async def test_json_endpoint_refusals(tmp_path, clock):
    async with running_app(tmp_path, clock=clock, messages_per_minute=3,
                           max_message_chars=50) as (bot, client):
        await bot.start_session("webtest")
        await until(lambda: bot.live_session("webtest"), what="live")
        url = "/api/chats/webtest/messages"
        body = {"key": "k" * 20, "name": "Ann", "text": "A1 hello"}
        r = await client.post(url, data=b"{nope", headers={"Content-Type": "application/json"})
        assert r.status == 400 and "JSON" in (await r.json())["error"]
        r = await client.post(url, json=["a list"])
        assert r.status == 400
        r = await client.post(url, json={**body, "key": None})
        assert r.status == 400 and (await r.json())["code"] == "bad_key"
        r = await client.post(url, json={**body, "text": "y" * 51})
        assert r.status == 413 and "limit is 50" in (await r.json())["error"]
        for i in range(3):  # different texts: the same one again and again is spam
            r = await client.post(url, json={**body, "text": f"A1 hello {i}"})
            assert r.status == 200, await r.text()
        r = await client.post(url, json={**body, "text": "A1 hello 3"})
        refused = await r.json()
        assert r.status == 429 and refused["code"] == "rate_limited"
        assert "at most 3 a minute" in refused["error"]
        # Another participant is not held back, and the first may write again a minute on.
        assert (await client.post(url, json={**body, "key": "z" * 20})).status == 200
        clock.advance(61)
        assert (await client.post(url, json={**body, "text": "A1 hello 4"})).status == 200
        r = await client.get("/api/chats/webtest/state", headers={"X-Room-Key": "k" * 20})
        state = await r.json()
        assert state["me"] == author_id_for("k" * 20)
        assert sum(1 for m in state["messages"] if m["author"] == "Ann") == 5


async def test_moderator_hide_and_restore_reach_every_client(live):
    bot, client, _ = live
    ann, _ = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "text": "A1 something regrettable", "nonce": "1"})
    mid = (await frames_until(ann, "ack"))[-1]["id"]
    await frames_until(bo, "message")
    platform = bot.chats["webtest"].platforms["web"]
    from bot.records import Action

    bot.archive.set_moderation_state("web", mid, hidden=True)
    await platform.act(Action("hide", message_id=mid))
    for ws in (ann, bo):
        assert (await frames_until(ws, "hidden"))[-1]["id"] == mid
    bot.archive.set_moderation_state("web", mid, hidden=False, held=False)
    await platform.act(Action("restore", message_id=mid))
    restored = (await frames_until(bo, "restored"))[-1]
    assert restored["message"]["text"] == "A1 something regrettable"
    await platform.act(Action("redact", message_id=mid, text="A1 [removed]"))
    assert (await frames_until(ann, "redacted"))[-1]["text"] == "A1 [removed]"
    for ws in (ann, bo):
        await ws.close()


async def test_a_slow_client_is_dropped_not_waited_for(live):
    _, client, _ = live
    fast, _ = await join(client, "Fast")
    slow_ws, _ = await join(client, "Slow")
    hub = client.server.app[SERVICE_KEY].hub
    slow = next(c for c in hub.rooms["webtest"] if c.name == "Slow")
    slow.writer.cancel()  # this one stops draining its queue
    slow.queue = asyncio.Queue(1)
    slow.queue.put_nowait("backlog")
    assert hub.send_all("webtest", {"type": "note"}) == 1  # only the fast one got it
    assert slow not in hub.rooms["webtest"]  # dropped: its page reconnects and catches up
    assert (await frames_until(fast, "note"))[-1]["type"] == "note"
    await fast.close()
    await slow_ws.close()


async def test_identifiers_and_abuse_are_screened_before_anyone_sees_them(live):
    """Confidentiality first: no client ever receives an NHS number or a held message."""
    bot, client, sid = live
    ann, _ = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "nonce": "n",
                         "text": "A1 my patient's NHS number is 943 476 5919"})
    ack = (await frames_until(ann, "ack"))[-1]
    seen = (await frames_until(bo, "message"))[-1]["message"]
    assert seen["id"] == ack["id"]
    assert "943 476 5919" not in seen["text"] and "removed" in seen["text"]
    # Abuse is held: the author is told, nobody else ever receives it.
    await ann.send_json({"type": "send", "nonce": "h", "text": "A1 you are a total shit"})
    held = (await frames_until(ann, "ack"))[-1]
    assert "waiting for a moderator" in held["held"]
    await ann.send_json({"type": "send", "nonce": "c", "text": "A1 sorry, clean now"})
    later = await frames_until(bo, "message", where=lambda f: "clean now" in f["message"]["text"])
    assert all(f.get("message", {}).get("id") != held["id"] for f in later)
    assert bot.archive.message("web", held["id"]).hidden
    for ws in (ann, bo):
        await ws.close()
