"""The archive's search page in Chromium passes axe's WCAG 2.2 AA rules in every state it
can be in: results ranked, the newest 50 when too many match, too broad, and a refusal."""

from __future__ import annotations

import pytest

from bot.archive import page_reads
from tests.web.test_archive_pages_off_loop import ended_session
from tests.web.test_browser import browser, server  # noqa: F401  (fixtures)
from tests.web.test_console_browser import AXE_OPTIONS

pytestmark = pytest.mark.browser


async def test_search_page_states_pass_axe(server, browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from axe_playwright_python.async_playwright import Axe

    bot, url = server
    ended_session(bot.archive, 4000)
    page = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
    states = [
        ("canteen", 200, "the best 50", None),
        ("one two three four five six seven eight nine", 400, "at most 8 different words", None),
        ("canteen", 200, "the newest 50", 10),  # past the budget: newest first, and said so
        ("canteen", 200, "cannot be searched quickly", 0),  # not even the newest fit
    ]
    for query, status, said, budget in states:
        if budget is not None:
            monkeypatch.setattr(page_reads, "SEARCH_BUDGET", budget)
        response = await page.goto(f"{url}/archive/search?q={query.replace(' ', '+')}")
        assert response is not None and response.status == status
        assert said in await page.locator("main").inner_text()
        results = await Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    await page.close()
