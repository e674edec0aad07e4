"""What every format publishes, and what none of them may."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from datetime import date
from pathlib import Path

import orjson
import pytest

from bot.transcript import (
    SCHEMA,
    SeriesEntry,
    build_transcript,
    render_csv,
    render_html,
    render_json,
    render_markdown,
    render_series_index,
    write_transcript,
)
from bot.transcript.charts import bar_chart_png
from bot.transcript.model import Transcript
from bot.transcript.render_html import linkify
from bot.transcript.render_md import md_user
from tests.transcript import sample as S


def build(**kw: object) -> Transcript:
    return build_transcript(
        S.session(),
        S.items(),
        S.messages(),
        previous_participants=S.previous(),
        moderation_counts={"hidden": 1, "redacted": 1},
        **kw,  # type: ignore[arg-type]
    )


def all_formats(t: Transcript) -> dict[str, str]:
    return {
        "html": render_html(t),
        "md": render_markdown(t),
        "json": render_json(t).decode(),
        "csv": render_csv(t),
    }


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    return all_formats(build())


@pytest.mark.parametrize("fmt", ["html", "md", "json", "csv"])
def test_removed_and_redacted_text_never_published(outputs: dict[str, str], fmt: str) -> None:
    out = outputs[fmt]
    for secret in (S.HIDDEN_TEXT, S.DELETED_TEXT, S.DELETED_PARENT_TEXT, S.REDACTED_ORIGINAL):
        assert secret not in out
    for fragment in ("HIDDEN-", "DELETED-", "DELETEDPARENT-", "ORIGINAL-", "07700"):
        assert fragment not in out
    assert "removed by a moderator" in out  # the redacted version is what shows


@pytest.mark.parametrize("fmt", ["html", "md", "json", "csv"])
def test_every_public_message_is_published(outputs: dict[str, str], fmt: str) -> None:
    out = outputs[fmt]
    for needle in ("Recruitment posts do well", "staff Discord", "blogging matters", S.LONG_WORD):
        assert needle in out


def test_html_is_inert_and_self_contained(outputs: dict[str, str]) -> None:
    html = outputs["html"]
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html.lower()
    assert "javascript:alert(1)" in html  # shown as text
    assert 'http-equiv="Content-Security-Policy"' in html
    # No external resources of any kind; only http(s) links users shared, and anchors.
    assert "src=" not in html and "<link" not in html and "@import" not in html
    assert html.count("<h1>") == 1 and '<html lang="en">' in html
    assert 'name="viewport"' in html and "overflow-wrap:anywhere" in html
    assert "unicode-bidi:isolate" in html
    assert html.count('<section class="question"') == 3
    assert '<span class="badge">discord</span>' in html  # multi-platform: platform shown
    assert "edited</span>" in html and '<span class="badge">redacted</span>' in html
    assert "redacted by a moderator" not in html  # most are automatic: no false claim
    assert "Moderation: 1 hidden, 1 redacted." in html
    assert "A3 … #NHSSM" in html  # how to tag next time


def test_linkify_only_http_links() -> None:
    out = str(
        linkify('see https://a.example/x?y=1&z="2" and javascript:alert(1) or ftp://f.example')
    )
    assert out.count("<a ") == 1
    assert 'href="https://a.example/x?y=1&amp;z="' in out
    assert "javascript:alert(1)" in out and "ftp://f.example" in out
    assert str(linkify("<b>hi</b>")) == "&lt;b&gt;hi&lt;/b&gt;"
    # Sentence punctuation and unbalanced brackets stay outside the link.
    assert 'href="https://w.example/Foo_(bar)"' in str(linkify("(https://w.example/Foo_(bar))."))


def test_markdown_escaping() -> None:
    assert md_user("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md_user("*bold* _it_ [x](javascript:alert(1))") == (
        "\\*bold\\* \\_it\\_ \\[x\\](javascript:alert(1))"
    )
    # An entity is never block syntax, so "&gt;" needs no backslash; "1." needs "1\.".
    assert md_user("# heading\n> quote\n1. list\n- item") == (
        "\\# heading\n&gt; quote\n1\\. list\n\\- item"
    )
    assert md_user("a\r# b") == "a\n\\# b"
    assert md_user("see https://a.example/x_y") == "see <https://a.example/x_y>"
    isolated = md_user(f"{S.RLO}abc")
    assert isolated.startswith("\u2068") and isolated.endswith("\u2069")
    md = render_markdown(build())
    assert "\n# " not in md.replace("\n# NHS Social Media chat", "")  # one title only
    assert "&lt;script&gt;" in md and "<script>" not in md
    assert "- **Bea** @bea (20:06, web): A1" in md
    assert "    - **Bea** @bea (20:09, web): Thanks Dee!" in md  # nested two levels
    assert "**REHEARSAL**" not in md


def test_json_schema_shape() -> None:
    d = orjson.loads(render_json(build()))
    assert d["schema"] == SCHEMA == "tweetchat.transcript/1"
    assert d["session"]["local_start"] == "2026-01-07T20:00:00+00:00"
    assert [q["label"] for q in d["questions"]] == ["Q1", "Q2", "Q3"]
    q1 = d["questions"][0]
    assert q1["stats"]["answers"] == 7 and q1["stats"]["median_first_answer_seconds"] == 180
    first = q1["answers"][0]
    assert first["id"] == "m3" and first["platform"] == "web"
    assert first["author"] == {"id": "bea", "name": "Bea", "handle": "bea", "host": False,
                               "role": None}
    assert first["time"] == "2026-01-07T20:06:00+00:00"
    assert first["attribution"] == {
        "section": "question",
        "question": 1,
        "extra_questions": [],
        "method": "tag",
        "confidence": 1.0,
    }
    reply = first["replies"][0]
    assert reply["id"] == "m5" and reply["replies"][0]["id"] == "m6"
    assert reply["attribution"]["method"] == "reply"
    assert q1["also_answered_by"] == [{"platform": "web", "id": "m19"}]
    assert [m["id"] for m in d["unplaced"]] == ["m21"]
    assert d["summary"]["links"][0] == {"url": "https://example.org/nhs-guide", "count": 2}
    assert d["summary"]["moderation"] == {"hidden": 1, "redacted": 1}
    ids = [m["id"] for q in d["questions"] for m in q["answers"]]
    assert "m7" not in ids and "m9" not in ids


def test_csv_rows() -> None:
    text = render_csv(build())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 21  # one per public message, the host's Q1 post included
    by_id = {r["id"]: r for r in rows}
    assert (by_id["w-q1"]["kind"], by_id["w-q1"]["host"]) == ("question", "1")
    assert by_id["m3"]["kind"] == "answer" and by_id["m5"]["kind"] == "reply"
    assert by_id["m3"]["question"] == "Q1" and by_id["m5"]["reply_to"] == "m3"
    assert by_id["m21"]["section"] == "unplaced" and by_id["m21"]["question"] == ""
    assert by_id["d1"]["platform"] == "discord"
    assert by_id["m19"]["extra_questions"] == "1"
    assert by_id["m13"]["redacted"] == "1"
    assert by_id["m4"]["edited"] == "2026-01-07T20:08:00+00:00"


def test_csv_formula_guard() -> None:
    msgs = [S.msg("f1", 6, "=cmd", '=HYPERLINK("http://evil")', **S.q(1))]
    rows = list(
        csv.DictReader(io.StringIO(render_csv(build_transcript(S.session(), S.items(), msgs))))
    )
    assert rows[0]["text"].startswith("'=") and rows[0]["author_name"] == "'=cmd"


def test_engaged_order_and_rehearsal_and_t_style() -> None:
    t = build_transcript(
        S.session(rehearsal=True, tag_style="T"), S.items(), S.messages(), order="engaged"
    )
    out = all_formats(t)
    assert "REHEARSAL" in out["html"] and "**REHEARSAL**" in out["md"]
    assert '"rehearsal": true' in out["json"]
    assert '<span class="qlabel">T1</span>' in out["html"] and "## T2: " in out["md"]
    assert "Answers, most engaged first" in out["html"]


def test_write_transcript_files(tmp_path: Path) -> None:
    paths = write_transcript(build(), tmp_path / "nhssm" / "2026-01-07")
    assert [p.name for p in paths] == [
        "transcript.html",
        "transcript.md",
        "transcript.json",
        "transcript.csv",
        "activity.png",
    ]
    assert all(p.stat().st_size > 0 for p in paths)
    assert not list((tmp_path / "nhssm" / "2026-01-07").glob(".*tmp"))  # no temp files left
    assert (tmp_path / "nhssm/2026-01-07/transcript.md").read_text() == render_markdown(build())
    with pytest.raises(ValueError, match="unknown transcript format 'pdf'"):
        write_transcript(build(), tmp_path, ("pdf",))


def _png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    return width, height, zlib.decompress(idat)


def test_activity_png_is_a_valid_bar_chart() -> None:
    width, height, raw = _png_size_and_pixels(bar_chart_png([0, 4, 2], width=90, height=60))
    assert (width, height) == (90, 60)
    stride = 1 + width * 3
    assert len(raw) == stride * height
    def pixel(x: int, y: int) -> bytes:
        return raw[y * stride + 1 + 3 * x : y * stride + 4 + 3 * x]
    bar = bytes((0x1F, 0x5F, 0x8B))
    assert pixel(40, 25) == bar  # the middle (tallest) bar
    assert pixel(15, 25) != bar  # the first minute had no messages


def test_series_index(tmp_path: Path) -> None:
    entries = [
        SeriesEntry(1, date(2026, 1, 7), False, 120, 30, 0, "2026-01-07/transcript.html"),
        SeriesEntry(2, date(2026, 1, 14), False, 150, 35, 20, "2026-01-14/transcript.html"),
        SeriesEntry(3, date(2026, 1, 13), True, 10, 2, 2, "2026-01-13/transcript.html"),
        SeriesEntry(4, date(2026, 1, 21), False, 90, 25, 18, "javascript:alert(1)"),
    ]
    path = render_series_index("nhssm", "NHS <Social> Media", entries, tmp_path)
    html = path.read_text()
    assert path.name == "index.html"
    assert "NHS &lt;Social&gt; Media" in html
    assert 'href="2026-01-14/transcript.html"' in html
    assert "javascript:" not in html  # a bad link is shown as a plain date
    assert html.count("REHEARSAL") == 1
    assert html.count("<polyline") == 3  # participants, returning, messages
    # Newest first in the table.
    assert html.index("2026-01-21") < html.index("2026-01-14") < html.index("2026-01-07")
