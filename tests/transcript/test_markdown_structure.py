"""The Markdown transcript as a Markdown viewer sees it, parsed by markdown-it (CommonMark).

Lines written one under another with no blank line or list marker between them are one
paragraph to every viewer; these tests parse the output and check each summary fact is its
own list item, and that no line anywhere in the transcript is silently joined to the next.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.transcript import build_transcript, render_markdown
from tests.transcript import sample as S

PARSER = MarkdownIt("commonmark").enable("table")


def section(md: str, heading: str) -> list[Token]:
    """The block tokens under the level-2 heading `heading`, up to the next level-2 heading."""
    tokens = PARSER.parse(md)
    start = next(
        i for i, tok in enumerate(tokens)
        if tok.type == "inline" and tok.content == heading and tokens[i - 1].tag == "h2"
    )
    end = next(
        (i for i in range(start + 2, len(tokens))
         if tokens[i].type == "heading_open" and tokens[i].tag == "h2"),
        len(tokens),
    )
    return tokens[start + 2 : end]


def summary_facts(md: str) -> list[str]:
    """The text of each item of the Summary section's first bullet list."""
    tokens = section(md, "Summary")
    assert tokens[0].type == "bullet_list_open", "the summary facts are not a bullet list"
    close = next(i for i, tok in enumerate(tokens) if tok.type == "bullet_list_close")
    return [tok.content for tok in tokens[:close] if tok.type == "inline"]


def softbreaks(md: str) -> list[str]:
    """Every inline whose lines a viewer joins into one (a soft line break inside it)."""
    return [
        tok.content for tok in PARSER.parse(md)
        if tok.type == "inline" and any(c.type == "softbreak" for c in tok.children or [])
    ]


def sample_md() -> str:
    t = build_transcript(
        S.session(), S.items(), S.messages(), previous_participants=S.previous(),
        moderation_counts={"hidden": 1, "redacted": 1}, reach=S.reach(),
    )
    return render_markdown(t)


def test_each_summary_fact_is_its_own_list_item() -> None:
    facts = summary_facts(sample_md())
    assert len(facts) == 4, facts
    assert facts[0].startswith("20 messages from 8 participants")
    assert facts[1].startswith("Media shared (images, videos, files): 3")
    assert facts[2].startswith("Impressions (theoretical maximum reach, not views): 1,550")
    assert facts[3] == "Busiest minute: 20:01, 1 message."


def test_a_rehearsals_script_time_note_is_its_own_list_item() -> None:
    start = S.START
    items = [replace(i, posted_at=start + (i.posted_at - start) / 60) if i.posted_at else i
             for i in S.items()]
    msgs = [S.msg("a1", 6 / 60, "Ann", "A1 a rehearsal answer here", **S.q(1))]
    md = render_markdown(build_transcript(S.session(rehearsal=True, pace=60.0), items, msgs))
    facts = summary_facts(md)
    assert "A rehearsal at 60× speed: times are in script time." in facts
    assert len(facts) == 5, facts


def test_no_line_of_the_sample_transcript_is_joined_to_the_next() -> None:
    md = sample_md()
    assert softbreaks(md) == []
    # The header's date and host lines stay two lines too (a hard break between them).
    header = PARSER.parse(md)[4]
    assert [c.type for c in header.children or []].count("hardbreak") == 1


# Text a participant could send that looks like Markdown block structure or line breaks.
TEXT = st.lists(
    st.sampled_from(list("ab 1.-+*#>|=_`\n\r\\") + ["\r\n", "  \n"]), max_size=40
).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=4), name=TEXT)
def test_no_participant_text_makes_lines_join(texts: list[str], name: str) -> None:
    msgs = [S.msg(f"m{i}", 6 + i, name or "Ann", f"A1 {text}", **S.q(1))
            for i, text in enumerate(texts)]
    md = render_markdown(build_transcript(S.session(), S.items(), msgs))
    assert softbreaks(md) == []
    assert len(summary_facts(md)) == 4
