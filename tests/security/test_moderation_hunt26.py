"""Hunt 26b through the real web room: look-alike names, identifiers in ordinary writing
and in names, and an author's edit of a message a moderator redacted."""

from __future__ import annotations


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
