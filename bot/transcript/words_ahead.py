"""The summary's reading of the texts, done ahead: while attribution and the skeleton run.

Tokenising every public message is about a tenth of a 100k-message transcript's CPU and
needs nothing attribution decides: the public messages, their order (session time) and
their texts are known as soon as the session is read. So the CLI reads the texts in a
forked worker (`bot.transcript.side_by_side.Ahead`) on the second core while this process
attributes the session and builds the skeleton, and the worker sends back `Spelled`: the
`Words` counts and each message's distinct words as numbers into a vocabulary (a few
MB, not 100k tuples). The per-question answer words are counted from those once the
skeleton says which messages are top-level answers of which question (`Tally`).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from itertools import chain

from bot.archive.records import StoredMessage
from bot.transcript.sources import MemorySource
from bot.transcript.words import Words


class Spelled:
    """`Words` of a session's public messages, and each one's distinct words, by position."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.vocab: list[str] = []  # word ids, in first-seen order (as words.df)
        self.ids = array("i")  # every message's distinct words as ids, one after another
        self.ends = array("q", [0])  # message i's ids are ids[ends[i]:ends[i + 1]]

    def add(self, toks: tuple[str, ...], index: dict[str, int]) -> None:
        """Note the next message's distinct words (`index`: word -> id, grown here)."""
        if toks:
            try:
                self.ids.extend(map(index.__getitem__, toks))
            except KeyError:  # new words: give them ids, then it is lookups again
                for w in toks:
                    if w not in index:
                        index[w] = len(self.vocab)
                        self.vocab.append(w)
                del self.ids[self.ends[-1]:]  # the part before the miss
                self.ids.extend(map(index.__getitem__, toks))
        self.ends.append(len(self.ids))

    def distinct(self, i: int) -> tuple[str, ...]:
        """Message i's distinct content words, in first-seen order (as Tokenizer.distinct)."""
        return tuple(map(self.vocab.__getitem__, self.ids[self.ends[i]:self.ends[i + 1]]))

    def counts_of(self, positions: Iterable[int]) -> Counter[str]:
        """How many of the messages at `positions` use each word (once per position given)."""
        ids, ends, vocab = self.ids, self.ends, self.vocab
        by_id = Counter(chain.from_iterable(ids[ends[i]:ends[i + 1]] for i in positions))
        return Counter({vocab[k]: n for k, n in by_id.items()})


def spell(public: Sequence[StoredMessage], hashtag: str) -> Spelled:
    """Count and spell the public messages (in session time order, as bones come)."""
    words = Words(hashtag)
    spelled = Spelled(words)
    index: dict[str, int] = {}
    add, note = words.add, spelled.add
    for i, m in enumerate(public):
        note(add(i, m.public_text, m.is_host), index)
    words.flush()
    return spelled


def spell_session(messages: Sequence[StoredMessage], post_keys: Collection[tuple[str, str]],
                  hashtag: str) -> Spelled:
    """`spell` the session's public messages, chosen and ordered as `MemorySource` does.

    Attribution changes where a message is placed, never whether it is public, its time
    or its text, so the messages as read (before attribution) give the same bones order.
    """
    return spell(MemorySource(messages, post_keys).public, hashtag)
