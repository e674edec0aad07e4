"""The room in a real browser joins a long session with the latest page of messages, and
*Show earlier messages* brings the older pages in, in order, until there are no more."""

from __future__ import annotations

import pytest

from bot.platforms.web.room_view import RECENT
from tests.web.conftest import until
from tests.web.test_browser import browser, server  # noqa: F401 (fixtures)
from tests.web.test_room_join_cost import add_messages

pytestmark = pytest.mark.browser


async def test_a_long_session_opens_on_its_latest_page(server, browser):  # noqa: F811
    from playwright.async_api import expect

    bot, url = server
    sid = await bot.start_session("webtest", pace=1, rehearsal=True)
    await until(lambda: bot.archive.items(sid)[0].status == "sent", what="welcome")
    ids = add_messages(bot, sid, 2 * RECENT + 5)
    page = await browser.new_page()
    await page.goto(f"{url}/chats/webtest")
    stream = page.locator("#stream > li")
    await expect(stream).to_have_count(RECENT, timeout=15000)
    assert await stream.last.get_attribute("data-id") == ids[-1]
    older = page.locator("#older")
    await expect(older).to_be_visible()
    await older.click()
    await expect(stream).to_have_count(2 * RECENT, timeout=10000)
    await older.click()
    # The welcome and every message, each once and in order; the button is gone.
    await expect(stream).to_have_count(2 * RECENT + 6, timeout=10000)
    await expect(older).to_be_hidden()
    shown = await stream.evaluate_all("(items) => items.map((li) => li.dataset.id)")
    assert shown[1:] == ids and shown == sorted(shown)
    await page.close()
