"""Finding 11 of issue 12: spaced-out abuse (`c u n t`, `c.u.n.t`, `you're a c u n t`) is
caught, and spaced letters in normal text (plan A B C, U. S. A., a.k.a.) are not."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from bot.moderation import ModerationEngine, Policy
from bot.moderation.conduct import detect_abuse
from bot.moderation.wordlist import load_wordlist

CORPUS = Path(__file__).resolve().parent.parent / "moderation" / "corpus.jsonl"
WORDS = load_wordlist()
LISTED = sorted(w for w in WORDS.words if w.isalpha() and len(w) >= 4)
NOW = datetime(2026, 1, 7, tzinfo=UTC)


def spaced(word: str, separators: list[str]) -> str:
    return "".join(c + separators[i % len(separators)] for i, c in enumerate(word[:-1])) + word[-1]


def test_corpus_spaced_rows_are_caught_and_spaced_letters_are_not() -> None:
    engine = ModerationEngine(Policy.default())
    rows = [orjson.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]
    spaced_rows = [r for r in rows if any(
        lab["check"] == "abuse" and any(s in lab["match"] for s in " .-") for lab in r["labels"])]
    assert len(spaced_rows) >= 8
    for row in spaced_rows:
        found = [f for f in engine.verdict(row["text"], None, NOW).findings if f.check == "abuse"]
        match = row["labels"][0]["match"]
        start = row["text"].index(match)
        assert any(f.start <= start < f.end for f in found), row
    for text in ("plan A B C for the rota", "U. S. A. staff joined too", "a.k.a. the comms team",
                 "a s s e s s m e n t spelt out", "c u soon all #NHSSM", "p. s. see you at 8"):
        assert detect_abuse(text, WORDS) == [], text


@given(word=st.sampled_from(LISTED),
       separators=st.lists(st.sampled_from([" ", ".", "-", "_", "*", "~", ". ", "  ", "- "]),
                           min_size=1, max_size=3),
       before=st.sampled_from(["", "you are a ", "what a ", "I am a ", "A1 "]),
       after=st.sampled_from(["", "!", ".", " of a policy", "?"]))
def test_every_listed_word_spaced_out_is_caught(word: str, separators: list[str],
                                                before: str, after: str) -> None:
    text = before + spaced(word, separators) + after
    assert detect_abuse(text, WORDS), text


def unstretched(letters: str) -> str:
    """A stretched spelling read back ("fuuk" -> "fuk"): every run of a letter as one."""
    return re.sub(r"(.)\1+", r"\1", letters)


@example(letters=list("FUUK"), separator=" ")  # stretched: reads as a listed word
@given(letters=st.lists(st.sampled_from("ABCDEFGHJKLMNOPRSUVXYZ"), min_size=3, max_size=6),
       separator=st.sampled_from([" ", ". ", "."]))
def test_spaced_initials_are_not_abuse_unless_they_spell_it(letters: list[str],
                                                            separator: str) -> None:
    text = "the " + separator.join(letters) + " team"
    joined = "".join(letters).lower()
    # Spelled: a listed word from the first or second letter on, as written or stretched
    # (the detector reads "shiiit" as "shit", so "S H I I T" spells it too).
    spelled = any(form in WORDS for i in range(2) for j in range(i + 3, len(joined) + 1)
                  for form in (joined[i:j], unstretched(joined[i:j])))
    if not spelled:
        assert detect_abuse(text, WORDS) == [], text
    if unstretched(joined) in WORDS:
        assert detect_abuse(text, WORDS), text
