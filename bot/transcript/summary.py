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
  entities, Markdown links), moderation's masks (a [bracket] saying "removed"), links,
  mentions and numbers.
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
import statistics
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

from bot.archive.transcript_reads import Bone
from bot.transcript.model import Activity, Block, QuestionStats, Summary, Transcript
from bot.transcript.script_time import script_pace
from bot.transcript.skeleton import IS_HOST, Skeleton, micros
from bot.transcript.words import Words, strip_markup

if TYPE_CHECKING:
    from bot.transcript.layout import SkeletonLayout, Source
    from bot.transcript.read_ahead import Spelled

MAX_MINUTES = 24 * 60
POOL_LIMIT = 2000  # answers considered per question for representative picks
SHORTLIST = 200


class Tally:
    """What the summary counts while the transcript's skeleton is built, one message at a time.

    The texts' counts (`Words`) are made here, message by message, or, when `ahead` is
    given, were made beforehand (in a forked worker, `bot.transcript.read_ahead`): then
    only where each message was placed is noted here, and the answer words of each
    question are counted from the words spelled ahead when the summary needs them.
    Representative answers re-read the few texts they need, one question at a time.
    """

    def __init__(self, hashtag: str, blocks: int,
                 ahead: Callable[[], Spelled] | None = None) -> None:
        self._ahead = ahead
        self._spelled: Spelled | None = None
        self.counts = Words(hashtag)  # replaced by the counts made ahead, when there are
        self.answers = [array("i") for _ in range(blocks)]  # answers_of, per question block
        self.words: list[Counter[str]] = [Counter() for _ in range(blocks)]
        # Top-level answers of each question block not counted into `words` yet: their word
        # tuples (counted here), or their positions (spelled ahead).
        self._pending: list[list[Any]] = [[] for _ in range(blocks)]
        self._waiting = 0

    def add(self, i: int, bone: Bone, depth: int, home: int, others: list[int]) -> None:
        """Count message `i`: `home` is its question block (or -1), `others` it answers too."""
        # Its words (counted now), or its position (its words were spelled ahead).
        toks: Any = i if self._ahead is not None else self.counts.add(i, bone.text,
                                                                        bone.is_host)
        if bone.is_host:
            return
        pending = self._pending
        if home >= 0:
            self.answers[home].append(i)
            if depth == 0:
                pending[home].append(toks)
                self._waiting += 1
        for b in others:
            self.answers[b].append(i)
            if depth == 0:
                pending[b].append(toks)
                self._waiting += 1
        if self._waiting >= 4096 and self._ahead is None:
            self.flush()

    def flush(self) -> None:
        """Count the words still waiting (call before reading `counts` or `words`)."""
        if self._ahead is not None and self._spelled is None:
            self._spelled = self._ahead()
            self.counts = self._spelled.words
        self.counts.flush()
        spelled = self._spelled
        for counter, waiting in zip(self.words, self._pending, strict=True):
            if not waiting:
                continue
            if spelled is None:
                counter.update(chain.from_iterable(waiting))
            else:
                counter.update(spelled.counts_of(waiting))
            waiting.clear()
        self._waiting = 0

    def distinct(self, positions: list[int], source: Source, refs: list[int]
                 ) -> list[tuple[str, ...]]:
        """The distinct words of the messages at `positions` (`refs` to read their texts)."""
        if self._spelled is not None:
            return [self._spelled.distinct(i) for i in positions]
        distinct = self.counts.tokenizer.distinct
        return [distinct(strip_markup(x)) for x in source.texts(refs)]


def summarise(t: Transcript, tally: Tally, layout: SkeletonLayout, *, top: int = 10) -> Summary:
    """Compute the summary of a transcript from its skeleton and what `tally` counted."""
    sk = layout.skeleton
    tally.flush()
    people = [p for p in t.participants if not p.is_host]
    returning = sum(1 for p in people if p.returning)
    counts = tally.counts
    n_docs = max(1, counts.docs)
    idf = {w: math.log(n_docs / c) for w, c in counts.df.items()}
    pace = script_pace(t.session)

    answer_words = {b.number: tally.words[b.position] for b in t.questions}
    q_df = Counter(chain.from_iterable(set(c) for c in answer_words.values()))
    q_idf = {w: math.log((len(answer_words) + 1) / (c + 0.5)) for w, c in q_df.items()}
    questions = [_question_stats(t, b, tally, layout, idf, q_idf, pace) for b in t.questions]

    links, first_seen = counts.links, counts.first_seen
    ranked_links = sorted(links.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))

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
        activity=activity(t, layout),
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
    ntok, source, ref = tally.counts.ntok, layout.source, layout.skeleton.ref
    pool = [i for i in top_level if ntok[i] >= 2]
    # At least three different answers to choose from (usually the first three).
    seen: set[tuple[str, ...]] = set()
    for k in range(0, len(pool), 64):
        chunk = pool[k:k + 64]
        seen.update(tally.distinct(chunk, source, [ref[i] for i in chunk]))
        if len(seen) >= 3:
            break
    if len(seen) < 3:
        return []
    want = 3 if len(pool) >= 6 else 2
    if len(pool) > POOL_LIMIT:
        # An even sample across the hour represents a big question as well as all of it
        # does, and keeps this linear in practice.
        pool = pool[:: math.ceil(len(pool) / POOL_LIMIT)]
    words = tally.distinct(pool, source, [ref[i] for i in pool])
    author = layout.skeleton.author
    candidates = [(i, author[i], w) for i, w in zip(pool, words, strict=True)]
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


def activity(t: Transcript, layout: SkeletonLayout) -> Activity:
    """Public messages per minute from the session's start (or its first message).

    In a paced rehearsal the minutes are script minutes (bot.transcript.script_time): a
    message 1 s into a rehearsal at pace 60 falls in minute 1, as it would have in the live
    hour, and the origin is a script instant.
    """
    start = t.session.started_at or t.session.scheduled_start
    created = layout.skeleton.created
    first = next(layout.entries([0])).msg.created if created else start
    pace = script_pace(t.session)
    if pace != 1.0:  # real -> script instants, anchored at the start (which stays put)
        first = start + (first - start) * pace
    origin = min(start, first).replace(second=0, microsecond=0)
    minutes = max(1, t.length_minutes + int((start - origin) / timedelta(minutes=1)))
    minutes = min(minutes, MAX_MINUTES)
    counts = [0] * minutes
    if pace == 1.0:
        base, scale = origin.timestamp(), 1.0
    else:  # script seconds since the origin = (real seconds since the start) x pace + lead
        scale = pace
        base = start.timestamp() - (start - origin).total_seconds() / pace
    for us in created:
        # A straggler days later must not make a chart with thousands of empty minutes.
        i = min(int((us / 1_000_000 - base) * scale // 60), MAX_MINUTES - 1)
        if i >= len(counts):
            counts.extend([0] * (i + 1 - len(counts)))
        counts[i] += 1
    return Activity(origin, counts)
