"""The CPD certificate in a real browser: WCAG 2.2 AA (axe-core), phone width, A4 print."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.transcript.certificate import find_participant, render_certificate
from tests.transcript.test_certificate import transcript

CHROMIUM = "/usr/bin/chromium"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if shutil.which(CHROMIUM) is None:  # never a silent skip: `make test` installs it
        pytest.fail("Debian's chromium is missing: run `make test` (it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM,
                               args=["--no-sandbox", "--disable-background-networking",
                                     "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def certificate_url(tmp_path: Path) -> str:
    t = transcript()
    path = tmp_path / "certificate-bea.html"
    path.write_text(render_certificate(t, find_participant(t, "web", "bea")), "utf-8")
    return path.as_uri()


def test_certificate_passes_axe_wcag22_aa(browser, certificate_url: str) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    for width in (1280, 360):
        page = browser.new_page(viewport={"width": width, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.goto(certificate_url)
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
        assert results.violations_count == 0, results.generate_report()
        assert requests == [certificate_url]  # self-contained: nothing else is fetched
        # Readable on a phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.close()


def test_reflective_boxes_take_typing_and_print_on_a4(browser, certificate_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(certificate_url)
    boxes = page.get_by_role("textbox")
    assert boxes.count() == 4
    first = page.get_by_role("textbox", name="1. What was the nature of the CPD activity")
    first.click()
    page.keyboard.type("An online chat on social media policy.")
    assert "social media policy" in first.inner_text()
    page.emulate_media(media="print")
    assert page.locator(".reflect").evaluate("e => getComputedStyle(e).breakBefore") == "page"
    assert page.locator(".note.screen").is_hidden()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and 2 <= pages <= 4  # the reflective account on its own page
    page.close()
