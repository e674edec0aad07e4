"""The room in a real browser (Debian's chromium through Playwright): two participants, a
paced rehearsal, an answer and a threaded reply, a moderator hiding a message, the
transcript afterwards. Markup in names and messages must stay inert text. Screenshots go
to $TWEETCHAT_SCREENSHOTS (or a temporary folder) for a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.web.conftest import TOKEN, served, until

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
XSS_NAME = '<img src=x onerror="window.__xss=1">Bo'
XSS_TEXT = 'my answer <b>bold</b><script>window.__xss=2</script>'


@pytest.fixture
async def server(tmp_path: Path):
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is missing: run `make test` (it installs it)")
    async with served(tmp_path) as (bot, web):
        yield bot, web.url


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        try:
            yield b
        finally:
            await b.close()


async def test_two_participants_a_paced_session_and_the_transcript(server, browser, screenshots):
    from playwright.async_api import expect

    bot, url = server
    desktop = await browser.new_context(viewport={"width": 1280, "height": 900})
    phone = await browser.new_context(viewport={"width": 390, "height": 844},
                                      device_scale_factor=2, is_mobile=True, has_touch=True)
    ann, bo = await desktop.new_page(), await phone.new_page()
    errors: list[str] = []
    for page in (ann, bo):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{url}/chats/webtest")
        await expect(page.locator("#before")).to_be_visible()
        await expect(page.locator("#before .countdown")).to_contain_text("Starts in")

    for page, name in ((ann, "Ann"), (bo, XSS_NAME)):
        await page.fill("#join-name", name)
        await page.click("#join-form button[type=submit]")

    # A rehearsal at real pace, moved on by the moderator's controls rather than by the
    # clock, so a slow machine cannot let Q2 overtake the answers to Q1: once the welcome
    # is out, `skip` posts Q1 now, and `pause` holds Q2 (due at minute 2) until `stop`.
    sid = await bot.start_session("webtest", pace=1, rehearsal=True)
    await until(lambda: any(i.key == "welcome" and i.status == "sent"
                            for i in bot.archive.items(sid)), what="the welcome", tries=3000)
    bot.control("skip", chat_id="webtest")
    await until(lambda: any(i.number == 1 and i.status == "sent"
                            for i in bot.archive.items(sid)), what="Q1", tries=3000)
    bot.control("pause", chat_id="webtest")
    for page in (ann, bo):
        await expect(page.locator("#pinned")).to_be_visible(timeout=15000)
        await expect(page.locator("#pinned-text")).to_contain_text("What brings you here")
        await expect(page.locator("#compose")).to_be_visible()
        await expect(page.locator("#tag-label")).to_have_text("A1")

    await ann.fill("#text", XSS_TEXT)
    await ann.click("#send-button")
    answer = bo.locator("#stream .msg", has_text="my answer")
    await expect(answer).to_be_visible(timeout=10000)
    await expect(answer.locator(".text")).to_have_text(f"A1 {XSS_TEXT} #WebTest")
    await expect(ann.locator("#text")).to_have_value("")

    await answer.locator("button.reply").click()
    await expect(bo.locator("#replying")).to_be_visible()
    await bo.fill("#text", "Agreed, and <i>more</i>")
    await bo.click("#send-button")
    thread = ann.locator("#stream > li", has_text="my answer").locator("ol.replies .msg")
    await expect(thread).to_contain_text("Agreed, and <i>more</i>", timeout=10000)
    await expect(thread.locator(".author")).to_have_text(XSS_NAME)

    # Something to take down: the moderator hides it and both rooms update.
    await ann.fill("#text", "Ward 7 patient details, sorry")
    await ann.click("#send-button")
    for page in (ann, bo):
        await expect(page.locator(".msg", has_text="Ward 7")).to_be_visible(timeout=10000)
    mod = await desktop.new_page()
    await mod.goto(f"{url}/moderate")
    await mod.fill("#token", TOKEN)
    await mod.click("form[action='/moderate/login'] button")
    await expect(mod.locator("h1")).to_have_text("Moderator console")
    await mod.locator(".mod-message", has_text="Ward 7").locator("button",
                                                                has_text="Hide").click()
    await expect(mod.locator(".flash")).to_contain_text("hide")
    for page in (ann, bo):
        await expect(page.locator(".msg", has_text="Ward 7")).to_have_count(0, timeout=10000)

    # Nothing anybody typed ran or became markup.
    for page in (ann, bo):
        assert await page.evaluate("window.__xss") is None
        assert await page.locator("#stream b, #stream i, #stream img, #stream script").count() == 0
    await ann.screenshot(path=str(screenshots / "room-desktop.png"), full_page=True)
    await bo.screenshot(path=str(screenshots / "room-phone.png"), full_page=True)
    await mod.screenshot(path=str(screenshots / "moderate-desktop.png"), full_page=True)

    bot.control("stop", chat_id="webtest")
    for page in (ann, bo):
        await expect(page.locator("#after")).to_be_visible(timeout=15000)
        await expect(page.locator("#transcript-link")).to_be_visible(timeout=15000)
    await bo.screenshot(path=str(screenshots / "room-closed-phone.png"), full_page=True)
    await until(lambda: bot.archive.session(sid).status == "ended", what="end")

    await ann.click("#transcript-link")
    await expect(ann).to_have_url(f"{url}/archive/{sid}")
    body = ann.locator("body")
    await expect(body).to_contain_text("A1 my answer <b>bold</b>")
    await expect(body).to_contain_text("Agreed, and <i>more</i>")
    await expect(body).not_to_contain_text("Ward 7")
    q1 = ann.locator("#q1")
    await expect(q1.locator(".replies")).to_contain_text("Agreed")  # the reply sits in the thread
    await ann.screenshot(path=str(screenshots / "transcript-desktop.png"), full_page=True)

    for page, suffix in ((ann, "desktop"), (bo, "phone")):
        await page.goto(f"{url}/archive")
        await expect(page.locator("table.sessions")).to_contain_text("Rehearsal")
        await page.screenshot(path=str(screenshots / f"archive-{suffix}.png"), full_page=True)
    await bo.goto(f"{url}/")
    await bo.screenshot(path=str(screenshots / "home-phone.png"), full_page=True)
    await ann.goto(f"{url}/archive/search?q=bold")
    await expect(ann.locator(".hit")).to_have_count(1)
    assert errors == []
    await desktop.close()
    await phone.close()


async def test_keyboard_only_join_and_send(server, browser):
    from playwright.async_api import expect

    bot, url = server
    page = await browser.new_page()
    await page.goto(f"{url}/chats/webtest")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.focus("#join-name")
    await page.keyboard.type("Kay")
    await page.keyboard.press("Enter")
    await bot.start_session("webtest", pace=60, rehearsal=True)
    await expect(page.locator("#compose")).to_be_visible(timeout=15000)
    await page.focus("#text")
    await page.keyboard.type("typed with the keyboard")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".msg.mine")).to_contain_text("typed with the keyboard",
                                                             timeout=10000)
    # The name survives a reload (localStorage) and the message is still there, once.
    await page.reload()
    await expect(page.locator("#compose")).to_be_visible(timeout=15000)
    await expect(page.locator(".msg.mine")).to_have_count(1)
    await page.close()
