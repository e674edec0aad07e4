"""The summary of a session: counts, per-question statistics, key terms, links, activity.

Pure functions of the transcript model. Definitions (also in docs/transcript-schema.md):

- messages: public messages shown in the transcript (host commentary included, the
  scripted welcome/question/closing posts not).
- participants: distinct (platform, author id) among non-host authors. "Returning" ones
  were in `previous_participants`; the rest are new.
- answers to a question: public messages attributed to it, replies included; messages
  tagged for several questions ("A1/A2") count for each.
- median first answer: for each participant who answered, the delay from the question's
  posted_at to their first answer (negative delays count as 0); the median of those.
  Measures how quickly people engage, not just how fast the single quickest typist was.
  In a paced rehearsal, delays and the activity chart are in script time (real time x
  pace), so a one-minute rehearsal of an hour-long chat reads like the hour.
- engagement: public replies anywhere below a message plus its reactions.
- representative answers: extractive, from top-level answers only, and only when there
  are at least three to choose from. Answers become tf-idf term vectors; the first pick
  is the answer closest (cosine) to the question's centroid, the next ones maximise
  closeness to the centroid minus similarity to those already picked (maximal marginal
  relevance), never a near-duplicate and, while others are left, never the same person
  twice. No external model.
- key terms: from top-level answers only (replies are mostly small talk), weighted
  against the other questions (document = one question's answers), so a term says what
  was particular to this question. Excluded: stopwords and chat small talk, the chat's
  own vocabulary (hashtag, question tags such as A1, Q2, T3), markup (HTML tags,
  entities, Markdown links), links, mentions and numbers.
- messages per participant: non-host messages / participants.
- top contributors: by messages, and by replies received (public replies from others).
- reposts: retweets/reposts of the chat's messages, counted apart (never in the thread).
- impressions: the sum of the follower counts of the distinct participants whose platform
  reported one with their messages (X, Mastodon; Bluesky rarely), each person once, at
  the largest count seen in the session. A theoretical maximum reach, not views. None
  ("not available") when no participant's platform gave a count, never 0.
- media shared: images, videos and files attached to public messages (X media keys,
  Mastodon media attachments, Bluesky image/video embeds, Discord attachments), counted
  apart from links.
"""

from __future__ import annotations

import heapq
import math
import operator
import re
import statistics
import sys
from array import array
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from datetime import timedelta
from itertools import chain, repeat
from typing import TYPE_CHECKING

from bot.archive.transcript_reads import Bone
from bot.transcript.model import Activity, Block, QuestionStats, Summary, Transcript
from bot.transcript.skeleton import IS_HOST, Skeleton, micros

if TYPE_CHECKING:
    from bot.transcript.layout import SkeletonLayout

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


MAX_MINUTES = 24 * 60
POOL_LIMIT = 2000  # answers considered per question for representative picks
SHORTLIST = 200


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


# Markup people paste or platforms leave behind: it is not what anyone said.
_MARKUP = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1\s*>|</?[a-zA-Z][^<>]{0,200}>|&[#\w]{1,10};|"
    r"\[([^\]\n]{1,200})\]\((?:https?://)?[^)\s]{1,500}\)", re.IGNORECASE | re.DOTALL)


def strip_markup(text: str) -> str:
    """Text without HTML tags (and script/style contents), entities and Markdown links."""
    if "<" not in text and "&" not in text and "](" not in text:
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


class Tally:
    """What the summary counts while the transcript's skeleton is built, one message at a time.

    Token lists are not kept (a million of them would not fit): each message's distinct
    words count once into the document frequencies and into its questions' answer words,
    and only how many there were is remembered. Representative answers re-read the few
    texts they need, one question at a time (`summarise`).
    """

    def __init__(self, hashtag: str, blocks: int) -> None:
        self.tokenizer = Tokenizer(hashtag)
        self.df: Counter[str] = Counter()
        self.docs = 0  # messages not by the host
        self.ntok = array("H")  # distinct words of each message (0 for the host's)
        self.answers = [array("i") for _ in range(blocks)]  # answers_of, per question block
        self.words: list[Counter[str]] = [Counter() for _ in range(blocks)]
        self.links: Counter[str] = Counter()
        self.first_seen: dict[str, int] = {}
        # Word lists waiting to be counted: a few thousand at a time in one C call each,
        # instead of one Counter.update per message. (Counter, lists of word tuples)
        self._pending: list[tuple[Counter[str], list[tuple[str, ...]]]] = [
            (c, []) for c in (self.df, *self.words)]

    def add(self, i: int, bone: Bone, depth: int, home: int, others: list[int]) -> None:
        """Count message `i`: `home` is its question block (or -1), `others` it answers too."""
        text = bone.text
        if "http" in text or "HTTP" in text:
            for url in find_links(text):
                self.links[url] += 1
                self.first_seen.setdefault(url, i)
        if bone.is_host:
            self.ntok.append(0)
            return
        toks = self.tokenizer.distinct(strip_markup(text))
        self.docs += 1
        pending = self._pending
        pending[0][1].append(toks)
        self.ntok.append(min(len(toks), 0xFFFF))
        if home >= 0:
            self.answers[home].append(i)
            if depth == 0:
                pending[home + 1][1].append(toks)
        for b in others:
            self.answers[b].append(i)
            if depth == 0:
                pending[b + 1][1].append(toks)
        if len(pending[0][1]) >= 4096:
            self.flush()

    def flush(self) -> None:
        """Count the words still waiting (call before reading `df` or `words`)."""
        for counter, waiting in self._pending:
            if waiting:
                counter.update(chain.from_iterable(waiting))
                waiting.clear()


def summarise(t: Transcript, tally: Tally, layout: SkeletonLayout, *, top: int = 10) -> Summary:
    """Compute the summary of a transcript from its skeleton and what `tally` counted."""
    sk = layout.skeleton
    tally.flush()
    people = [p for p in t.participants if not p.is_host]
    returning = sum(1 for p in people if p.returning)
    n_docs = max(1, tally.docs)
    idf = {w: math.log(n_docs / c) for w, c in tally.df.items()}
    pace = t.session.pace if t.session.rehearsal and t.session.pace > 0 else 1.0

    answer_words = {b.number: tally.words[b.position] for b in t.questions}
    q_df = Counter(chain.from_iterable(set(c) for c in answer_words.values()))
    q_idf = {w: math.log((len(answer_words) + 1) / (c + 0.5)) for w, c in q_df.items()}
    questions = [_question_stats(t, b, tally, layout, idf, q_idf, pace) for b in t.questions]

    links = tally.links
    ranked_links = sorted(links.items(), key=lambda kv: (-kv[1], tally.first_seen[kv[0]]))

    contributors = sorted(
        ((p, p.message_count) for p in people), key=lambda pc: (-pc[1], pc[0].first)
    )[:top]
    received = replies_received(sk)
    replied = sorted(
        ((p, received.get(p.number, 0)) for p in people if received.get(p.number, 0)),
        key=lambda pc: (-pc[1], pc[0].first))[:top]
    from_people = sum(p.message_count for p in people)
    known = [p.followers for p in people if p.followers is not None]

    s = Summary(
        messages=len(sk),
        participants=len(people),
        new_participants=len(people) - returning,
        returning_participants=returning,
        host_messages=sum(1 for f in sk.flags if f & IS_HOST),
        questions=questions,
        links=ranked_links,
        top_contributors=contributors,
        activity=activity(t, layout, pace),
        moderation=sorted((k, v) for k, v in t.moderation_counts.items() if v),
        messages_per_participant=round(from_people / len(people), 1) if people else 0.0,
        top_replied=replied,
        reposts=t.reposts,
        impressions=sum(known) if known else None,
        impressions_people=len(known),
        media=sum(sk.media),
        script_time=pace != 1.0,
    )
    s.by_number = {q.number: q for q in questions}
    return s


def replies_received(sk: Skeleton) -> Counter[int]:
    """Public replies each participant (by number) received from someone else."""
    author, got = sk.author, Counter[int]()
    for i, p in enumerate(sk.parent):
        if p >= 0 and author[p] != author[i]:
            got[author[p]] += 1
    return got


def role_mix(people: Collection[tuple[str, str]], roles: Mapping[tuple[str, str], str]
             ) -> list[tuple[str, int]]:
    """How many of these people declared each role ("" for none), most first."""
    if not roles:
        return []
    mix = Counter(roles.get(p, "") for p in people)
    return sorted(mix.items(), key=lambda rn: (rn[0] == "", -rn[1], rn[0]))


def _question_stats(
    t: Transcript, b: Block, tally: Tally, layout: SkeletonLayout, idf: dict[str, float],
    q_idf: dict[str, float], pace: float = 1.0,
) -> QuestionStats:
    assert b.number is not None
    sk = layout.skeleton
    answers = tally.answers[b.position]  # answers_of(b): positions in time order
    first: dict[int, int] = {}  # participant number -> their first answer
    for i in answers:
        first.setdefault(sk.author[i], i)
    median = None
    if b.posted_at is not None and first:
        posted = micros(b.posted_at)
        created = sk.created
        median = statistics.median(
            max(0.0, (created[i] - posted) / 1_000_000) * pace for i in first.values()
        )
    engaged = heapq.nsmallest(3, (i for i in answers if sk.engagement(i) > 0),
                              key=lambda i: (-sk.engagement(i), i))
    people = t.participants
    depth = sk.depth
    top_level = [i for i in answers if depth[i] == 0]
    return QuestionStats(
        number=b.number,
        label=b.label,
        answers=len(answers),
        participants=len(first),
        median_first_answer=median,
        most_engaged=list(layout.entries(engaged)),
        representative=list(layout.entries(_representative_of(top_level, tally, layout, idf))),
        roles=role_mix([people[a].key for a in first], t.roles),
        key_terms=key_terms(tally.words[b.position], q_idf, len(top_level)),
    )


def _representative_of(top_level: list[int], tally: Tally, layout: SkeletonLayout,
                       idf: dict[str, float]) -> list[int]:
    """`representative` for one question, reading back only the texts it needs."""
    ntok, source, ref = tally.ntok, layout.source, layout.skeleton.ref
    distinct = tally.tokenizer.distinct
    pool = [i for i in top_level if ntok[i] >= 2]
    # At least three different answers to choose from (usually the first three).
    seen: set[tuple[str, ...]] = set()
    for k in range(0, len(pool), 64):
        chunk = pool[k:k + 64]
        seen.update(distinct(strip_markup(x)) for x in source.texts([ref[i] for i in chunk]))
        if len(seen) >= 3:
            break
    if len(seen) < 3:
        return []
    want = 3 if len(pool) >= 6 else 2
    if len(pool) > POOL_LIMIT:
        # An even sample across the hour represents a big question as well as all of it
        # does, and keeps this linear in practice.
        pool = pool[:: math.ceil(len(pool) / POOL_LIMIT)]
    texts = source.texts([ref[i] for i in pool])
    author = layout.skeleton.author
    candidates = [(i, author[i], distinct(strip_markup(x))) for i, x in zip(pool, texts,
                                                                        strict=True)]
    return representative(candidates, idf, want=want)


def key_terms(words: Counter[str], q_idf: dict[str, float], n_answers: int, k: int = 6
              ) -> list[str]:
    """The `k` words most particular to one question's answers.

    `words` counts the answers using each word; `q_idf` weighs it against the other
    questions (a word every question's answers use says nothing about this one).
    """
    floor = 2 if n_answers >= 4 else 1  # a term one person used once is not "key"
    scored = [(c * q_idf.get(w, 0.0), w) for w, c in words.items() if c >= floor]
    scored = [sw for sw in scored if sw[0] > 0]
    scored.sort(key=lambda sw: (-sw[0], sw[1]))
    return [w for _, w in scored[:k]]


def _vector(words: tuple[str, ...], idf: dict[str, float]) -> dict[str, float]:
    v = {w: idf.get(w, 0.0) for w in words}
    norm = math.sqrt(sum(x * x for x in v.values()))
    return {w: x / norm for w, x in v.items()} if norm > 0 else {}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    # Rounded: sets iterate in hash order, which varies between runs, and the last bits of
    # a float sum must not decide which answer is picked.
    # map() keeps the loop in C; same products, same order, so the same sum.
    return round(sum(map(operator.mul, a.values(), map(b.get, a, repeat(0.0)))), 9)


def representative(
    pool: list[tuple[int, int, tuple[str, ...]]],
    idf: dict[str, float],
    *,
    want: int = 3,
    lam: float = 0.7,
) -> list[int]:
    """2-3 different answers, from different people, that together cover what was said.

    `pool` holds (position, author, distinct words) of the candidate answers in time
    order. Maximal marginal relevance; positions of the picks, in time order.
    """
    vectors = [(i, a, _vector(toks, idf)) for i, a, toks in pool]
    vectors = [(i, a, v) for i, a, v in vectors if v]
    centroid: dict[str, float] = {}
    for _, _, v in vectors:
        for w, x in v.items():
            centroid[w] = centroid.get(w, 0.0) + x
    cnorm = math.sqrt(sum(x * x for x in centroid.values())) or 1.0
    relevance = [(_dot(v, centroid) / cnorm, i, a, v) for i, a, v in vectors]
    # MMR only needs the front runners.
    relevance = sorted(relevance, key=lambda r: (-r[0], r[1]))[:SHORTLIST]
    relevance.sort(key=lambda r: r[1])
    chosen: list[tuple[int, int, dict[str, float]]] = []
    redundancy = [0.0] * len(relevance)
    people = {a for _, _, a, _ in relevance}
    while len(chosen) < want:
        best = None
        best_score = -math.inf
        picked = {a for _, a, _ in chosen}
        for k, (rel, _, a, _) in enumerate(relevance):
            if redundancy[k] >= 0.9:  # a near-duplicate of a pick, or a pick itself
                continue
            if a in picked and len(picked) < len(people):
                continue  # another person's voice first
            score = lam * rel - (1 - lam) * redundancy[k]
            if score > best_score:  # strict: the earliest answer wins a tie
                best, best_score = k, score
        if best is None:
            break
        _, i, a, v = relevance[best]
        chosen.append((i, a, v))
        redundancy[best] = 1.0
        for k, (_, _, _, other) in enumerate(relevance):
            if redundancy[k] < 1.0:
                redundancy[k] = max(redundancy[k], _dot(v, other))
    return sorted(i for i, _, _ in chosen)


def activity(t: Transcript, layout: SkeletonLayout, pace: float = 1.0) -> Activity:
    """Public messages per minute from the session's start (or its first message).

    In a paced rehearsal the minutes are script minutes: a message 1 s into a rehearsal at
    pace 60 falls in minute 1, as it would have in the live hour.
    """
    start = t.session.started_at or t.session.scheduled_start
    created = layout.skeleton.created
    first = next(layout.entries([0])).msg.created if created else start
    origin = min(start, first).replace(second=0, microsecond=0)
    minutes = max(1, t.length_minutes + int((start - origin) / timedelta(minutes=1)))
    minutes = min(minutes, MAX_MINUTES)
    counts = [0] * minutes
    base = origin.timestamp()
    per_minute = 60 / pace
    for us in created:
        # A straggler days later must not make a chart with thousands of empty minutes.
        i = min(int((us / 1_000_000 - base) // per_minute), MAX_MINUTES - 1)
        if i >= len(counts):
            counts.extend([0] * (i + 1 - len(counts)))
        counts[i] += 1
    return Activity(origin, counts)
