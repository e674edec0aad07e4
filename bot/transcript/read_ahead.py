"""The public texts read ahead: while the session is attributed and its skeleton built.

What the summary and the renderers make of each public message's text needs nothing
attribution decides: the public messages, their order (session time) and their texts are
known as soon as the session is read. So the CLI reads the texts in a forked worker
(`bot.transcript.side_by_side.Ahead`) on the second core while this process attributes
the session and builds the skeleton (about 1 s of a 100k-message transcript's CPU moves
off the path the user waits on). The worker sends back `ReadAhead`:

- `Spelled`: the summary's `Words` counts and each message's distinct words; the
  per-question answer words are counted from those once the skeleton says which
  messages are top-level answers of which question (`Tally`);
- each text as the HTML page and the Markdown write it (escaped, links made), by
  position: the two formats of the HTML lane then only look them up;
- each message's CSV cells that attribution does not decide (times, ids, author, reply-to,
  edited, reactions, link and text: `render_csv.FixedCells`), by position: the CSV only
  joins them with the cells attribution decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from bot.archive.records import StoredMessage
from bot.transcript.render_csv import Fixed, FixedCells
from bot.transcript.render_html import html_text
from bot.transcript.render_md import md_user
from bot.transcript.sources import MemorySource
from bot.transcript.words import Words


class Spelled:
    """`Words` of a session's public messages, and each one's distinct words, by position."""

    def __init__(self, words: Words, toks: list[tuple[str, ...]]) -> None:
        self.words = words
        # Pickled, the words are shared strings (pickle's memo): a few MB for 100k messages.
        self.toks = toks

    def distinct(self, i: int) -> tuple[str, ...]:
        """Message i's distinct content words, in first-seen order (as Tokenizer.distinct)."""
        return self.toks[i]

    def counts_of(self, positions: Iterable[int]) -> Counter[str]:
        """How many of the messages at `positions` use each word (once per position given)."""
        toks = self.toks
        return Counter(chain.from_iterable(toks[i] for i in positions))


def spell(public: Sequence[StoredMessage], hashtag: str) -> Spelled:
    """Count and spell the public messages (in session time order, as bones come)."""
    words = Words(hashtag)
    add = words.add
    toks = [add(i, m.public_text, m.is_host) for i, m in enumerate(public)]
    words.flush()
    return Spelled(words, toks)


@dataclass(frozen=True)
class ReadAhead:
    """What the worker read from the public texts, by position in session time order."""

    spelled: Spelled
    # Format -> each text as that format writes it; None where that is the text itself
    # (most chat messages need no escaping: nothing to send back for them).
    shown: dict[str, list[str | None]]
    csv: list[FixedCells]


def read_ahead(messages: Sequence[StoredMessage], post_keys: Collection[tuple[str, str]],
               hashtag: str, to_local: Callable[[datetime], datetime]) -> ReadAhead:
    """Read the session's public messages, chosen and ordered as `MemorySource` does.

    Attribution changes where a message is placed, never whether it is public, its time
    or its text, so the messages as read (before attribution) give the same bones order.
    `to_local` gives times in the chat's zone (`bot.transcript.build.local_clock`).
    """
    public = MemorySource(messages, post_keys).public
    texts = [m.public_text for m in public]
    fixed = Fixed()
    return ReadAhead(spell(public, hashtag), {"html": _changed(html_text, texts),
                                              "md": _changed(md_user, texts)},
                     [fixed(m, text, to_local(m.created))
                      for m, text in zip(public, texts, strict=True)])


def _changed(write: Callable[[str], str], texts: list[str]) -> list[str | None]:
    """`write` of each text, None where it gives the text back unchanged."""
    out: list[str | None] = []
    for text in texts:
        shown = write(text)
        out.append(None if shown == text else shown)
    return out
