"""Public pages: home, calendar invites, the room page, the archive and search."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from icalendar import Calendar

from bot.calendar import chat_calendar
from bot.script import load_script
from tests.web.conftest import SCRIPT, advance_until, frames_until, join, until


async def test_home_lists_the_chat_with_times_and_links(room):
    _bot, client = room
    r = await client.get("/")
    assert r.status == 200
    html = await r.text()
    assert "Web room test chat" in html
    # The next Wednesday 20:00 London after 2026-01-07 12:00 UTC is the same day (GMT).
    assert 'datetime="2026-01-07T20:00:00+00:00"' in html
    assert "Wednesday 07 January 2026, 20:00" in html and "Europe/London" in html
    assert 'data-countdown="2026-01-07T20:00:00+00:00"' in html
    for link in ('href="/chats/webtest"', 'href="/chats/webtest.ics"',
                 'href="/archive?chat=webtest"'):
        assert link in html
    assert "<main" in html and 'class="skip"' in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "<script>" not in html  # no inline script anywhere


async def test_calendar_invite_is_a_weekly_event_in_the_chat_zone(room):
    _, client = room
    r = await client.get("/chats/webtest.ics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(await r.read())
    event = cal.events[0]
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.start == datetime(2026, 1, 7, 20, 0, tzinfo=event.start.tzinfo)
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["WE"]
    assert "UNTIL" not in rule
    exdates = [d.dt for ex in ([event["EXDATE"]] if not isinstance(event["EXDATE"], list)
                               else event["EXDATE"]) for d in ex.dts]
    assert [d.date().isoformat() for d in exdates] == ["2031-01-01"]
    assert [tz["TZID"] for tz in cal.timezones] == ["Europe/London"]
    assert "http://" in str(event["DESCRIPTION"]) and "/chats/webtest" in str(event["URL"])


def test_calendar_until_for_a_last_date_is_utc(tmp_path: Path):
    text = SCRIPT.format(id="ending", close="60m").replace(
        "  skip: [2031-01-01]", "  last: 2026-07-01")
    path = tmp_path / "ending.yaml"
    path.write_text(text)
    cal = Calendar.from_ical(chat_calendar(load_script(path),
                                           now=datetime(2026, 1, 1, tzinfo=UTC)))
    until_ = cal.events[0]["RRULE"]["UNTIL"][0]
    # 1 July is summer time: 20:00 BST is 19:00 UTC.
    assert until_ == datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
    assert "EXDATE" not in cal.events[0]  # the skipped date is after the last one


async def test_room_page_before_the_chat(room):
    _, client = room
    r = await client.get("/chats/webtest")
    assert r.status == 200
    html = await r.text()
    assert 'data-chat="webtest"' in html and 'data-hashtag="#WebTest"' in html
    assert 'id="before"' in html and "questions stay hidden" in html
    assert "What brings you here" not in html  # questions are not revealed before they go out
    assert '<label for="join-name">' in html
    static = await client.get("/static/tweetchat.js")
    assert static.status == 200 and "textContent" in await static.text()
    css = await client.get("/static/tweetchat.css")
    assert css.status == 200 and ":focus-visible" in await css.text()


async def test_unknown_chat_is_404_everywhere(room):
    _, client = room
    for path in ("/chats/nope", "/chats/nope.ics", "/chats/nope/ws", "/archive?chat=nope",
                 "/archive/999"):
        r = await client.get(path)
        assert r.status == 404, path
    r = await client.post("/api/chats/nope/messages", json={"key": "k" * 20, "name": "A",
                                                           "text": "hi"})
    assert r.status == 404 and (await r.json())["code"] == "unknown_chat"


async def test_archive_transcript_and_search_after_a_session(room, clock):
    bot, client = room
    sid = await bot.start_session("webtest", rehearsal=True, pace=1)
    await advance_until(clock, lambda: any(i.key == "q1" and i.status == "sent"
                                           for i in bot.archive.items(sid)), what="Q1")
    ws, _ = await join(client, "Ann")
    await ws.send_json({"type": "send", "text": "A1 <b>bold</b> canteen rule #WebTest",
                        "nonce": "1"})
    ack = (await frames_until(ws, "ack"))[-1]
    bot.control("stop", chat_id="webtest")
    await frames_until(ws, "published")
    await ws.close()
    r = await client.get("/archive")
    html = await r.text()
    assert r.status == 200 and f'href="/archive/{sid}"' in html
    assert "Rehearsal" in html
    assert '<td class="n">1</td>' in html  # one message, one person
    r = await client.get(f"/archive/{sid}")
    page = await r.text()
    assert r.status == 200 and "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold" not in page
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    r = await client.get("/archive/search", params={"q": "canteen"})
    text = await r.text()
    assert "<mark>canteen</mark>" in text and f"/archive/{sid}#q1" in text
    assert "&lt;b&gt;" in text
    # Hidden by a moderator: gone from search and from the re-rendered transcript.
    bot.archive.set_moderation_state("web", ack["id"], hidden=True)
    await bot.publish(sid)
    r = await client.get("/archive/search", params={"q": "canteen"})
    assert "0 messages found" in await r.text()
    assert "canteen" not in await (await client.get(f"/archive/{sid}")).text()


async def test_transcript_is_rendered_on_demand(room, clock):
    bot, client = room
    sid = await bot.start_session("webtest", rehearsal=True)
    await until(lambda: bot.archive.items(sid)[0].status == "sent", what="welcome")
    bot.control("stop", chat_id="webtest")
    await until(lambda: bot.archive.session(sid).status == "ended", what="end")
    for path in (bot.transcripts_dir / "webtest").rglob("transcript.html"):
        path.unlink()
    r = await client.get(f"/archive/{sid}")
    assert r.status == 200 and "Web room test chat" in await r.text()


async def test_live_session_is_not_in_the_archive_yet(live):
    _, client, sid = live
    assert (await client.get(f"/archive/{sid}")).status == 404
    assert f'href="/archive/{sid}"' not in await (await client.get("/archive")).text()
