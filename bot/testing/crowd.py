"""A simulated crowd for rehearsals and tests: answers each question as real people do.

For benchmarks, also a big past session already in the archive.

Deterministic for a given seed, and it keeps a ledger of what it did, so a test can check
the archive and the transcript against what "really" happened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.archive import Archive
from bot.platforms.memory import MemoryPlatform
from bot.records import Author, Event, Message
from bot.script import ChatScript

# The forms people really type, from the attribution spec.
TAG_FORMS = ("A{n} {t}", "A{n}: {t}", "A{n}) {t}", "A.{n} {t}", "a{n} - {t}", "{t} A{n}",
             "@host A{n} {t}")


@dataclass
class Ledger:
    """What the crowd did, for tests to check the archive against."""
    answers: dict[str, int] = field(default_factory=dict)  # message id -> question answered
    replies: dict[str, str] = field(default_factory=dict)  # reply id -> parent id
    edited: dict[str, str] = field(default_factory=dict)  # id -> final text
    deleted: set[str] = field(default_factory=set)
    said: list[str] = field(default_factory=list)  # every id the crowd created


class Crowd:
    """Simulated participants posting on a MemoryPlatform, deterministic for a seed."""
    def __init__(self, platform: MemoryPlatform, names: list[str], *, hashtag: str = "#chat",
                 seed: int = 7) -> None:
        self.platform = platform
        self.names = names
        self.hashtag = hashtag
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self._answered: dict[int, list[str]] = {}

    def answer(self, number: int, question_post_id: str | None = None) -> list[str]:
        """Everyone answers question `number`; some reply, edit or delete. Returns new ids."""
        new: list[str] = []
        for i, name in enumerate(self.names):
            form = TAG_FORMS[(i + number) % len(TAG_FORMS)]
            text = form.format(n=number, t=f"{name} thinks point {number}.{i} {self.hashtag}")
            if question_post_id and i % 5 == 4:
                # Answers by replying to the question post, without any tag.
                msg = self.platform.say(name, f"{name} on question {number}: yes {self.hashtag}",
                                        reply_to=question_post_id)
            else:
                msg = self.platform.say(name, text)
            self.ledger.answers[msg.id] = number
            self.ledger.said.append(msg.id)
            new.append(msg.id)
        answers = list(new)
        self._answered[number] = answers
        # Replies to each other: untagged, they belong to the parent's question.
        for parent in self.rng.sample(answers, k=min(3, len(answers))):
            who = self.rng.choice(self.names)
            reply = self.platform.say(who, f"@{who} agreed with {parent}, well put",
                                      reply_to=parent)
            self.ledger.replies[reply.id] = parent
            self.ledger.answers[reply.id] = number
            self.ledger.said.append(reply.id)
            new.append(reply.id)
            # And a reply to the reply: the tree must nest.
            if self.rng.random() < 0.5:
                deeper = self.platform.say(self.rng.choice(self.names), f"+1 to {reply.id}",
                                           reply_to=reply.id)
                self.ledger.replies[deeper.id] = reply.id
                self.ledger.answers[deeper.id] = number
                self.ledger.said.append(deeper.id)
                new.append(deeper.id)
        # One person fixes a typo, one thinks better of it.
        edit_id = answers[0]
        final = f"A{number} (edited) considered view {self.hashtag}"
        self.platform.edit(edit_id, final)
        self.ledger.edited[edit_id] = final
        if len(answers) > 2:
            gone = answers[-1]
            self.platform.delete(gone)
            self.ledger.deleted.add(gone)
        return new

    def late_answer(self, number: int) -> str:
        """An answer to an earlier question, tagged, after the chat moved on."""
        msg = self.platform.say(self.names[0], f"A{number} late thought {self.hashtag}")
        self.ledger.answers[msg.id] = number
        self.ledger.said.append(msg.id)
        return msg.id


def archived_session(archive: Archive, script: ChatScript, messages: int, *,
                     start: datetime, people: int = 200) -> int:
    """An ended session of `script` holding `messages` answers; its id.

    The answers are spread over its questions and `people` participants, stored as the
    bot would have stored them.
    """
    minutes = int(script.duration.total_seconds() // 60)
    session_id = archive.create_session(
        chat_id=script.id, title=script.title, hashtag=script.hashtag,
        timezone=script.model.timezone, scheduled_start=start, duration_minutes=minutes,
        platforms=["web"], items=script.timeline(), host_name=script.model.host,
    )
    questions = [q.number for q in script.model.questions]
    step = script.duration.total_seconds() / (messages + 1)
    events = []
    for i in range(messages):
        author = Author("web", f"person{i % people}", f"Person {i % people}")
        text = f"A{questions[i % len(questions)]} answer number {i} {script.hashtag}"
        created = start + timedelta(seconds=step * (i + 1))
        message = Message("web", f"seed{i:08d}", author, text, created)
        events.append(Event("created", "web", message.id, created, message))
    archive.record_events(events, session_id=session_id, chat_id=script.id)
    archive.update_session(session_id, status="ended", ended_at=start + script.duration)
    return session_id
