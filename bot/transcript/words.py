"""A message's words as the summary reads them: links, markup, content words, and their counts.

`Tokenizer` turns a text into its content words (no stopwords, tags, links, mentions,
markup or the chat's hashtag); `Words` counts, one public message at a time in session
time order, what every summary needs from the texts: document frequencies, each
message's number of distinct words, and the links shared.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections import Counter
from collections.abc import Iterator
from itertools import chain
from typing import Any

URL_RE = re.compile(
    r"https?://[^\s<>\"'\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]+", re.IGNORECASE
)
_TRAILING = ".,;:!?'\"*_~"
WORD_RE = re.compile(r"[#@]?[^\W\d_][\w'’-]*")
TAG_RE = re.compile(r"[aqt]\d+[a-z]?$")

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't could couldn't did didn't do
    does doesn't doing don't down during each even ever few for from further get gets
    got had hadn't has hasn't have haven't having he he'd he'll he's her here here's
    hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
    it's its itself just let's like lot lots make many may me more most much must
    mustn't my myself no nor not now of off often on once one only or other ought our
    ours ourselves out over own really same say says shan't she she'd she'll she's
    should shouldn't so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've thing things think this
    those though through thanks thank to too under until up us very was wasn't way we
    we'd we'll we're we've well were weren't what what's when when's where where's which
    while who who's whom why why's will with won't would wouldn't yes yet you you'd
    you'll you're you've your yours yourself yourselves rt amp via im dont cant ive
    youre get got going know yeah
    hi hello evening morning welcome everyone everybody all tonight chat chats question
    questions answer answers great good agree agreed absolutely totally definitely love
    lovely happy share sharing far point points true exactly yes yep nope sure see
    thanks thank thx cheers glad brilliant fab fantastic amazing nice interesting
    nbsp quot href http https www html bold italic strong span div script alert
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def find_links(text: str) -> list[str]:
    """http(s) links in `text`, with sentence punctuation after them left off."""
    return [trim_link(m.group(0)) for m in URL_RE.finditer(text)]


def trim_link(url: str) -> str:
    """A link without the punctuation that ended the sentence around it."""
    url = url.rstrip(_TRAILING)
    # A closing bracket belongs to the link only if the link opened one ("wiki/Foo_(bar)").
    while (
        url
        and url[-1] in ")]}"
        and url.count(url[-1]) > url.count({")": "(", "]": "[", "}": "{"}[url[-1]])
    ):
        url = url[:-1].rstrip(_TRAILING)
    return url


# Markup people paste or platforms leave behind, and the masks moderation put in place of
# what it redacted ("[phone number removed]", "[removed by a moderator: ...]"): neither is
# what anyone said, so neither gives a key term.
_MARKUP = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1\s*>|</?[a-zA-Z][^<>]{0,200}>|&[#\w]{1,10};|"
    r"\[([^\]\n]{1,200})\]\((?:https?://)?[^)\s]{1,500}\)|"
    r"\[[^\[\]\n]{0,100}\bremoved\b[^\[\]\n]{0,100}\]", re.IGNORECASE | re.DOTALL)


def strip_markup(text: str) -> str:
    """Text without HTML tags (and script/style contents), entities, Markdown links, masks."""
    if "<" not in text and "&" not in text and "[" not in text:
        return text
    return _MARKUP.sub(lambda m: f" {m.group(2) or ''} ", text)


class Tokenizer:
    """Content words of a message, normalised once per distinct whitespace-separated chunk.

    Splitting on whitespace is C-fast; the regex, stopword and tag filtering then runs once
    per distinct chunk ("nurses," "#NHSSM" "https://...") and is a dict lookup afterwards.
    The cache also shares one string object per word, so 100k messages' token lists cost
    pointers rather than millions of small strings.
    """

    def __init__(self, hashtag: str) -> None:
        self.hashtag = hashtag.lstrip("#").lower()
        self._cache: dict[str, tuple[str, ...]] = {}

    def _normalise(self, chunk: str) -> tuple[str, ...]:
        if "://" in chunk:
            chunk = URL_RE.sub(" ", chunk)
        words = []
        for raw in WORD_RE.findall(chunk):
            if raw[0] == "@":
                continue
            w = raw.lstrip("#").strip("'’-")
            if not 3 <= len(w) <= 40 or w in STOPWORDS or w == self.hashtag or TAG_RE.match(w):
                continue
            words.append(sys.intern(w))
        return tuple(words)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its cache (a worker sends its counts, not what it memoised)."""
        return {"hashtag": self.hashtag, "_cache": {}}

    def __call__(self, text: str) -> list[str]:
        """The content words of `text`, in order, repeats kept."""
        return list(self.words(text))

    def distinct(self, text: str) -> tuple[str, ...]:
        """The content words of `text` without repeats, in first-seen order."""
        return tuple(dict.fromkeys(self.words(text)))

    def words(self, text: str) -> Iterator[str]:
        """The content words of `text` as an iterator, repeats kept."""
        chunks = text.lower().split()
        cache = self._cache
        try:
            # map + chain keep the per-word loop in C: this runs once per message.
            found = list(map(cache.__getitem__, chunks))
        except KeyError:  # new chunks: learn them, then it is lookups again
            for c in chunks:
                if c not in cache:
                    cache[c] = self._normalise(c)
            found = list(map(cache.__getitem__, chunks))
        return chain.from_iterable(found)


def tokens(text: str, hashtag: str) -> list[str]:
    """The content words of `text`: no stopwords, tags, links, mentions or `hashtag`."""
    return Tokenizer(hashtag)(text)




class Words:
    """The summary's counts of the public messages' texts, added in session time order.

    Only counts are kept (a million token lists would not fit): each message's distinct
    words count once into the document frequencies, links into `links`.
    """

    def __init__(self, hashtag: str) -> None:
        self.tokenizer = Tokenizer(hashtag)
        self.df: Counter[str] = Counter()
        self.docs = 0  # messages not by the host
        self.ntok = array("H")  # distinct words of each message (0 for the host's)
        self.links: Counter[str] = Counter()
        self.first_seen: dict[str, int] = {}  # link -> position of its first message
        # Word lists waiting to be counted: a few thousand at a time in one C call,
        # instead of one Counter.update per message.
        self._pending: list[tuple[str, ...]] = []

    def add(self, i: int, text: str, is_host: bool) -> tuple[str, ...]:
        """Count message `i` (the next position); its distinct words (none for the host's)."""
        if "http" in text or "HTTP" in text:
            for url in find_links(text):
                self.links[url] += 1
                self.first_seen.setdefault(url, i)
        if is_host:
            self.ntok.append(0)
            return ()
        toks = self.tokenizer.distinct(strip_markup(text))
        self.docs += 1
        self.ntok.append(min(len(toks), 0xFFFF))
        pending = self._pending
        pending.append(toks)
        if len(pending) >= 4096:
            self.flush()
        return toks

    def flush(self) -> None:
        """Count the words still waiting (call before reading `df`)."""
        if self._pending:
            self.df.update(chain.from_iterable(self._pending))
            self._pending.clear()
