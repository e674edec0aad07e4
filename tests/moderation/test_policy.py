"""Policy parsing: the shipped config equals the NHS defaults; mistakes name file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.moderation.policy import Policy, PolicyError, load_policy, parse_policy

CONFIG = Path(__file__).resolve().parents[2] / "config" / "moderation.toml"


def test_shipped_config_is_the_nhs_default() -> None:
    shipped, default = load_policy(CONFIG), Policy.default()
    assert shipped.checks == default.checks
    assert shipped.spam == default.spam and shipped.words == default.words
    assert shipped.deny_domains == default.deny_domains
    actions = {name: (c.action, c.needs_review) for name, c in default.checks.items()}
    for name in ("nhs_number", "phone", "email", "postcode", "dob"):
        assert actions[name] == ("redact", True)  # confidentiality first: redact + flag
    assert actions["abuse"] == ("hold", True)
    assert actions["spam_flood"][0] == "hide" and actions["deny_link"][0] == "hide"
    assert default.checks["nhs_number"].mask == "[NHS number removed]"


def test_overrides_and_disabling(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("grumble\n")
    path = tmp_path / "m.toml"
    path.write_text(
        '[checks.abuse]\naction = "hide"\nwordlist = "words.txt"\n'
        "[checks.postcode]\nenabled = false\n"
        '[checks.deny_link]\ndomains = ["bad.example"]\n'
        "[checks.spam_flood]\nmessages = 3\nseconds = 10\n"
    )
    policy = load_policy(path)
    assert policy.checks["abuse"].action == "hide"
    assert "grumble" in policy.words and "shit" not in policy.words
    assert "postcode" not in policy.checks
    assert {"bad.example", "spam.example"} <= policy.deny_domains
    assert (policy.spam.flood_messages, policy.spam.flood_seconds) == (3, 10.0)


def test_moderation_disabled_runs_no_checks() -> None:
    assert parse_policy("[moderation]\nenabled = false\n").checks == {}


@pytest.mark.parametrize(("text", "error"), [
    ('[checks.nhs_numbr]\naction = "redact"\n',
     "m.toml:1: unknown check 'nhs_numbr' (did you mean 'nhs_number'?)"),
    ('# comment\n[checks.abuse]\naction = "hidee"\n',
     "m.toml:3: checks.abuse.action = 'hidee' is not an action; use one of delete, hide, hold, "
     "redact, flag (did you mean 'hide'?)"),
    ('[checks.abuse]\nreview = true\nactoin = "hide"\n',
     "m.toml:3: unknown key checks.abuse.actoin (did you mean 'action'?)"),
    ('[checks.spam_flood]\n\nmessages = "8"\n',
     "m.toml:3: checks.spam_flood.messages must be a whole number (like messages = 8)"),
    ('[checks.phone]\nnotify = ["moderator"]\n',
     "m.toml:2: checks.phone.notify must be a list drawn from ('moderators', 'author'); "
     "'moderator' is not one (did you mean 'moderators'?)"),
    ("[moderaton]\nenabled = true\n",
     "m.toml:1: unknown section [moderaton] (did you mean 'moderation'?)"),
    ('[checks.abuse]\naction = hold\n', "m.toml:2: Invalid value (not valid TOML)"),
    ("[checks.email]\nreview = 1\n", "m.toml:2: checks.email.review must be true or false"),
])
def test_errors_name_file_and_line(text: str, error: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "m.toml")
    assert info.value.errors == [error]
    assert "\n" not in error


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[checks.email]\naction = "nope"\n[checks.abuse]\nwordlist = "missing.txt"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert [e.split(": ", 1)[0][-6:] for e in info.value.errors] == ["toml:2", "toml:4"]
    assert "checks.abuse.wordlist: no such file" in info.value.errors[1]
    (tmp_path / "words.txt").write_text("fine\nnot ok!\n")
    path.write_text('[checks.abuse]\nwordlist = "words.txt"\n')
    with pytest.raises(PolicyError, match=r"words.txt:2: 'not ok!' is not a word list entry"):
        load_policy(path)
    with pytest.raises(PolicyError, match=r"nowhere.toml: cannot read the moderation policy"):
        load_policy(tmp_path / "nowhere.toml")
