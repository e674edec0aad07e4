"""Conduct (word list) and spam checks: table-driven, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.moderation.conduct import detect_abuse
from bot.moderation.spam import (
    SpamContext,
    SpamSettings,
    detect_deny_links,
    detect_link_only,
    detect_mass_mentions,
    detect_repeats_and_floods,
)
from bot.moderation.wordlist import ListError, load_wordlist, parse_deny_domains, parse_wordlist

WORDS = load_wordlist()


@pytest.mark.parametrize(("text", "matched"), [
    ("this policy is shit", ["shit"]),
    ("sh1t", ["sh1t"]),
    ("what an @ss", ["@ss"]),
    ("$hite", ["$hite"]),
    ("s h i t", ["s h i t"]),
    ("s.h.i.t", ["s.h.i.t"]),
    ("f-u-c-k-i-n-g HR", ["f-u-c-k-i-n-g"]),
    ("shiiiiit", ["shiiiiit"]),
    ("sh*t happens", ["sh*t"]),
    ("F**K that", ["F**K"]),
    ("FUCKING HELL", ["FUCKING"]),
    ("you twats", ["twats"]),
    ("piss off mate", ["piss off"]),
])
def test_abuse_found(text: str, matched: list[str]) -> None:
    assert [f.matched for f in detect_abuse(text, WORDS)] == matched


@pytest.mark.parametrize("text", [
    "Scunthorpe General Hospital",
    "the assessment class was a cocktail of therapists",
    "Essex, Middlesex and Sussex trusts",
    "Arsenal v Spurs",
    "shiitake soup in the canteen",
    "a needle prick injury",
    "A1 Q3 T2 2013 #NHSSM",
    "plan A B C",
    "a s s e s s m e n t",
    "grass is greener",
    "the @NHSEmployers account",
    "Dickens and the NHS",
    "I was pissed off ... no wait",  # "pissed" is left out on purpose
])
def test_abuse_scunthorpe_safe(text: str) -> None:
    assert detect_abuse(text, WORDS) == []


def test_wordlist_format_and_errors() -> None:
    words = parse_wordlist("# comment\nbadword\nrude*\n!rudeboy\n")
    assert "badword" in words and "rudeness" in words and "rudeboy" not in words
    assert [f.matched for f in detect_abuse("such rudeness, rudeboy", words)] == ["rudeness"]
    with pytest.raises(ListError, match=r"words.txt:2: .*not a word list entry"):
        parse_wordlist("ok\nb@d!!\n", "words.txt")
    with pytest.raises(ListError, match=r"deny.txt:1: 'not a domain' is not a domain"):
        parse_deny_domains("not a domain\n", "deny.txt")


T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def test_repeats_and_floods_per_author() -> None:
    ctx = SpamContext(SpamSettings(repeats=3, repeat_window=600, flood_messages=4,
                                   flood_seconds=60))
    seen = []
    for i in range(3):
        seen.append([f.check for f in detect_repeats_and_floods(
            "Join my webinar!!", "x:1", f"m{i}", T0 + timedelta(seconds=20 * i), ctx)])
    assert seen == [[], [], ["spam_repeat"]]
    # a replay of the same message id is not counted again
    at = T0 + timedelta(seconds=40)
    again = detect_repeats_and_floods("Join my webinar!!", "x:1", "m2", at, ctx)
    assert [f.check for f in again] == ["spam_repeat"]
    assert len(ctx.history["x:1"]) == 3
    # a different author is not affected; a fourth message within 60 s is a flood
    assert detect_repeats_and_floods("hello", "x:2", "n1", T0, ctx) == []
    at = T0 + timedelta(seconds=50)
    flood = detect_repeats_and_floods("something else", "x:1", "m3", at, ctx)
    assert [f.check for f in flood] == ["spam_flood"]
    # long after, nothing
    later = detect_repeats_and_floods("Join my webinar", "x:1", "m9", T0 + timedelta(hours=1), ctx)
    assert later == []
    ctx.prune(T0 + timedelta(hours=2))
    assert ctx.history == {}


@pytest.mark.parametrize(("text", "link_only"), [
    ("https://spam.example/buy-now", True),
    ("www.example.com #NHSSM @someone", True),
    ("nhs.uk", True),
    ("A1 our policy is at https://trust.nhs.uk/policy", False),
    ("good point, thanks.", False),
    ("e.g. this one", False),
])
def test_link_only(text: str, link_only: bool) -> None:
    assert bool(detect_link_only(text)) is link_only


def test_mass_mentions_and_deny_links() -> None:
    assert detect_mass_mentions("@a @b @c @d @e great chat", 5) == []
    assert [f.check for f in detect_mass_mentions("@a @b @c @d @e @f hi", 5)] == ["mass_mention"]
    deny = frozenset({"spam.example"})
    text = "see http://www.spam.example/x, sub.spam.example and nhs.uk"
    found = detect_deny_links(text, deny)
    assert [f.matched for f in found] == ["http://www.spam.example/x,", "sub.spam.example"]
    assert detect_deny_links("notspam.example.org and spam.examples.com", deny) == []
