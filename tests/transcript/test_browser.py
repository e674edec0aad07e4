"""The HTML transcript in a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.transcript import build_transcript, write_transcript
from tests.transcript import sample as S

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def chromium_installed() -> None:
    # Never a silent skip: `make test` installs chromium, so its absence is a failure.
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is missing: run `make test` (it installs it)")


@pytest.fixture
def page_at(tmp_path: Path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    t = build_transcript(
        S.session(),
        S.items(),
        S.messages(),
        previous_participants=S.previous(),
        moderation_counts={"hidden": 1, "redacted": 1},
    )
    html = next(p for p in write_transcript(t, tmp_path, ("html",)) if p.suffix == ".html")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            yield browser, html.as_uri()
        finally:
            browser.close()


def test_structure_isolation_and_inert_hostile_text(page_at, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    browser, url = page_at
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_load_state("load")

    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main").count() == 1 and page.locator("nav").count() == 1
    assert page.locator("section.question").count() == 3
    assert page.locator("section.question h2").all_inner_texts()[0].startswith("Q1")
    # Bea's answer -> Dee's reply -> Bea's reply, nested two levels deep.
    nested = page.locator("#q1 ol.thread > li.msg ol.replies > li.msg ol.replies > li.msg")
    assert nested.count() == 1
    assert "Recruitment posts do well" in nested.inner_text()
    # The welcome, wrap-up and unplaced sections exist, the unplaced one with its hint.
    assert page.locator("#welcome, #wrapup, #unplaced").count() == 3
    assert "A3" in page.locator("#unplaced .hint").inner_text()

    # Nothing loaded but the file itself.
    assert requests == [url]
    # Hostile text is inert: no dialog, the script shown as text, no javascript: link.
    assert dialogs == []
    assert page.locator("#q2 ol.thread").get_by_text("<script>alert(1)</script>").count() == 1
    assert page.locator("script").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    hrefs = page.locator("main a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert all(h.startswith(("#", "https://", "http://")) for h in hrefs)
    # The right-to-left override stays inside its own isolated paragraph.
    rlo = page.locator("p.text", has_text="right to left override")
    assert rlo.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    assert rlo.get_attribute("dir") == "auto"
    # The 5,000-character word wraps instead of widening the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280

    page.screenshot(path=str(screenshots / "transcript.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshots / "transcript-phone.png"), full_page=False)
    phone.locator("#q1").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshots / "transcript-phone-q1.png"))


def test_series_index_renders_offline(page_at, tmp_path: Path, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from bot.transcript import SeriesEntry, render_series_index

    browser, _ = page_at
    entries = [
        SeriesEntry(
            i,
            date(2026, 1, 7 + 7 * i),
            i == 2,
            80 + 15 * i,
            20 + i,
            3 * i,
            f"2026-01-{7 + 7 * i:02d}/transcript.html",
        )
        for i in range(4)
    ]
    path = render_series_index("nhssm", "NHS Social Media chat", entries, tmp_path / "series")
    page = browser.new_page(viewport={"width": 900, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    assert requests == [path.as_uri()]
    assert page.locator("h1").count() == 1
    assert page.locator("tbody tr").count() == 4
    assert page.locator("svg.chart").count() == 2
    page.screenshot(path=str(screenshots / "series-index.png"), full_page=True)
