"""The CPD certificate: what it holds for one person, and who it refuses."""

from __future__ import annotations

import pytest

from bot.transcript import build_transcript
from bot.transcript.certificate import (
    NMC_PROMPTS,
    CertificateError,
    certificate_filename,
    find_participant,
    render_certificate,
    sections,
)
from tests.transcript import sample as S
from tests.transcript import walk


def transcript():  # type: ignore[no-untyped-def]
    return build_transcript(S.session(), S.items(), S.messages(),
                            previous_participants=S.previous(),
                            moderation_counts={"hidden": 1, "redacted": 1})


def test_sections_follow_the_questions_in_time_order() -> None:
    t = transcript()
    bea = find_participant(t, "web", "bea")
    got = [(s.label, [e.msg.id for e in s.entries]) for s in sections(t, bea)]
    assert got[0] == ("Welcome", ["m1"])
    assert got[1] == ("Q1", ["m3", "m6"])  # her answer, then her reply under it
    assert got[2:] == [("Q2", ["m11", "m16"]), ("Wrap-up", ["m22"])]
    assert sections(t, bea)[1].prompt == "How do you use social media at work? #NHSSM"


def test_page_holds_the_facts_every_message_and_the_four_prompts() -> None:
    t = transcript()
    cal = find_participant(t, "web", "cal")
    page = render_certificate(t, cal)
    assert "Cal" in page and "NHS Social Media chat" in page and "#NHSSM" in page
    assert "Wednesday 7 January 2026, 20:00 GMT" in page and "1 hour" in page
    for e in walk.of(t, cal):
        assert S.DELETED_TEXT not in page  # deleted messages are not evidence
        assert e.text.split()[0] in page
    assert f"posting {cal.message_count} messages" in page
    for prompt in NMC_PROMPTS:
        assert prompt in page
    assert "<script" not in page and "http://" not in page.split("<body>")[0]


def test_public_text_only_redactions_stay_masked() -> None:
    t = transcript()
    page = render_certificate(t, find_participant(t, "web", "finn"))
    assert S.REDACTED_PUBLIC in page and S.REDACTED_ORIGINAL not in page


def test_hostile_text_is_escaped() -> None:
    t = transcript()
    page = render_certificate(t, find_participant(t, "web", "@BEA"))  # handle, any case
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_nobody_and_the_host_get_no_certificate() -> None:
    t = transcript()
    with pytest.raises(CertificateError, match="no participant in session 42 has the id, "
                                               "name or handle 'web:zed'"):
        find_participant(t, "web", "zed")
    with pytest.raises(CertificateError):
        find_participant(t, "web", "alex host")
    with pytest.raises(CertificateError):
        find_participant(t, "x", "bea")  # same id, other platform: someone else


def test_a_person_is_found_by_the_name_the_room_showed_as_forget_finds_them() -> None:
    said = [S.msg("n1", 6, "x", "A1 we use it for recruitment", author_id="w3bea18ebb",
                  author_name="Ann Nurse", author_handle=None, **S.q(1)),
            S.msg("n2", 7, "x", "A1 ward news", author_id="w1", author_name="Sam",
                  author_handle=None, **S.q(1)),
            S.msg("n3", 8, "x", "A1 rota swaps", author_id="w2", author_name="sam",
                  author_handle=None, **S.q(1))]
    t = build_transcript(S.session(), S.items(), [*S.messages(), *said])
    for named in ("Ann Nurse", "ann nurse", " ANN NURSE "):
        assert find_participant(t, "web", named).author_id == "w3bea18ebb"
    with pytest.raises(CertificateError, match=r"2 people in session 42 are called 'Sam' "
                                               r"\(web:w1, web:w2\); name one by its id"):
        find_participant(t, "web", "Sam")
    assert find_participant(t, "web", "w2").name == "sam"  # the id still picks one


@pytest.mark.parametrize(("user", "name"), [
    ("w1a2b3", "certificate-w1a2b3.html"),
    ("../../etc/passwd", "certificate-etc-passwd.html"),
    ("@Jo Bloggs", "certificate-Jo-Bloggs.html"),
    ("...", "certificate-participant.html"),
])
def test_file_names_are_safe(user: str, name: str) -> None:
    assert certificate_filename(user) == name
