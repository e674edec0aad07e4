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

import math
import operator
import re
import statistics
import sys
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from datetime import timedelta
from itertools import chain, repeat

from bot.transcript.model import Activity, Block, Entry, QuestionStats, Summary, Transcript

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


def summarise(t: Transcript, *, top: int = 10) -> Summary:
    """Compute the summary of a built transcript."""
    distinct = Tokenizer(t.session.hashtag).distinct
    people = [p for p in t.participants if not p.is_host]
    returning = sum(1 for p in people if p.returning)

    # One token list per message, reused by key terms and representative answers.
    # Distinct words only (a chat message rarely repeats one, so binary term weights lose
    # nothing), kept as tuples: a third of the memory of sets at 100k messages.
    toks: dict[int, tuple[str, ...]] = {
        e.index: distinct(strip_markup(e.text)) for e in t.entries if not e.msg.is_host
    }
    df = Counter(chain.from_iterable(toks.values()))
    n_docs = max(1, len(toks))
    idf = {w: math.log(n_docs / c) for w, c in df.items()}
    pace = t.session.pace if t.session.rehearsal and t.session.pace > 0 else 1.0

    answer_words = {b.number: _answer_words(b, toks) for b in t.questions}
    q_df = Counter(chain.from_iterable(set(c) for c in answer_words.values()))
    q_idf = {w: math.log((len(answer_words) + 1) / (c + 0.5)) for w, c in q_df.items()}
    questions = [_question_stats(b, toks, idf, answer_words[b.number], q_idf, pace, t.roles)
                 for b in t.questions]

    links: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for e in t.entries:
        if "http" not in e.text and "HTTP" not in e.text:
            continue
        for url in find_links(e.text):
            links[url] += 1
            first_seen.setdefault(url, e.index)
    ranked_links = sorted(links.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))

    contributors = sorted(
        ((p, len(p.entries)) for p in people), key=lambda pc: (-pc[1], pc[0].entries[0].index)
    )[:top]
    received = replies_received(t)
    replied = sorted(
        ((p, received.get(p.key, 0)) for p in people if received.get(p.key, 0)),
        key=lambda pc: (-pc[1], pc[0].entries[0].index))[:top]
    from_people = sum(len(p.entries) for p in people)
    known = [p.followers for p in people if p.followers is not None]

    s = Summary(
        messages=len(t.entries),
        participants=len(people),
        new_participants=len(people) - returning,
        returning_participants=returning,
        host_messages=sum(1 for e in t.entries if e.msg.is_host),
        questions=questions,
        links=ranked_links,
        top_contributors=contributors,
        activity=activity(t, pace),
        moderation=sorted((k, v) for k, v in t.moderation_counts.items() if v),
        messages_per_participant=round(from_people / len(people), 1) if people else 0.0,
        top_replied=replied,
        reposts=t.reposts,
        impressions=sum(known) if known else None,
        impressions_people=len(known),
        media=sum(t.media.values()),
        script_time=pace != 1.0,
    )
    s.by_number = {q.number: q for q in questions}
    return s


def answers_of(b: Block) -> list[Entry]:
    """Non-host messages answering question `b`, including those tagged for it elsewhere."""
    own = [e for e in b.messages if not e.msg.is_host]
    if b.also:
        own = sorted(own + [e for e in b.also if not e.msg.is_host], key=lambda e: e.index)
    return own


def replies_received(t: Transcript) -> Counter[tuple[str, str]]:
    """Public replies each person received from someone else."""
    author = {(e.msg.platform, e.msg.id): e.author_key for e in t.entries}
    got: Counter[tuple[str, str]] = Counter()
    for e in t.entries:
        if e.msg.reply_to is None:
            continue
        parent = author.get((e.msg.platform, e.msg.reply_to))
        if parent is not None and parent != e.author_key:
            got[parent] += 1
    return got


def _answer_words(b: Block, toks: dict[int, tuple[str, ...]]) -> Counter[str]:
    """How many top-level answers to `b` use each word."""
    return Counter(chain.from_iterable(
        toks.get(e.index, ()) for e in answers_of(b) if e.depth == 0))


def role_mix(people: Collection[tuple[str, str]], roles: Mapping[tuple[str, str], str]
             ) -> list[tuple[str, int]]:
    """How many of these people declared each role ("" for none), most first."""
    if not roles:
        return []
    mix = Counter(roles.get(p, "") for p in people)
    return sorted(mix.items(), key=lambda rn: (rn[0] == "", -rn[1], rn[0]))


def _question_stats(
    b: Block, toks: dict[int, tuple[str, ...]], idf: dict[str, float],
    words: Counter[str], q_idf: dict[str, float], pace: float = 1.0,
    roles: Mapping[tuple[str, str], str] | None = None,
) -> QuestionStats:
    assert b.number is not None
    answers = answers_of(b)
    first: dict[tuple[str, str], Entry] = {}
    for e in answers:
        first.setdefault(e.author_key, e)
    median = None
    if b.posted_at is not None and first:
        posted = b.posted_at
        median = statistics.median(
            max(0.0, (e.msg.created - posted) / timedelta(seconds=1)) * pace
            for e in first.values()
        )
    engaged = sorted(
        (e for e in answers if e.engagement > 0), key=lambda e: (-e.engagement, e.index)
    )
    return QuestionStats(
        number=b.number,
        label=b.label,
        answers=len(answers),
        participants=len(first),
        median_first_answer=median,
        most_engaged=engaged[:3],
        representative=representative(answers, toks, idf),
        roles=role_mix(first, roles or {}),
        key_terms=key_terms(words, q_idf, sum(1 for e in answers if e.depth == 0)),
    )


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
    answers: list[Entry],
    toks: dict[int, tuple[str, ...]],
    idf: dict[str, float],
    *,
    lam: float = 0.7,
) -> list[Entry]:
    """2-3 different answers, from different people, that together cover what was said.

    Maximal marginal relevance; none when there are fewer than three to choose from.
    """
    pool = [e for e in answers if e.depth == 0 and len(toks.get(e.index, ())) >= 2]
    if len({toks[e.index] for e in pool}) < 3:
        return []
    want = 3 if len(pool) >= 6 else 2
    if len(pool) > POOL_LIMIT:
        # An even sample across the hour represents a big question as well as all of it
        # does, and keeps this linear in practice.
        pool = pool[:: math.ceil(len(pool) / POOL_LIMIT)]
    vectors = [(e, _vector(toks[e.index], idf)) for e in pool]
    vectors = [(e, v) for e, v in vectors if v]
    centroid: dict[str, float] = {}
    for _, v in vectors:
        for w, x in v.items():
            centroid[w] = centroid.get(w, 0.0) + x
    cnorm = math.sqrt(sum(x * x for x in centroid.values())) or 1.0
    relevance = [(_dot(v, centroid) / cnorm, e, v) for e, v in vectors]
    # MMR only needs the front runners.
    relevance = sorted(relevance, key=lambda r: (-r[0], r[1].index))[:SHORTLIST]
    relevance.sort(key=lambda r: r[1].index)
    chosen: list[tuple[Entry, dict[str, float]]] = []
    redundancy = [0.0] * len(relevance)
    people = {e.author_key for _, e, _ in relevance}
    while len(chosen) < want:
        best = None
        best_score = -math.inf
        picked = {e.author_key for e, _ in chosen}
        for i, (rel, e, _) in enumerate(relevance):
            if redundancy[i] >= 0.9:  # a near-duplicate of a pick, or a pick itself
                continue
            if e.author_key in picked and len(picked) < len(people):
                continue  # another person's voice first
            score = lam * rel - (1 - lam) * redundancy[i]
            if score > best_score:  # strict: the earliest answer wins a tie
                best, best_score = i, score
        if best is None:
            break
        _, e, v = relevance[best]
        chosen.append((e, v))
        redundancy[best] = 1.0
        for i, (_, _, other) in enumerate(relevance):
            if redundancy[i] < 1.0:
                redundancy[i] = max(redundancy[i], _dot(v, other))
    return sorted((e for e, _ in chosen), key=lambda e: e.index)


def activity(t: Transcript, pace: float = 1.0) -> Activity:
    """Public messages per minute from the session's start (or its first message).

    In a paced rehearsal the minutes are script minutes: a message 1 s into a rehearsal at
    pace 60 falls in minute 1, as it would have in the live hour.
    """
    start = t.session.started_at or t.session.scheduled_start
    first = t.entries[0].msg.created if t.entries else start
    origin = min(start, first).replace(second=0, microsecond=0)
    minutes = max(1, t.length_minutes + int((start - origin) / timedelta(minutes=1)))
    minutes = min(minutes, MAX_MINUTES)
    counts = [0] * minutes
    base = origin.timestamp()
    per_minute = 60 / pace
    for e in t.entries:
        # A straggler days later must not make a chart with thousands of empty minutes.
        i = min(int((e.msg.created.timestamp() - base) // per_minute), MAX_MINUTES - 1)
        if i >= len(counts):
            counts.extend([0] * (i + 1 - len(counts)))
        counts[i] += 1
    return Activity(origin, counts)
