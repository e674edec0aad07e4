"""Bluesky's and Mastodon's text rules: facet byte offsets, grapheme and URL-weighted
lengths, HTML to plain text, and `tweetchat check` refusing posts too long for either."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.bluesky.text import facets_for, grapheme_count, prepare
from bot.platforms.mastodon.statuses import status_message
from bot.platforms.mastodon.text import countable_length, html_to_text, status_length
from bot.script import ScriptError, load_script
from bot.testing.fake_mastodon import render_html
from tests.conftest import chat_script, write_script


def spans(text: str) -> dict[str, str]:
    raw = text.encode()
    out = {}
    for f in facets_for(text, lambda handle: f"did:plc:{handle.split('.')[0]}"):
        kind = f["features"][0]["$type"].rsplit("#", 1)[1]
        out[kind] = raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
    return out


def test_an_emoji_before_a_link_moves_its_bytes_not_its_characters() -> None:
    text = "🎉👩‍⚕️ read https://example.org/a?b=1, then #NHSSM with @alice.bsky.social."
    assert spans(text) == {"link": "https://example.org/a?b=1", "tag": "#NHSSM",
                           "mention": "@alice.bsky.social"}
    tag = next(f for f in facets_for(text) if "tag" in f["features"][0])
    assert tag["features"][0]["tag"] == "NHSSM"  # no '#' in the facet


@given(st.text(max_size=40), st.text(alphabet=st.characters(categories=["L", "N"]),
                                     min_size=1, max_size=20))
def test_every_facet_names_exactly_its_text_whatever_comes_before(prefix: str,
                                                                   word: str) -> None:
    text = f"{prefix} https://example.org/{word} #{word}x"
    raw = text.encode()
    for f in facets_for(text):
        piece = raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
        feature = f["features"][0]
        if "uri" in feature:
            assert piece == feature["uri"]
        else:
            assert piece == "#" + feature["tag"]


def test_graphemes_count_what_a_person_sees() -> None:
    assert grapheme_count("👩‍👩‍👧‍👦") == 1  # a ZWJ family
    assert grapheme_count("🇬🇧🇫🇷") == 2
    assert grapheme_count("e\u0301") == 1
    assert grapheme_count("👍🏽!") == 2


def test_the_appended_hashtag_counts_against_300_graphemes() -> None:
    assert prepare("x" * 292, "#NHSSM").problem is None  # 292 + " #NHSSM" = 299
    assert prepare("x" * 294, "#NHSSM").problem is not None
    assert prepare("é" * 200 + " #NHSSM", "#NHSSM").bytes == 407
    assert "bytes" in (prepare("👩‍👩‍👧‍👦" * 120, "#T").problem or "")


def test_mastodon_counts_urls_as_23_and_remote_mentions_without_the_domain() -> None:
    long = "https://example.org/" + "a" * 80
    assert countable_length(f"see {long}") == 4 + 23
    assert countable_length("hi @bob@very.long.domain.example") == len("hi @bob")
    size, limit, _ = status_length("x" * 480, "#NHSSM", {"content_warning": "CW here"})
    assert (size, limit) == (480 + 7 + 7, 500)
    assert status_length("x", "#T", {"max_characters": 5})[1] == 5


def test_mastodon_html_becomes_plain_text_with_links_whole() -> None:
    text = "Hi @bob@remote.example and @cat, see https://example.org/a/very/long/path/x\n" \
           "line two #NHSSM\n\nnew & <para>"
    html = render_html(text)
    assert html_to_text(html) == text.replace("@bob@remote.example", "@bob")  # as shown
    mentions = {"https://remote.example/@bob": "bob@remote.example"}
    assert html_to_text(html, mentions) == text  # as meant


@given(st.text(max_size=200))
def test_any_html_converts_without_error(html: str) -> None:
    assert isinstance(html_to_text(html), str)


@pytest.mark.parametrize(("platform", "settings", "text", "limit"), [
    ("bluesky", "", "y" * 295, "300"),
    ("mastodon", "platform_settings:\n  mastodon:\n    max_characters: 100\n", "z" * 95, "100"),
    ("mastodon", "", "w" * 495, "500"),
])
def test_check_refuses_posts_too_long_for_the_network(tmp_path: Path, platform: str,
                                                      settings: str, text: str,
                                                      limit: str) -> None:
    script = chat_script(f"[{platform}]", settings).replace("First question?", text)
    with pytest.raises(ScriptError) as err:
        load_script(write_script(tmp_path, script))
    assert f"too long for {platform}" in str(err.value) and f"limit is {limit}" in str(err.value)
    fine = chat_script(f"[{platform}]", settings)
    assert load_script(write_script(tmp_path, fine, name="ok.yaml")).model.platforms == (platform,)


def test_a_status_keeps_its_id_as_text_its_cw_and_the_remote_author() -> None:
    status = {"id": "113500000000065536", "created_at": "2026-11-25T20:05:00.000Z",
              "edited_at": "2026-11-25T20:06:00.000Z", "in_reply_to_id": "113500000000000000",
              "spoiler_text": "work", "content": render_html("A1 hard #NHSSM"),
              "account": {"id": "7", "username": "bob", "acct": "bob@remote.example",
                          "display_name": ""}, "favourites_count": 3, "reblog": None,
              "mentions": [], "url": "https://remote.example/@bob/1"}
    message = status_message(status, status)
    assert message is not None
    assert (message.id, message.reply_to, message.author.handle, message.author.name) == (
        "113500000000065536", "113500000000000000", "bob@remote.example", "bob")
    assert message.text == "CW: work\n\nA1 hard #NHSSM" and message.edited is not None
    assert status_message({**status, "reblog": dict(status)}, status) is None  # a boost
