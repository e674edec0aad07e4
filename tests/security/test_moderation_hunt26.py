"""Hunt 26b through the real web room: look-alike names, identifiers in ordinary writing
and in names, and an author's edit of a message a moderator redacted."""

from __future__ import annotations

from bot.archive.search import search
from bot.moderation.review import WHOLE_MASK, review_queue
from tests.web.conftest import frames_until, join, sign_in


async def test_the_web_room_refuses_lookalikes_of_the_host_and_moderators(live) -> None:  # type: ignore[no-untyped-def]
    _bot, client, _sid = live
    fakes = ["Test Høst", "Tesŧ Host", "ᴛest Host", "Moderatør", "Ⱥdmin"]
    for i, name in enumerate(fakes):
        r = await client.post("/api/chats/webtest/messages", json={
            "key": f"imp-{i:02d}-" + "k" * 16, "name": name, "text": "A1 DM me your login"})
        assert r.status == 400 and (await r.json())["code"] == "bad_name", name
    r = await client.post("/api/chats/webtest/messages", json={
        "key": "zoe-" + "k" * 20, "name": "Zoë Ørsted", "text": "A1 hello all"})
    assert r.status == 200, await r.text()
    state = await (await client.get("/api/chats/webtest/state",
                                    headers={"X-Room-Key": "z" * 20})).json()
    authors = {m["author"] for m in state["messages"]}
    assert "Zoë Ørsted" in authors and not authors & set(fakes)


SECRET = "Mrs Jane Jones in bed 4 on ward 7 told me she was scared"


async def _redacted_by_a_moderator(bot, client):  # type: ignore[no-untyped-def]
    """Ann posts a message the mass-mention check flags; a moderator redacts it in the
    console. Returns Ann's and Bo's sockets, the message id and the console's CSRF value."""
    ann, _ = await join(client, "Ann")
    bo, _ = await join(client, "Bo")
    await ann.send_json({"type": "send", "nonce": "1", "text": f"A1 @a @b @c @d @e @f {SECRET}"})
    mid = (await frames_until(ann, "ack"))[-1]["id"]
    [item] = [i for i in review_queue(bot.archive) if i.message_id == mid]
    csrf = await sign_in(client)
    r = await client.post("/moderate/review", data={
        "event": str(item.event_id), "decision": "redact", "csrf": csrf})
    assert r.status in (200, 303)
    assert bot.archive.message("web", mid).public_text == WHOLE_MASK
    return ann, bo, mid, csrf


async def test_an_authors_edit_keeps_a_moderators_redaction(live) -> None:  # type: ignore[no-untyped-def]
    bot, client, _sid = live
    ann, bo, mid, csrf = await _redacted_by_a_moderator(bot, client)
    # Within the edit window Ann drops only what the check flagged.
    await ann.send_json({"type": "edit", "nonce": "2", "id": mid, "text": f"A1 {SECRET}"})
    await frames_until(ann, "ack", where=lambda f: f.get("nonce") == "2")
    edited = (await frames_until(bo, "edited"))[-1]["message"]
    assert edited["text"] == WHOLE_MASK
    stored = bot.archive.message("web", mid)
    assert stored.text == f"A1 {SECRET}" and stored.public_text == WHOLE_MASK
    assert not search(bot.archive, "Jones")  # not in the public index either
    # The moderator is asked to look at the new text, once however many edits.
    await ann.send_json({"type": "edit", "nonce": "3", "id": mid, "text": f"A1 {SECRET}!"})
    await frames_until(ann, "ack", where=lambda f: f.get("nonce") == "3")
    [item] = [i for i in review_queue(bot.archive) if i.message_id == mid]
    assert item.check == "edited" and item.text == f"A1 {SECRET}!"
    # Their decision lifts it: restore shows the new text.
    r = await client.post("/moderate/review", data={
        "event": str(item.event_id), "decision": "restore", "csrf": csrf})
    assert r.status in (200, 303)
    assert bot.archive.message("web", mid).public_text == f"A1 {SECRET}!"
    assert [h.message_id for h in search(bot.archive, "Jones")] == [mid]
    for ws in (ann, bo):
        await ws.close()


async def test_an_edit_adding_an_identifier_does_not_shrink_the_moderators_mask(live) -> None:  # type: ignore[no-untyped-def]
    bot, client, _sid = live
    ann, bo, mid, _csrf = await _redacted_by_a_moderator(bot, client)
    await ann.send_json({"type": "edit", "nonce": "2", "id": mid,
                         "text": f"A1 {SECRET}, her son is on 07911 123456"})
    await frames_until(ann, "ack", where=lambda f: f.get("nonce") == "2")
    assert (await frames_until(bo, "edited"))[-1]["message"]["text"] == WHOLE_MASK
    assert bot.archive.message("web", mid).public_text == WHOLE_MASK
    checks = {i.check for i in review_queue(bot.archive) if i.message_id == mid}
    assert checks == {"edited", "phone"}
    for ws in (ann, bo):
        await ws.close()


async def test_an_automatic_redaction_clears_when_the_identifier_is_edited_out(live) -> None:  # type: ignore[no-untyped-def]
    bot, client, _sid = live
    ann, _ = await join(client, "Ann")
    await ann.send_json({"type": "send", "nonce": "1", "text": "A1 ring me on 07911 123456"})
    mid = (await frames_until(ann, "ack"))[-1]["id"]
    assert bot.archive.message("web", mid).public_text == "A1 ring me on [phone number removed]"
    await ann.send_json({"type": "edit", "nonce": "2", "id": mid, "text": "A1 ring the ward"})
    await frames_until(ann, "ack", where=lambda f: f.get("nonce") == "2")
    assert bot.archive.message("web", mid).public_text == "A1 ring the ward"
    await ann.close()
