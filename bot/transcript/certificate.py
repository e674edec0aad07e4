"""A CPD certificate of participation for one person in one session.

Nurses and midwives keep evidence of participatory CPD and write reflective accounts for
NMC revalidation (other professions do the same for the HCPC or a GMC appraisal); until
now they screenshot their own tweets. The certificate is one self-contained, printable
HTML page: who took part, in which chat, when and for how long, every message they
posted under the question it answered, and the NMC's four reflective prompts left for
them to fill in. Pure: a function of the transcript model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.transcript.model import Block, Entry, Participant, Transcript
from bot.transcript.render_html import environment

__all__ = ["NMC_PROMPTS", "CertificateError", "certificate_filename", "find_participant",
           "render_certificate"]

# The four prompts of the NMC's reflective account form (revalidation).
NMC_PROMPTS = (
    "What was the nature of the CPD activity or practice-related feedback, or the event or "
    "experience in your practice?",
    "What did you learn from the CPD activity, feedback, event or experience?",
    "How did you change or improve your practice as a result?",
    "How is this relevant to the Code? Select one or more themes: Prioritise people, "
    "Practise effectively, Preserve safety, Promote professionalism and trust.",
)


class CertificateError(LookupError):
    """The person did not post in the session (one plain line for the user)."""


@dataclass(frozen=True)
class Section:
    """The person's messages under one heading (a question, the welcome, the wrap-up)."""

    label: str
    prompt: str
    entries: tuple[Entry, ...]


def find_participant(t: Transcript, platform: str, user: str) -> Participant:
    """The participant named by platform and user id, display name or @handle.

    Matched as `tweetchat forget` matches people (bot.moderation.erasure.find_person): the
    id, else the name or handle without regard to case or a leading @; among those who
    posted in the session, so a name shared with someone elsewhere in the archive is fine.
    """
    wanted = user.strip().removeprefix("@").lower()
    people = [p for p in t.participants if p.platform == platform and not p.is_host]
    for p in people:
        if p.author_id.lower() == wanted:
            return p
    named = [p for p in people if wanted in (p.name.strip().lower(),
                                             (p.handle or "").lstrip("@").lower())]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(f"{platform}:{p.author_id}" for p in named[:5])
        raise CertificateError(f"{len(named)} people in session {t.session.id} are called "
                               f"'{user}' ({ids}); name one by its id")
    raise CertificateError(
        f"no participant in session {t.session.id} has the id, name or handle "
        f"'{platform}:{user}' (a certificate needs at least one public message); find the id "
        "with `tweetchat search --json`")


def certificate_filename(user: str) -> str:
    """certificate-<user>.html, with the user id made safe for any file system."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", user.removeprefix("@")).strip(".-")[:60]
    return f"certificate-{safe or 'participant'}.html"


def sections(t: Transcript, person: Participant) -> list[Section]:
    """The person's messages grouped under the block each belongs to, in reading order."""
    order = {id(b): i for i, b in enumerate(t.blocks)}
    grouped: dict[int, list[Entry]] = {}
    blocks: dict[int, Block] = {}
    for e in t.messages_of(person):
        if e.block is None:
            continue
        grouped.setdefault(id(e.block), []).append(e)
        blocks[id(e.block)] = e.block
    out = []
    for key in sorted(grouped, key=order.__getitem__):
        block = blocks[key]
        label = block.label if block.kind != "unplaced" else "Other messages"
        prompt = block.heading if block.kind == "question" else ""
        out.append(Section(label, prompt, tuple(grouped[key])))
    return out


def render_certificate(t: Transcript, person: Participant) -> str:
    """The certificate as one self-contained HTML page (inline CSS, no scripts)."""
    parts = sections(t, person)
    # Where each of their messages is shown, and what else each answered.
    shown: set[int] = set()
    also: set[int] = set()
    for e in t.messages_of(person):
        shown.add(id(e.block))
        also.update(e.msg.extra_questions)
    answered = [b.label for b in t.questions if id(b) in shown or b.number in also]
    end = t.local_start + timedelta(minutes=t.length_minutes)
    return environment().get_template("certificate.html.j2").render(
        t=t, s=t.session, person=person, sections=parts, answered=answered,
        end=end, prompts=NMC_PROMPTS, hours=_hours(t.length_minutes),
    )


def _hours(minutes: int) -> str:
    """CPD time as logs want it: "1 hour", "1.5 hours", "0.75 hours"."""
    h = round(minutes / 60, 2)
    return "1 hour" if h == 1 else f"{h:g} hours"
