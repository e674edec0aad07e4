"""The moderator console in Chromium: sign in, a control, sign out revokes, and a page on
another port of the same machine (same site, so SameSite=Strict does not stop the cookie)
cannot drive the JSON API through the moderator's browser (issue 12, finding 4). The
sign-in page and the console with a live session pass axe's WCAG 2.2 AA rules."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.archive import moderator_sessions
from tests.web.conftest import TOKEN, until
from tests.web.test_browser import browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "wcag22aa"]}}

EVIL_PAGE = """<!doctype html><html lang="en"><head><title>win a prize</title></head><body>
<form id="f" method="post" action="{target}/api/control" enctype="text/plain">
<input name='{{"command": "pause", "x": "' value='"}}'></form>
<script>
window.results = [];
async function attack() {{
  for (const [mode, headers] of [["no-cors", {{"Content-Type": "text/plain"}}],
                                 ["cors", {{"Content-Type": "application/json",
                                            "X-CSRF-Token": "guess"}}]]) {{
    try {{
      const r = await fetch("{target}/api/control", {{method: "POST", mode, credentials: "include",
        headers, body: JSON.stringify({{command: "pause"}})}});
      window.results.push(mode + ":" + r.status);
    }} catch (e) {{ window.results.push(mode + ":blocked"); }}
  }}
  window.done = true;
}}
</script></body></html>"""


async def evil_site(target: str) -> tuple[web.AppRunner, str]:
    """A page on another port of 127.0.0.1 that tries to pause the chat."""
    async def page(_: web.Request) -> web.Response:
        return web.Response(text=EVIL_PAGE.format(target=target), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/"


async def test_console_sign_in_control_and_sign_out_in_chromium(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import expect

    bot, url = server
    sid = await bot.start_session("webtest", pace=60, rehearsal=True)
    context = await browser.new_context()
    mod = await context.new_page()
    await mod.goto(f"{url}/moderate")
    results = await Axe().run(mod, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()  # the sign-in page
    await mod.fill("#token", TOKEN)
    await mod.click("form[action='/moderate/login'] button")
    await expect(mod.locator("h1")).to_have_text("Moderator console")
    results = await Axe().run(mod, options=AXE_OPTIONS)  # the console, a session live
    assert results.violations_count == 0, results.generate_report()
    [cookie] = [c for c in await context.cookies() if c["name"] == "tweetchat_mod"]
    assert cookie["value"] != TOKEN and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert await mod.evaluate("document.cookie") == ""  # HttpOnly: no script can read it

    # A form control, and a JSON call the way a console script would make it.
    await mod.locator(".live-session form.controls button", has_text="Pause").click()
    await expect(mod.locator(".flash")).to_contain_text("paused")
    assert bot.archive.session(sid).status == "paused"
    status = await mod.evaluate("""async () => {
        const csrf = document.querySelector("[data-csrf]").dataset.csrf;
        const r = await fetch("/api/control", {method: "POST", headers: {
            "Content-Type": "application/json", "X-CSRF-Token": csrf},
            body: JSON.stringify({command: "resume"})});
        return r.status; }""")
    assert status == 200 and bot.archive.session(sid).status == "live"
    log = bot.archive.session_log(sid)
    assert all("(by console:" in row["detail"] for row in log if row["kind"].startswith(
        "control:"))

    # Another port of the same host: the cookie goes along (same site), the attack does not.
    runner, evil_url = await evil_site(url)
    try:
        evil = await context.new_page()
        await evil.goto(evil_url)
        await evil.evaluate("attack()")
        await evil.wait_for_function("window.done === true")
        results = await evil.evaluate("window.results")
        assert results[0] == "no-cors:0"  # opaque: the browser hides the 403 from the page
        assert results[1] == "cors:blocked"  # no CORS answer, so the preflight fails
        async with evil.expect_navigation():
            await evil.evaluate("document.getElementById('f').submit()")
        assert "X-CSRF-Token header" in await evil.content()  # the API's 403, cookie or not
        assert bot.archive.session(sid).status == "live"  # nothing paused it
    finally:
        await runner.cleanup()

    # Signing out revokes the session on the server: the old cookie opens nothing.
    await mod.click("form[action='/moderate/logout'] button")
    await expect(mod.locator("h1")).to_have_text("Moderator sign-in")
    assert moderator_sessions.count(bot.archive) == 0
    await context.add_cookies([{**cookie}])  # as if someone had copied it
    await mod.goto(f"{url}/moderate")
    await expect(mod.locator("h1")).to_have_text("Moderator sign-in")
    await until(lambda: bot.archive.session(sid).status == "live", what="still live")
    await context.close()
