"""The room's cached view (room_view.py) against a plain model of the room, under hypothesis.

Whatever order messages, edits, redactions, hides and restores arrive in, the view holds
the newest visible messages of the session (a suffix of them, at most RECENT), with the
text the room shows; and a client that reconnects with what the view told it ends up
showing what a newcomer would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.platforms.web.room_view import RECENT, RoomView

SESSION = 7


class Model:
    """The room as the archive holds it: every message, visible or not, with its text."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.visible: set[str] = set()

    def row(self, message_id: str) -> dict[str, Any]:
        return {"id": message_id, "author": "P", "author_id": "p", "host": False,
                "text": self.texts[message_id], "created": "2026-01-01T00:00:00+00:00",
                "reply_to": None, "edited": None}

    def shown(self) -> list[str]:
        return sorted(self.visible)

    async def load(self) -> tuple[list[dict[str, Any]], bool]:
        ids = self.shown()
        return [self.row(i) for i in ids[-RECENT:]], len(ids) > RECENT


class Client:
    """A page of the room: what it shows, by id, built only from what the server sent."""

    def __init__(self) -> None:
        self.shown: dict[str, str] = {}
        self.token: str | None = None

    def apply_state(self, state: dict[str, Any]) -> None:
        if state["reset"]:
            self.shown = {}
        for message_id in state["hidden"]:
            self.shown.pop(message_id, None)
        for edit in state["edited"]:
            if edit["id"] in self.shown:
                self.shown[edit["id"]] = edit["text"]
        for row in state["messages"]:
            self.shown[row["id"]] = row["text"]

    @property
    def last(self) -> str | None:
        return max(self.shown, default=None)


OPS = st.lists(st.tuples(st.sampled_from(["new", "late", "hide", "restore", "edit",
                                          "redact", "reconnect"]),
                         st.integers(0, 10_000)), max_size=400)


@settings(max_examples=60, deadline=None)
@given(initial=st.integers(0, 3 * RECENT), ops=OPS)
# Found by longer runs: a late message while the window was emptied by hides (a client
# whose "since" is past it must still be sent it), and one older than a full window
# (the view must then say there is more to read).
@example(initial=0, ops=[("new", 0), ("new", 0), ("hide", 0), ("reconnect", 0),
                         ("hide", 0), ("late", 0)])
@example(initial=RECENT, ops=[("late", 0)])
def test_the_view_follows_the_room(initial: int, ops: list[tuple[str, int]]) -> None:
    asyncio.run(_follow(initial, ops))


async def _follow(initial: int, ops: list[tuple[str, int]]) -> None:
    model, view, client = Model(), RoomView(), Client()
    counter = 0

    def new_id() -> str:
        nonlocal counter
        counter += 10
        return f"{counter:08d}"

    for _ in range(initial):
        message_id = new_id()
        model.texts[message_id] = f"text {message_id}"
        model.visible.add(message_id)
    await view.ensure(SESSION, 1, model.load)
    state = view.snapshot(None, None)
    client.apply_state(state)
    client.token = view.token
    for kind, n in ops:
        ids = sorted(model.texts)
        # Each kind picks among the messages it applies to (hide a shown one, restore a
        # hidden one), mostly among the newest, where the window is.
        pool = sorted(set(ids) - model.visible) if kind == "restore" else \
            sorted(model.visible) if kind in ("hide", "edit", "redact") else ids
        pool = pool[-2 * RECENT:] if n % 4 else pool
        pick = pool[n % len(pool)] if pool else None
        if kind in ("new", "late"):
            # "late": a message stored earlier whose broadcast waited on screening.
            message_id = new_id() if kind == "new" or not ids else f"{int(pick) - 1:08d}"  # type: ignore[arg-type]
            if message_id in model.texts:
                continue
            model.texts[message_id] = f"text {message_id}"
            model.visible.add(message_id)
            view.apply({"type": "message", "session": SESSION, "message": model.row(message_id)})
        elif pick is None:
            continue
        elif kind == "hide":
            model.visible.discard(pick)
            view.apply({"type": "hidden", "id": pick})
        elif kind == "restore":
            model.visible.add(pick)
            view.apply({"type": "restored", "id": pick, "message": model.row(pick)})
        elif kind == "edit":
            model.texts[pick] = f"edited {n}"
            view.apply({"type": "edited", "session": SESSION,
                        "message": {**model.row(pick), "edited": "2026-01-01T00:01:00+00:00"}})
        elif kind == "redact":
            model.texts[pick] = f"[redacted] {n}"
            view.apply({"type": "redacted", "id": pick, "text": model.texts[pick]})
        elif kind == "reconnect":
            await view.ensure(SESSION, 1, model.load)  # reloads when the view dropped itself
            state = view.snapshot(client.last, client.token)
            client.apply_state(state)
            client.token = view.token
            _check(model, view, client)
    await view.ensure(SESSION, 1, model.load)
    _check(model, view, client, reconnect=True)


def _check(model: Model, view: RoomView, client: Client, *, reconnect: bool = False) -> None:
    if reconnect:
        client.apply_state(view.snapshot(client.last, client.token))
    fresh = view.snapshot(None, None)
    window = [r["id"] for r in fresh["messages"]]
    shown = model.shown()
    assert len(window) <= RECENT
    assert window == shown[len(shown) - len(window):]  # the newest visible, in order
    assert fresh["more"] or len(window) == len(shown)  # told when there is more to read
    assert all(r["text"] == model.texts[r["id"]] for r in fresh["messages"])
    # The reconnected client shows what a newcomer would (and nothing hidden).
    newest = {i: t for i, t in client.shown.items() if not window or i >= window[0]}
    assert newest == {r["id"]: r["text"] for r in fresh["messages"]}
    assert set(client.shown) <= model.visible
