"""Finding 7 of issue 12: display names are screened like messages.

`NHS 943 476 5919` or an email as a name was shown, indexed and published; names posing as
the host passed with a Greek ο, fullwidth letters, zero-width or right-to-left override
characters, or the host's exact handle; an invisible-only name was accepted.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.moderation.names import NameRefused, screen_name, skeleton
from tests.web.conftest import join

HOSTS = ["@NHSEmployers", "Dr Jane Hartley"]

REFUSED = {
    "NHS number": "NHS 943 476 5919",
    "email": "ann.smith@example.nhs.uk",
    "phone": "Ring 07911 123456",
    "abuse": "c u n t",
    "host's handle": "@NHSEmployers",
    "handle without @": "nhsemployers",
    "Greek omicron": "@NHSEmpl\u03bfyers",
    "Greek Epsilon": "NHS\u0395mployers",
    "Cyrillic a and e": "Dr J\u0430ne H\u0430rtl\u0435y",
    "fullwidth": "\uff2e\uff28\uff33\uff25\uff4d\uff50\uff4c\uff4f\uff59\uff45\uff52\uff53",
    "zero-width inside": "NHS\u200bEmploy\u200cers",
    "digits for letters": "NHSEmpl0yers",
    "official suffix": "NHSEmployers official",
    "reserved host": "Host",
    "reserved moderator": "M0derator",
    "invisible only": "\u200b\u200d\u2060",
    "bidi only": "\u202e\u202c",
    "spaces only": "   ",
    "punctuation only": "...",
}
ACCEPTED = ["Ann", "Dr Zoë Müller", "李小龍", "José García", "O'Brien", "Anne-Marie",
            "Ayşe Yılmaz", "Nguyễn Văn An", "Мария Иванова", "NHS fan", "Jane", "Hartley",
            "Sam (she/her)", "Nurse Kay RN", "Ward 7 team"]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_names(case: str) -> None:
    with pytest.raises(NameRefused) as info:
        screen_name(REFUSED[case], HOSTS)
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


@pytest.mark.parametrize("name", ACCEPTED)
def test_ordinary_names_from_many_scripts_pass(name: str) -> None:
    assert screen_name(name, HOSTS) == name


def test_what_is_shown_is_what_was_checked() -> None:
    # A right-to-left override would show "sreyolpmESHN" as "NHSEmployers": it is removed.
    assert screen_name("\u202esreyolpmESHN", HOSTS) == "sreyolpmESHN"
    assert screen_name("  Ann \u200b Lee  ", HOSTS) == "Ann Lee"
    assert screen_name("\uff21\uff4e\uff4e", HOSTS) == "Ann"  # fullwidth folded by NFKC


LOOKALIKE = {"o": ["\u03bf", "\u043e", "0", "\uff4f"], "e": ["\u0435", "\uff45"],
             "a": ["\u0430", "\uff41"], "N": ["\u039d", "\uff2e"], "H": ["\u0397", "\u041d"],
             "S": ["\u0405", "\uff33"], "E": ["\u0395", "\u0415"], "y": ["\u0443"],
             "p": ["\u0440"], "J": ["\u0408"], "r": ["\u0433"], "l": ["1", "\u04cf"],
             "O": ["\u039f", "\u041e", "0"], "A": ["\u0391", "\u0410"], "M": ["\u039c"],
             "P": ["\u03a1", "\u0420"], "Y": ["\u03a5"], "T": ["\u03a4"], "s": ["\u0455"],
             "i": ["\u0456"]}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202a", "\u202c", "\u2066"]


@settings(deadline=None)  # the first look-up loads Unicode's confusables table
@given(host=st.sampled_from(HOSTS), data=st.data())
def test_any_disguise_of_a_host_is_refused(host: str, data: st.DataObject) -> None:
    # Case first: a lower-case Greek Eta (η) looks like n, not like a lower-case h.
    host = data.draw(st.sampled_from([host, host.lower(), host.upper()]))
    chars = []
    for c in host:
        if c in LOOKALIKE and data.draw(st.booleans()):
            c = data.draw(st.sampled_from(LOOKALIKE[c]))
        chars.append(c)
        if data.draw(st.integers(0, 5)) == 0:
            chars.append(data.draw(st.sampled_from(INVISIBLE)))
    with pytest.raises(NameRefused):
        screen_name("".join(chars), HOSTS)


def test_skeletons_match_across_scripts() -> None:
    assert skeleton("@NHSEmpl\u03bfyers") == skeleton("NHS Employers") == "nhsemployers"
    assert skeleton("Dr J\u0430ne H\u0430rtl\u0435y") == skeleton("dr jane hartley")


async def test_the_room_refuses_a_host_lookalike_and_an_email(room) -> None:  # type: ignore[no-untyped-def]
    _bot, client = room
    ws = await client.ws_connect("/chats/webtest/ws")
    await ws.send_json({"type": "join", "key": "k" * 24, "name": "Test H\u03bfst"})
    frame = await ws.receive_json(timeout=10)
    assert frame["type"] == "error" and frame["code"] == "bad_name", frame
    await ws.close()
    ws, state = await join(client, "Ann")
    await ws.send_json({"type": "name", "name": "ann@example.com", "nonce": "n1"})
    frame = await ws.receive_json(timeout=10)
    assert frame["type"] == "error" and frame["code"] == "bad_name", frame
    await ws.send_json({"type": "name", "name": "\u200b\u200b", "nonce": "n2"})
    assert (await ws.receive_json(timeout=10))["code"] == "bad_name"
    await ws.close()
    r = await client.post("/api/chats/webtest/messages", json={
        "key": "k" * 24, "name": "NHS 943 476 5919", "text": "hello"})
    assert r.status == 400 and (await r.json())["code"] == "bad_name"
