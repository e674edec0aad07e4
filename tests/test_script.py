"""Chat scripts: the shipped example is valid, and every mistake is named with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.script import ScriptError, load_script
from tests.conftest import SMALL_SCRIPT

ROOT = Path(__file__).resolve().parent.parent


def errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "chat.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_script(path)
    return [str(i) for i in info.value.issues]


def test_shipped_nhssm_script_is_valid() -> None:
    script = load_script(ROOT / "chats" / "nhssm.yaml")
    assert script.id == "nhssm"
    assert script.model.timezone == "Europe/London"
    assert script.model.schedule.weekly is not None
    assert script.model.schedule.weekly.day == "wednesday"
    assert 6 <= len(script.model.questions) <= 8
    keys = [i.key for i in script.timeline()]
    assert keys[0] == "welcome" and keys[-1] == "close"
    assert all(i.text.startswith(f"Q{i.number} ") for i in script.timeline() if i.number)


def test_unquoted_time_is_read_as_a_time_not_sexagesimal(tmp_path: Path) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text(SMALL_SCRIPT.replace('"20:00"', "20:00").replace("{id}", "t"))
    script = load_script(path)
    assert script.model.schedule.weekly.start.hour == 20


CASES = [
    # (what to change, expected line, expected words)
    (("title: Test chat", "titel: Test chat"), 2, "unknown key 'titel'; did you mean 'title'?"),
    (("timezone: Europe/London", "timezone: Europe/Londn"), 4, "did you mean 'Europe/London'"),
    (("    at: 2m", "    at: 30s"), 18, "not after the previous question"),
    (("    at: 3m", "    at: 9m"), 21, "beyond the chat's 5m"),
    (("  - number: 2", "  - number: 1"), 17, "question number 1 is used twice"),
    (("  - number: 3", "  - number: 5"), 13, "question number(s) 3 missing"),
    (("    text: Second question?", '    text: "  "'), 19, "question 2 has no text"),
    (("  at: 4m", "  at: 10m"), 24, "closing at 10m is beyond"),
    (("    day: wednesday", "    day: wensday"), 8, "not a day of the week"),
    (("  duration: 5m", "  duration: five"), 10, "not a duration"),
    (("- number: 1", "- number: one"), 14, "valid integer"),
    (('hashtag: "#TestChat"', "hashtag: TestChat"), 3, "hashtag must start with #"),
    (("platforms: [memory]", "platforms: [discrod]"), 11, "did you mean 'discord'"),
    (("welcome: Welcome to the test chat.", "welcome: ''"), 12, "welcome is empty"),
]


@pytest.mark.parametrize(("change", "line", "words"), CASES)
def test_each_mistake_is_reported_with_its_line(tmp_path: Path, change, line, words) -> None:
    text = SMALL_SCRIPT.replace("{id}", "t").replace(*change)
    found = errors(tmp_path, text)
    assert any(f"chat.yaml:{line}:" in e and words in e for e in found), found


@pytest.mark.parametrize(("change", "line", "tag"), [
    (("welcome: Welcome to the test chat.", "welcome: Welcome to #TestChat, answer A1 ..."),
     12, "#TestChat"),
    (("    text: Second question?", "    text: Second question? #TestChat"), 19, "#TestChat"),
    (("  text: Thanks all.", "  text: Thanks all! #TestChat #NHS"), 25, "#TestChat"),
    (('hashtag: "#TestChat"', "hashtag: #TestChat"), 3, "#TestChat"),
])
def test_a_hashtag_that_yaml_reads_as_a_comment_is_named(tmp_path: Path, change, line,
                                                         tag) -> None:
    """`text: Welcome to #NHSSM` is "Welcome to" in YAML: posted cut short, unless refused."""
    text = SMALL_SCRIPT.replace("{id}", "t")
    assert change[0] in text
    found = errors(tmp_path, text.replace(*change))
    assert any(f"chat.yaml:{line}: the text stops before {tag}" in e and "quotes" in e
               for e in found), found


@pytest.mark.parametrize(("value", "welcome"), [
    ('"Welcome to #TestChat"', "Welcome to #TestChat"),
    ("'Welcome to #TestChat'", "Welcome to #TestChat"),
    (">-\n  Welcome to #TestChat", "Welcome to #TestChat"),
    ("Welcome to the chat#1 of the year", "Welcome to the chat#1 of the year"),
    ("Welcome to the test chat.  # a note for moderators", "Welcome to the test chat."),
])
def test_quoted_hashtags_and_ordinary_comments_are_fine(tmp_path: Path, value: str,
                                                        welcome: str) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text(SMALL_SCRIPT.replace("{id}", "t").replace(
        "welcome: Welcome to the test chat.", f"welcome: {value}"), encoding="utf-8")
    assert load_script(path).timeline()[0].text == welcome


def test_missing_required_key(tmp_path: Path) -> None:
    text = SMALL_SCRIPT.replace("{id}", "t").replace("timezone: Europe/London\n", "")
    assert any("'timezone' is required" in e for e in errors(tmp_path, text))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = SMALL_SCRIPT.replace("{id}", "t").replace("title: Test chat", "title: [unclosed")
    found = errors(tmp_path, text)
    assert found and "YAML syntax" in found[0]
    assert ":2:" in found[0] or ":3:" in found[0]


def test_post_too_long_for_x_counts_weighted_characters(tmp_path: Path) -> None:
    # 150 CJK characters weigh 300: too long for X although only 150 characters long.
    text = SMALL_SCRIPT.replace("{id}", "t").replace("platforms: [memory]", "platforms: [x]")
    text = text.replace("First question?", "質" * 150)
    found = errors(tmp_path, text)
    assert any("too long for x" in e and ":16:" in e for e in found), found


def test_url_counts_23_and_hashtag_is_included(tmp_path: Path) -> None:
    text = SMALL_SCRIPT.replace("{id}", "t").replace("platforms: [memory]", "platforms: [x]")
    long_url = "https://example.org/" + "a" * 400
    path = tmp_path / "ok.yaml"
    path.write_text(text.replace("First question?", f"See {long_url}"))
    load_script(path)  # a long URL still counts 23: fine
    over = "x" * 270  # 270 + "Q1 " + " #TestChat" > 280
    with pytest.raises(ScriptError) as info:
        load_script(path, text=text.replace("First question?", over))
    assert "too long for x" in str(info.value)


@pytest.mark.parametrize(("zone", "day", "start", "words"), [
    ("Europe/London", "sunday", "01:30", "does not exist"),
    ("Europe/London", "sunday", "01:30", "2"),
    ("America/New_York", "sunday", "01:30", "happens twice"),
])
def test_weekly_start_in_a_dst_gap_or_overlap(tmp_path: Path, zone, day, start, words) -> None:
    text = (SMALL_SCRIPT.replace("{id}", "t").replace("Europe/London", zone)
            .replace("wednesday", day).replace("20:00", start))
    found = errors(tmp_path, text)
    assert any(words in e and ":9:" in e for e in found), found


@pytest.mark.parametrize(("zone", "once", "words"), [
    ("Europe/London", "2027-03-28 01:30", "2027-03-28 01:30 does not exist in Europe/London"),
    ("Europe/London", "2027-10-31 01:30", "2027-10-31 01:30 happens twice in Europe/London"),
    ("America/New_York", "2027-03-14 02:15", "does not exist"),
])
def test_a_one_off_start_in_a_dst_gap_or_overlap_is_refused(
    tmp_path: Path, zone: str, once: str, words: str
) -> None:
    """A one-off at 01:30 on the spring-forward Sunday was listed as '01:30 GMT', a time
    the clocks skip (it would really have run at 02:30 BST)."""
    weekly = '  weekly:\n    day: wednesday\n    start: "20:00"\n'
    text = (SMALL_SCRIPT.replace("{id}", "t").replace("Europe/London", zone)
            .replace(weekly, f'  once: "{once}"\n'))
    found = errors(tmp_path, text)
    assert any(words in e and ":7:" in e and "pick a start outside the change hour" in e
               for e in found), found


def test_a_one_off_start_beside_the_change_hour_is_fine(tmp_path: Path) -> None:
    weekly = '  weekly:\n    day: wednesday\n    start: "20:00"\n'
    text = SMALL_SCRIPT.replace("{id}", "t").replace(weekly, '  once: "2027-03-28 02:30"\n')
    path = tmp_path / "chat.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_script(path).model.schedule.once is not None


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = (SMALL_SCRIPT.replace("{id}", "t")
            .replace("timezone: Europe/London", "timezone: Mars/Base")
            .replace("  - number: 3", "  - number: 2"))
    found = errors(tmp_path, text)
    assert len(found) >= 2


def test_structural_and_meaning_problems_in_one_pass_each_with_its_fix(tmp_path: Path) -> None:
    """An unknown key used to hide every other problem until it was fixed."""
    text = (SMALL_SCRIPT.replace("{id}", "t")
            .replace("host: Host\n", "host: Host\nhots: [jo]\n")
            .replace("timezone: Europe/London", "timezone: Europe/Londn")
            .replace("at: 3m", "at: 9m"))
    found = errors(tmp_path, text)
    assert any("unknown key 'hots'; did you mean 'hosts'?" in f for f in found)
    assert any("unknown time zone 'Europe/Londn'" in f and "did you mean 'Europe/London'" in f
               for f in found)
    assert any("beyond" in f and "9m" in f for f in found), found
    assert all(";" in f.split(": ", 1)[1] or "e.g." in f or "use" in f for f in found), found


def test_a_missing_required_key_still_reports_alone(tmp_path: Path) -> None:
    text = SMALL_SCRIPT.replace("{id}", "t").replace("timezone: Europe/London\n", "")
    found = [f.split(": ", 1)[1] for f in errors(tmp_path, text)]
    assert found == ["'timezone' is required; add it"]


@pytest.mark.parametrize(("first", "last", "named"), [
    ("2031-04-06", "2031-09-28", None),  # summer only: no Sunday meets a change
    ("2031-01-05", "2031-12-28", "2031-03-30"),  # the chat's own spring change is named
    ("2031-10-05", None, "2031-10-26"),  # open-ended: from its first Sunday on
])
def test_the_dst_check_reads_only_the_chats_own_dates(
        tmp_path: Path, first: str, last: str | None, named: str | None) -> None:
    """A 01:30 Sunday chat in Europe/London meets the clocks changing only in its range."""
    dates = f"  first: {first}\n" + (f"  last: {last}\n" if last else "")
    text = (SMALL_SCRIPT.replace("{id}", "t").replace("wednesday", "sunday")
            .replace("20:00", "01:30").replace("schedule:\n", "schedule:\n" + dates))
    path = tmp_path / "chat.yaml"
    path.write_text(text, encoding="utf-8")
    if named is None:
        assert str(load_script(path).model.schedule.first) == first
    else:
        found = errors(tmp_path, text)
        assert any(named in e and "01:30 on sundays" in e for e in found), found
        assert not any("2027" in e for e in found), found
