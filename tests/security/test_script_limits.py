"""Hostile chat scripts: bounded before they are built, refused in one line with file:line.

Findings 1 and 2 of issue 12: a 526-byte alias bomb took 2.9 GB; a 20k-deep list raised
RecursionError; `duration: 999999999999999999999d` and `once: 9999-12-31` passed validation
and then broke every page and every restart. The fuzz test mutates real scripts (the shipped
#NHSSM script and the test script) and requires: no traceback, every problem one line naming
file:line, and any script that loads can be scheduled and checked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.schedule import occurrences
from bot.script import ScriptError, load_script
from tests.conftest import chat_script
from tests.test_cli import tweetchat

ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS = [
    (ROOT / "chats" / "nhssm.yaml").read_text(encoding="utf-8"),
    chat_script().replace("{id}", "test"),
    chat_script("[web, x]").replace("{id}", "test"),
]
ISSUE = re.compile(r"^[^\n]+\.yaml:\d+: [^\n]+$")

ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{b}: &{b} [{', '.join(['*' + p] * 9)}]\n"
              for p, b in zip("abcdefgh", "bcdefghi", strict=True))
)
HOSTILE = {
    "alias bomb": ALIAS_BOMB,
    "deep list": "[" * 20_000 + "]" * 20_000,
    "deep mapping": "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)),
    "huge duration": chat_script().replace("duration: 5m", "duration: 999999999999999999999d"),
    "far future once": chat_script().replace(
        '  weekly:\n    day: wednesday\n    start: "20:00"\n', '  once: "9999-12-31 23:59"\n'),
    "year zero first": chat_script().replace("  duration: 5m",
                                             "  duration: 5m\n  first: 0001-01-01"),
    "nan duration": chat_script().replace("duration: 5m", "duration: nan"),
    "digits duration": chat_script().replace("duration: 5m", "duration: " + "9" * 5000),
    "huge question number": chat_script().replace("number: 3", "number: " + "9" * 30),
    "long time zone": chat_script().replace("Europe/London", "Europe/" + "x" * 5000),
    "year-long reminder": chat_script().replace("host: Host", "host: Host\nreminders: [400d]"),
    "newline in a value": chat_script().replace("day: wednesday", 'day: "wed\\nnesday"'),
    "NUL byte": chat_script().replace("Test chat", "Test\x00chat"),
    "duplicate key": chat_script().replace("host: Host", "host: Host\nhost: Other"),
    "too big": "title: " + "x" * 300_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_script_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text(HOSTILE[name].replace("{id}", "t"), encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert info.value.issues
    for issue in info.value.issues:
        assert ISSUE.match(str(issue)), str(issue)


@pytest.mark.parametrize("name", ["alias bomb", "deep list", "huge duration", "far future once"])
def test_tweetchat_check_refuses_with_exit_2(tmp_path: Path, name: str) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text(HOSTILE[name].replace("{id}", "t"), encoding="utf-8")
    result = tweetchat(tmp_path, "check", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(ISSUE.match(line) for line in lines), lines


VALUES = st.sampled_from([
    "999999999999999999999d", "9999-12-31 23:59", "0001-01-01", "nan", "inf", "-1", "1e400",
    "0", "0m", "24h1s", "25h", "366d", "*a", "&a x", "[", "{", "!!python/object:os.system",
    "'", '"\\u0000"', "[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]", "9" * 5000,
    "2100-12-31", "1999-12-31", "29:61", "\ud7ff", "- x", "? x", "~", "", "{a: b}", "[1, 2]",
])
MUTATION = st.one_of(
    st.tuples(st.just("value"), st.integers(0, 200), st.one_of(VALUES, st.text(max_size=30))),
    st.tuples(st.just("delete"), st.integers(0, 200), st.just("")),
    st.tuples(st.just("duplicate"), st.integers(0, 200), st.just("")),
    st.tuples(st.just("insert"), st.integers(0, 200), st.one_of(VALUES, st.text(max_size=30))),
    st.tuples(st.just("truncate"), st.integers(0, 5000), st.just("")),
)


def mutate(text: str, mutations: list[tuple[str, int, str]]) -> str:
    """Apply line-level mutations the way a careless or hostile editor would."""
    for kind, where, value in mutations:
        lines = text.split("\n")
        i = where % max(len(lines), 1)
        if kind == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {value}"
        elif kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "insert":
            lines.insert(i, value)
        elif kind == "truncate":
            return text[: where % max(len(text), 1)]
        text = "\n".join(lines)
    return text


FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=300, **FUZZ)
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_real_scripts_never_crash(tmp_path: Path, seed: str,
                                          mutations: list[tuple[str, int, str]]) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(mutate(seed, mutations), encoding="utf-8", errors="surrogatepass")
    try:
        script = load_script(path)
    except ScriptError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert ISSUE.match(str(issue)), str(issue)
        return
    # What loads must also schedule and lay out: the bot does this at start-up and on '/'.
    for occ in occurrences(script, datetime.now(UTC), 3):
        assert occ.end > occ.start
    assert script.timeline()[-1].due_offset <= script.duration.total_seconds()
    assert all(r.total_seconds() > 0 for r in script.reminders)


@settings(max_examples=40, **FUZZ)
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=3))
def test_check_command_exits_0_or_2_never_a_traceback(
        tmp_path: Path, seed: str, mutations: list[tuple[str, int, str]]) -> None:
    from bot.cli import app

    path = tmp_path / "fuzz.yaml"
    path.write_text(mutate(seed, mutations), encoding="utf-8", errors="surrogatepass")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code in (0, 2), result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and all(ISSUE.match(line) for line in lines), lines
