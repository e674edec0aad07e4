"""Who is speaking: declared roles as badges, a mix per question, a filter, a column."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import orjson
import pytest

from bot.transcript import build_transcript, render_csv, render_html, render_json, render_markdown
from tests.transcript import sample as S

ROLES = {("web", "bea"): "Nurse", ("web", "cal"): "Patient", ("web", "dee"): "Nurse",
         ("discord", "hana"): "HR"}


def transcript():  # type: ignore[no-untyped-def]
    return build_transcript(S.session(), S.items(), S.messages(),
                            previous_participants=S.previous(), roles=ROLES)


def test_role_mix_per_question_counts_people_not_messages() -> None:
    s = transcript().summary
    # Q1 answered by Bea, Cal, Dee, Finn, Hana (Bea twice: counted once).
    assert s.by_number[1].roles == [("Nurse", 2), ("HR", 1), ("Patient", 1), ("", 1)]
    assert build_transcript(S.session(), S.items(), S.messages()).summary.by_number[1].roles == []


def test_roles_in_every_format() -> None:
    t = transcript()
    html = render_html(t)
    assert '<span class="badge role">Nurse</span>' in html
    assert 'data-role="r1"' in html and 'id="rf-all"' in html  # Nurse is r1 (HR, Nurse, Patient)
    assert "Whose voices: 2 Nurse, 1 HR, 1 Patient, 1 not stated." in html
    assert "Whose voices: 2 Nurse, 1 HR, 1 Patient, 1 not stated." in render_markdown(t)
    rows = list(csv.DictReader(io.StringIO(render_csv(t))))
    assert {r["author_name"]: r["role"] for r in rows if r["author_name"] in ("Bea", "Finn")} \
        == {"Bea": "Nurse", "Finn": ""}
    data = orjson.loads(render_json(t))
    first = data["questions"][0]["answers"][0]
    assert first["author"]["name"] == "Bea" and first["author"]["role"] == "Nurse"


def test_no_roles_no_filter() -> None:
    html = render_html(build_transcript(S.session(), S.items(), S.messages()))
    assert 'id="rf-all"' not in html and "badge role" not in html


@pytest.mark.browser
def test_the_role_filter_works_offline_in_a_browser(tmp_path: Path) -> None:
    if shutil.which("/usr/bin/chromium") is None:
        pytest.fail("Debian's chromium is missing: run `make test` (it installs it)")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "transcript.html"
    page_file.write_text(render_html(transcript()), "utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort()
                       if not route.request.url.startswith("file:") else route.continue_())
            page.goto(page_file.as_uri())
            cal = page.locator("#q1 li.msg", has_text="mostly listening").first.locator(
                "> .text")
            bea = page.locator("#q1 li.msg", has_text="recruit on Twitter").first.locator(
                "> .text")
            assert cal.is_visible() and bea.is_visible()
            page.get_by_label("Nurse", exact=True).check()
            assert bea.is_visible() and not cal.is_visible()
            page.get_by_label("everyone", exact=True).check()
            assert cal.is_visible()
            tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
            assert results.violations_count == 0, results.generate_report()
        finally:
            browser.close()
