"""Look-alike names of the host and moderators are refused, failing closed (hunt 26b, defect 4).

`skeleton()` used to drop every character it could not map to ASCII, so `Test Høst` read
`testhst` and passed as someone other than `Test Host`; so did stroked letters (ŧ ħ ł Ⱥ)
and small capitals (ᴛ ᴍ ɴ). Names from every script must still pass.
"""

from __future__ import annotations

import unicodedata

import pytest
from confusable_homoglyphs import confusables
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.moderation.names import RESERVED, NameRefused, screen_name, skeleton

HOSTS = ["Test Host", "@NHSEmployers", "Dr Jane Hartley"]

HUNT_LOOKALIKES = ["Test Høst", "Tesŧ Host", "Test Ħost", "ᴛest Host", "Moderatør", "ᴍoderator",
                   "Ⱥdmin", "NHSEmpløyers", "NHSEmpłoyers", "ɴʜꜱEmployers", "NHSEᴍployers",
                   "NHSEmpʟoyers", "ƀot", "Ðr Jane Hartley", "Dr Jaŋe Hartley", "ʜost"]
ORDINARY = ["Zoë", "José", "Łukasz", "Ørsted", "王芳", "Αλέξης", "Mohammed", "Đorđe Petrović",
            "Björn Ångström", "Siobhán Ní Bhriain", "Ţuţu Ștefan", "Łódź team", "Øyvind",
            "Ħaġar Camilleri", "Мария Иванова", "Лев Толстой", "محمد", "דנה", "Priya Nair",
            "Nguyễn Văn An", "김민준", "Ayşe Yılmaz", "Hostess Kay", "Admiral Ann",
            "Modupe Ade", "Botha", "Ward 7 team"]


@pytest.mark.parametrize("name", HUNT_LOOKALIKES)
def test_hunt_lookalikes_are_refused(name: str) -> None:
    with pytest.raises(NameRefused):
        screen_name(name, HOSTS)


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_from_many_scripts_are_accepted(name: str) -> None:
    assert screen_name(name, HOSTS) == unicodedata.normalize("NFKC", name)


def test_a_letter_that_looks_like_no_ascii_letter_is_kept() -> None:
    # Kept as itself, so it can never vanish and make two different names equal.
    assert skeleton("Høst") == "host"
    assert skeleton("王芳") == "王芳"
    assert skeleton("Лев") != skeleton("Лв")


# Stroked, barred, hooked and small-capital letters, typed by hand (not read from the
# table the code uses), and each letter with combining marks below.
DECORATED = {
    "a": "ȺⱥᴀɐąåǻàⱯ", "b": "ƀɓʙᴃ", "d": "đɖɗᴅᴆð", "e": "ɇᴇęėẹ", "g": "ǥɠɢ", "h": "ħɦʜ",
    "i": "ɨᵻıɪįı", "l": "łƚɫʟⱡ", "m": "ᴍɱ", "n": "ɲŋɴƞ", "o": "øǿɵᴏᴓȯọő", "p": "ᵽƥᴘ",
    "r": "ɍʀɽ", "s": "ꜱʂșş", "t": "ŧƭʈᴛţț", "u": "ʉᴜųů", "y": "ɏʏƴ", "k": "ƙᴋ",
    "c": "ȼƈᴄç", "w": "ᴡŵ", "z": "ƶᴢʐ",
}
MARKS = [chr(c) for c in range(0x0300, 0x0370)]


def _homoglyphs(letter: str) -> list[str]:
    """Unicode's confusables for one ASCII letter: single letters, shown left to right.

    Only those still a letter once the name is shown (NFKC): Greek ͺ is shown as a space
    with a mark under it, which reads as no letter at all.
    """
    found = confusables.is_confusable(letter, preferred_aliases=[], greedy=True)
    forms = [str(g["c"]).strip("\u200e\u200f") for g in found[0]["homoglyphs"]] if found else []
    return [f for f in forms if len(f) == 1 and unicodedata.normalize("NFKC", f).isalpha()]


@st.composite
def disguised(draw: st.DrawFn, name: str) -> str:
    """`name` with any of its letters swapped for a look-alike, a decorated form or case."""
    out = []
    for char in name:
        low = char.lower()
        kind = draw(st.sampled_from(["same", "same", "case", "confusable", "decorated", "marked"]))
        if kind == "case":
            char = char.swapcase()
        elif kind == "confusable" and char.isalpha() and _homoglyphs(char):
            char = draw(st.sampled_from(_homoglyphs(char)))
        elif kind == "decorated" and low in DECORATED:
            char = draw(st.sampled_from(DECORATED[low]))
        elif kind == "marked" and char.isalpha():
            marks = draw(st.lists(st.sampled_from(MARKS), min_size=1, max_size=2))
            char = unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])),
                                         char + "".join(marks))
        out.append(char)
    return "".join(out)


NAMES = [*RESERVED, *HOSTS]


@settings(deadline=None, max_examples=400)
@given(data=st.data(), name=st.sampled_from(NAMES))
def test_any_disguise_of_a_reserved_name_is_refused(data: st.DataObject, name: str) -> None:
    with pytest.raises(NameRefused):
        screen_name(data.draw(disguised(name)), HOSTS)
