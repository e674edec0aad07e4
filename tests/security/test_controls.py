"""Finding 3 of issue 12: controls take finite, bounded numbers of the right type.

`extend nan` passed the `<= 0` check, SQLite stored NULL and every resume raised: the
session stayed live forever with no controls and no transcript. Same for `1e400`. Every
entry point (the host, the JSON API, the console, `tweetchat control`/`start`) now refuses
such values in one plain line (4xx, exit 2) and the session carries on.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.host import ControlError, extend_minutes, session_pace
from tests.conftest import write_script
from tests.test_cli import tweetchat
from tests.web.conftest import TOKEN, sign_in, until

BEARER = {"Authorization": f"Bearer {TOKEN}"}
BAD_NUMBERS = [math.nan, math.inf, -math.inf, 0, -1, 1e400, 10**400, 24 * 60 + 1, True, "5",
               [5], {"m": 5}, ""]


@given(st.one_of(st.floats(), st.integers(), st.text(max_size=30), st.booleans(), st.none()))
def test_extend_minutes_is_finite_positive_and_at_most_a_day(value) -> None:  # type: ignore[no-untyped-def]
    try:
        minutes = extend_minutes(value)
    except ControlError as exc:
        assert "\n" not in str(exc) and "extend" in str(exc)
        return
    assert math.isfinite(minutes) and 0 < minutes <= 24 * 60


@pytest.mark.parametrize("value", [math.nan, math.inf, 0, 0.01, 3601, "fast", True, [1]])
def test_pace_refuses_nonsense(value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ControlError):
        session_pace(value)


async def test_bad_extend_leaves_the_session_controllable(room) -> None:  # type: ignore[no-untyped-def]
    bot, _client = room
    sid = await bot.start_session("webtest", pace=60, rehearsal=True)
    for value in (math.nan, math.inf, 1e400, -5, 0):
        with pytest.raises(ControlError):
            bot.control("extend", value, session_id=sid)
    assert all(i.due_offset is not None and math.isfinite(i.due_offset)
               for i in bot.archive.items(sid))
    assert "moved 5 min later" in bot.control("extend", 5, session_id=sid)
    bot.control("stop", session_id=sid)
    await until(lambda: bot.archive.session(sid).status == "ended", what="the session to end")


async def test_api_refuses_bad_numbers_and_types_with_400(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    r = await client.post("/api/sessions", json={"chat": "webtest", "pace": 60}, headers=BEARER)
    sid = (await r.json())["session"]["id"]
    for value in BAD_NUMBERS:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**64:
            body = b'{"command": "extend", "minutes": ' + str(value).encode() + b"}"
        else:
            body = None
        if body is None:
            r = await client.post("/api/control", json={"command": "extend", "minutes": value},
                                  headers=BEARER)
        else:
            r = await client.post("/api/control", data=body, headers=BEARER)
        assert r.status == 400, (value, r.status, await r.text())
        assert "error" in await r.json()
    # Python's json reads NaN, Infinity and 1e400 (as inf): all refused.
    for raw in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        r = await client.post("/api/control", headers=BEARER,
                              data=b'{"command": "extend", "minutes": ' + raw + b"}")
        assert r.status == 400, raw
    for body in ({"command": ["pause"]}, {"command": "pause", "session": "1"},
                 {"command": "pause", "chat": 5}, {"command": "pause", "session": True}):
        r = await client.post("/api/control", json=body, headers=BEARER)
        assert r.status == 400, body
    for pace in ("NaN", "1e400", "0", "-1", "[60]", '"60"', "true"):
        r = await client.post("/api/sessions", headers=BEARER,
                              data=b'{"chat": "webtest", "pace": ' + pace.encode() + b"}")
        assert r.status == 400, pace
    r = await client.post("/api/control", json={"command": "extend", "minutes": 5},
                          headers=BEARER)
    assert r.status == 200
    assert [i.due_offset for i in bot.archive.items(sid)]  # stored, finite numbers


async def test_console_refuses_nan_in_one_line(room) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    csrf = await sign_in(client)
    sid = await bot.start_session("webtest", pace=60, rehearsal=True)
    for value in ("nan", "inf", "1e400", "-3"):
        r = await client.post("/moderate/control", data={
            "command": "extend", "minutes": value, "session": str(sid), "csrf": csrf})
        assert r.status == 200 and "extend&#39;s minutes must be" in await r.text(), value
    r = await client.post("/moderate/start", data={
        "chat": "webtest", "rehearsal": "on", "pace": "nan", "csrf": csrf})
    assert r.status == 200 and "pace must be" in await r.text()


@pytest.mark.parametrize(("args", "words"), [
    (["control", "extend", "nan"], "extend's minutes must be a number"),
    (["control", "extend", "1e400"], "extend's minutes must be a number"),
    (["start", "chats/test.yaml", "--now", "--pace", "nan"], "the pace must be a number"),
    (["start", "chats/test.yaml", "--now", "--pace", "inf"], "the pace must be a number"),
])
def test_cli_refuses_nan_in_one_line_exit_2(tmp_path, args, words) -> None:  # type: ignore[no-untyped-def]
    write_script(tmp_path / "chats")
    result = tweetchat(tmp_path, *args, MODERATOR_TOKEN="t0ken", TWEETCHAT_PORT="0")
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
