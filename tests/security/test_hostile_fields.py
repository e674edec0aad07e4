"""Any JSON value at any field of a room message, over HTTP and the WebSocket: never a 500.

Before: `clean_text` and the reply/edit/delete ids went through `str()`, so a `text` or
`reply_to` 1,000 lists deep raised RecursionError (a 500 from
`POST /api/chats/<chat>/messages`, a dropped socket with a traceback over the WebSocket),
and `{"a": 1}` or `true` were stored as the messages "{'a': 1}" and "True". A `nonce` 300
objects deep made the reply's orjson.dumps raise and dropped the socket. Each test here
failed against that code.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.clock import FakeClock
from tests.web.conftest import frames_until, join, running_app, until

URL = "/api/chats/webtest/messages"
KEY = "p" * 40
FIELDS = ("key", "name", "text", "reply_to", "id", "nonce", "before", "role", "since")
KINDS = ("send", "edit", "delete", "older", "name", "role", "join", "ping", "bogus")

# Any JSON value (as its text): every type, odd numbers, unicode, shallow nesting...
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=80))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12).map(json.dumps)
# ... nesting past what str() and orjson.dumps can take (and past orjson.loads' 1,024) ...
_deep = st.builds(lambda depth, as_object: ('{"a":' * depth + "1" + "}" * depth) if as_object
                  else "[" * depth + "]" * depth, st.integers(250, 1100), st.booleans())
# ... and long strings (up to just under the socket's 64 KiB frame).
_long = st.integers(60, 60_000).map(lambda n: json.dumps("x" * n))
FRAGMENT = st.one_of(_values, _deep, _long)


def body_text(fields: dict[str, str]) -> str:
    """A JSON object written by hand, so nesting past orjson.dumps' limit can be sent."""
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in fields.items()) + "}"


def decoded(fragment: str) -> tuple[bool, Any]:
    """(readable, value): whether the room's JSON reader takes `fragment`, and its value."""
    try:
        return True, orjson.loads(fragment)
    except orjson.JSONDecodeError:
        return False, None


@pytest.fixture
async def busy_room(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[App, TestClient]]:
    """A live session with limits high enough that the fuzzing is never merely rate-limited."""
    async with running_app(tmp_path, clock=clock, messages_per_minute=100_000,
                           messages_per_minute_per_address=100_000,
                           state_requests_per_minute_per_address=100_000) as (bot, client):
        await bot.start_session("webtest")
        await until(lambda: bot.live_session("webtest"), what="live")
        yield bot, client


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    """No traceback was logged (aiohttp logs a handler's crash at ERROR; so does the room)."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(fields=st.dictionaries(st.sampled_from(("name", "text", "reply_to")), FRAGMENT,
                              min_size=1, max_size=3))
# A field that reads alone but makes the body one level too deep: judged field by field,
# the test expected the room to take this body (it rightly refuses it as bad JSON).
@example(fields={"name": "[" * 1024 + "]" * 1024})
@example(fields={"text": '{"a":' * 1024 + "1" + "}" * 1024})
async def test_any_value_in_a_posted_message_is_a_4xx_never_a_500(  # type: ignore[no-untyped-def]
        busy_room, caplog, fields) -> None:
    bot, client = busy_room
    body = body_text({"key": json.dumps(KEY), "name": '"Pat"', "text": '"A1 hello"', **fields})
    r = await client.post(URL, data=body.encode(), headers={"Content-Type": "application/json"})
    answer = await r.text()
    assert r.status < 500 and "Traceback" not in answer, (r.status, answer[:300])
    # The whole body, as the room reads it, not each field alone: a field 1,024 deep reads
    # alone, but inside the body it is one level deeper than the room's reader takes.
    readable, whole = decoded(body)
    if len(body.encode()) > 64 * 1024:
        assert r.status == 413, answer[:300]  # too big to read at all
    elif not readable:
        assert r.status == 400 and "send a JSON object" in answer, answer[:300]
    elif any(not isinstance(whole[name], str | None) for name in fields if name != "name"):
        assert r.status in (400, 413), answer[:300]  # refused (413: text too long), never
        # stored as a Python repr
    elif r.status == 200:
        stored = bot.archive.message("web", (await r.json())["id"])
        assert stored is not None and stored.text == stored.text.strip() != ""
    no_errors_logged(caplog)


async def test_the_reported_bodies_answer_400_in_plain_words(busy_room) -> None:  # type: ignore[no-untyped-def]
    bot, client = busy_room
    deep = "[" * 1000 + "]" * 1000
    for fields, field in (({"text": deep}, "text"), ({"text": '"A1 x"', "reply_to": deep},
                                                     "reply_to")):
        body = body_text({"key": json.dumps(KEY), "name": '"P"', **fields})
        r = await client.post(URL, data=body.encode(),
                              headers={"Content-Type": "application/json"})
        assert r.status == 400, await r.text()
        assert "must be a" in (await r.json())["error"] and field in (await r.json())["error"]
    for text in ('{"a": 1}', "true", "5", "[1, 2]"):
        r = await client.post(URL, data=body_text({"key": json.dumps(KEY), "name": '"P"',
                                                   "text": text}).encode(),
                              headers={"Content-Type": "application/json"})
        assert r.status == 400 and (await r.json())["code"] == "bad_text", text
    assert [m.text for m in bot.archive.messages(bot.live_session("webtest") or 0)
            if not m.is_host] == []  # nothing was stored as "{'a': 1}" or "True"


@contextlib.asynccontextmanager
async def joined_socket(client: TestClient) -> AsyncIterator[Any]:
    """One participant's socket, joined (one per example, so none reads another's replies)."""
    ws, _ = await join(client, "Pat", key=KEY)
    try:
        yield ws
    finally:
        await ws.close()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(kind=st.one_of(st.sampled_from(KINDS).map(json.dumps), FRAGMENT),
       fields=st.dictionaries(st.sampled_from(FIELDS), FRAGMENT, max_size=3))
# Found by this test: a field that reads alone but makes the frame one level too deep.
@example(kind='"send"', fields={"key": "[" * 1024 + "]" * 1024, "nonce": "[]"})
async def test_any_frame_is_answered_and_the_socket_stays_open(  # type: ignore[no-untyped-def]
        busy_room, caplog, kind, fields) -> None:
    """Whatever a frame holds, the room answers it (an error frame at worst) and then still
    answers a ping on the same socket: the connection is never dropped."""
    async with joined_socket(busy_room[1]) as ws:
        await answered_and_open(ws, caplog, kind, fields)


async def answered_and_open(ws: Any, caplog: pytest.LogCaptureFixture, kind: str,
                            fields: dict[str, str]) -> None:
    """Send one frame of `kind` with `fields`, then a ping: both answered, nothing logged."""
    frame = body_text({"type": kind, **fields})
    if len(frame.encode()) >= 64 * 1024:  # the socket's frame limit closes it, by design
        frame = body_text({"type": kind})
    await ws.send_str(frame)
    await ws.send_str('{"type": "ping"}')
    seen = await frames_until(ws, "pong", limit=20)
    errors = [f for f in seen if f.get("type") == "error"]
    assert all(f["code"] != "server_error" for f in errors), errors
    sent = {name: decoded(fragment) for name, fragment in fields.items()} \
        if frame != body_text({"type": kind}) else {}
    # The whole frame, not each field alone: a field 1,024 deep reads alone, but inside
    # the frame it is one level deeper than the room's reader takes (then: bad_json).
    readable = decoded(frame)[0]
    nonce = sent.get("nonce", (True, None))[1]
    if readable and not (nonce is None or isinstance(nonce, int | float)
                         or (isinstance(nonce, str) and len(nonce) <= 100)):
        assert [f["code"] for f in errors] == ["bad_nonce"], seen
    no_errors_logged(caplog)
    assert not ws.closed


async def test_the_reported_frames_get_an_error_frame(busy_room, caplog) -> None:  # type: ignore[no-untyped-def]
    async with joined_socket(busy_room[1]) as ws:
        await reported_frames_refused(ws, caplog)


async def reported_frames_refused(ws: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Each frame of the report gets its error frame, with the nonce when it was readable."""
    deep = "[" * 1000 + "]" * 1000
    nonce = '{"a":' * 300 + "1" + "}" * 300
    for frame, code in ((body_text({"type": '"send"', "nonce": '"n"', "text": deep}), "bad_text"),
                        (body_text({"type": '"send"', "nonce": '"n"', "text": '"A1 x"',
                                    "reply_to": deep}), "bad_id"),
                        (body_text({"type": '"edit"', "nonce": '"n"', "id": "[1]",
                                    "text": '"x"'}), "bad_id"),
                        (body_text({"type": '"delete"', "nonce": '"n"', "id": "true"}), "bad_id"),
                        (body_text({"type": '"bogus"', "nonce": nonce}), "bad_nonce"),
                        (body_text({"type": '"send"', "nonce": json.dumps("n" * 101),
                                    "text": '"A1 x"'}), "bad_nonce")):
        await ws.send_str(frame)
        error = (await frames_until(ws, "error"))[-1]
        assert error["code"] == code, (frame[:80], error)
        assert error["nonce"] == ("n" if code != "bad_nonce" else None)
    await ws.send_str('{"type": "ping"}')
    await frames_until(ws, "pong")
    no_errors_logged(caplog)
