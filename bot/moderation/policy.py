"""The moderation policy: which checks run, what each does, and who hears about it.

Read from config/moderation.toml. The built-in defaults (`Policy.default()`) are the
policy for an NHS chat, confidentiality first: identifiers are masked in every transcript
and flagged for a moderator; abuse is held until approved; spam floods and deny-listed
links are hidden. A broken file gets one line per mistake naming file:line, with a
"did you mean" for misspelt keys and values.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.moderation.spam import SpamSettings
from bot.moderation.wordlist import (
    ListError,
    WordList,
    load_deny_domains,
    load_wordlist,
    parse_deny_domains,
)

__all__ = ["ACTIONS", "CHECKS", "DEFAULT_SIGNPOST", "PLATFORM_ACTIONS", "CheckPolicy", "Policy",
           "PolicyError", "load_policy", "parse_policy"]

# Most severe first: when several checks fire, the message gets the most severe action.
ACTIONS = ("delete", "hide", "hold", "redact", "flag")
NOTIFY = ("moderators", "author")
# Asked of the network as well, where it can (Mastodon, Bluesky): to its moderators, or from
# the bot's own account. A network that cannot is a flag for the chat's moderators.
PLATFORM_ACTIONS = ("report", "mute", "block")


# Sent privately to someone whose message suggests they may be at risk (the crisis check).
DEFAULT_SIGNPOST = (
    "It sounds like things may be really hard right now, and you don't have to face this "
    "alone. If you are in danger now, call 999. For urgent help, call NHS 111 (option 2 "
    "for mental health). Samaritans are there day and night on 116 123 (free), or text "
    "SHOUT to 85258. A moderator of this chat has been told and may get in touch privately."
)


@dataclass(frozen=True)
class CheckSpec:
    group: str  # identifiers | conduct | spam | safety
    action: str
    review: bool
    notify: tuple[str, ...]
    mask: str
    options: Mapping[str, Any] = field(default_factory=dict)


# The NHS-chat defaults. config/moderation.toml spells the same values out (a test checks).
CHECKS: dict[str, CheckSpec] = {
    "nhs_number": CheckSpec("identifiers", "redact", True, ("moderators",), "[NHS number removed]"),
    "phone": CheckSpec("identifiers", "redact", True, ("moderators",), "[phone number removed]",
                       {"region": "GB"}),
    "email": CheckSpec("identifiers", "redact", True, ("moderators",), "[email removed]"),
    "postcode": CheckSpec("identifiers", "redact", True, ("moderators",), "[postcode removed]"),
    "dob": CheckSpec("identifiers", "redact", True, ("moderators",), "[date of birth removed]"),
    "abuse": CheckSpec("conduct", "hold", True, ("moderators", "author"), "[removed]",
                       {"wordlist": ""}),
    "spam_repeat": CheckSpec("spam", "hide", False, ("moderators",), "[removed]",
                             {"repeats": 3, "window_seconds": 600}),
    "spam_flood": CheckSpec("spam", "hide", False, ("moderators",), "[removed]",
                            {"messages": 8, "seconds": 60, "timeout_minutes": 0}),
    "link_only": CheckSpec("spam", "flag", True, ("moderators",), "[link removed]"),
    "mass_mention": CheckSpec("spam", "flag", True, ("moderators",), "[removed]",
                              {"max_mentions": 5}),
    "deny_link": CheckSpec("spam", "hide", False, ("moderators",), "[link removed]",
                           {"domains_file": "", "domains": []}),
    # Holds nothing (a person in distress must not be silenced): a private signpost to the
    # writer and an alert to moderators.
    "crisis": CheckSpec("safety", "flag", True, ("moderators", "author"), "",
                        {"signpost": DEFAULT_SIGNPOST}),
}
_COMMON_KEYS = ("enabled", "action", "review", "notify", "mask", "platform_actions")
_TOP_KEYS = ("moderation", "checks")
_MODERATION_KEYS = ("enabled",)


class PolicyError(ValueError):
    """One or more mistakes in a policy file; each line names file:line and the fix."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class CheckPolicy:
    """How one check is handled: its action, review, who is told and the mask used."""

    name: str
    group: str
    action: str
    review: bool  # also put the message in the review queue
    notify: tuple[str, ...]
    mask: str
    options: Mapping[str, Any] = field(default_factory=dict)
    platform_actions: tuple[str, ...] = ()  # report / mute / block, asked of the network

    @property
    def needs_review(self) -> bool:
        """Whether a match goes to the review queue (asked for, or a flag or hold)."""
        return self.review or self.action in ("flag", "hold")


@dataclass(frozen=True)
class Policy:
    """A moderation policy: the enabled checks, the word and deny lists, spam limits."""

    checks: Mapping[str, CheckPolicy]  # enabled checks only
    words: WordList
    deny_domains: frozenset[str]
    spam: SpamSettings
    phone_region: str = "GB"
    enabled: bool = True
    source: str = "<defaults>"

    @classmethod
    def default(cls) -> Policy:
        """The built-in policy, as an empty policy file gives it."""
        return parse_policy("", "<defaults>")


def load_policy(path: str | Path) -> Policy:
    """The policy in the TOML file at `path`; PolicyError when it cannot be read or is wrong."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise PolicyError([f"{p}: cannot read the moderation policy ({exc.strerror})"]) from None
    return parse_policy(text, str(p), base=p.parent)


def parse_policy(text: str, source: str = "<policy>", *, base: Path | None = None) -> Policy:
    """The policy in TOML `text`; every mistake is collected into one PolicyError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc), text)
        msg = getattr(exc, "msg", None) or re.sub(r"\s*\(at (line|end).*\)$", "", str(exc))
        raise PolicyError([f"{source}:{line}: {msg} (not valid TOML)"]) from None
    lines = _KeyLines(text)
    errors: list[str] = []

    def err(path: tuple[str, ...], message: str) -> None:
        errors.append(f"{source}:{lines.find(path)}: {message}")

    for key in data:
        if key not in _TOP_KEYS:
            err((key,), f"unknown section [{key}]{_did_you_mean(key, _TOP_KEYS)}")
    top = data.get("moderation", {})
    enabled = True
    if not isinstance(top, dict):
        err(("moderation",), "[moderation] must be a table")
    else:
        for key, value in top.items():
            if key not in _MODERATION_KEYS:
                err(("moderation", key),
                    f"unknown key moderation.{key}{_did_you_mean(key, _MODERATION_KEYS)}")
            elif not isinstance(value, bool):
                err(("moderation", key), "moderation.enabled must be true or false")
            else:
                enabled = value
    raw_checks = data.get("checks", {})
    if not isinstance(raw_checks, dict):
        err(("checks",), "[checks] must be a table of [checks.<name>] tables")
        raw_checks = {}
    checks: dict[str, CheckPolicy] = {}
    for name, spec in CHECKS.items():
        table = raw_checks.get(name, {})
        if not isinstance(table, dict):
            err(("checks", name), f"checks.{name} must be a table")
            table = {}
        check = _check(name, spec, table, err)
        if check is not None:
            checks[name] = check
    for name in raw_checks:
        if name not in CHECKS:
            err(("checks", name), f"unknown check {name!r}{_did_you_mean(name, CHECKS)}")

    words, deny = WordList(), frozenset[str]()
    lists = [("abuse", "wordlist"), ("deny_link", "domains_file")]
    paths = {c: _resolve(checks[c].options[k], base) if c in checks else None for c, k in lists}
    for c, k in lists:
        if paths[c] is not None and not paths[c].is_file():  # type: ignore[union-attr]
            err(("checks", c, k), f"checks.{c}.{k}: no such file {str(paths[c])!r} "
                                  '(paths are relative to the policy file; "" = bundled list)')
            paths[c] = None
    try:
        if "abuse" in checks:
            words = load_wordlist(paths["abuse"])
        if "deny_link" in checks:
            deny = load_deny_domains(paths["deny_link"])
            domains = "\n".join(checks["deny_link"].options["domains"])
            where = lines.find(("checks", "deny_link", "domains"))
            deny |= parse_deny_domains(domains, f"{source}:{where}")
    except ListError as exc:
        errors.append(str(exc))
    if errors:
        raise PolicyError(errors)
    opt = {n: c.options for n, c in checks.items()}
    spam = SpamSettings(
        repeats=opt.get("spam_repeat", {}).get("repeats", 3),
        repeat_window=float(opt.get("spam_repeat", {}).get("window_seconds", 600)),
        flood_messages=opt.get("spam_flood", {}).get("messages", 8),
        flood_seconds=float(opt.get("spam_flood", {}).get("seconds", 60)),
        max_mentions=opt.get("mass_mention", {}).get("max_mentions", 5),
    )
    region = str(opt.get("phone", {}).get("region", "GB")).upper()
    return Policy(checks=checks if enabled else {}, words=words, deny_domains=deny, spam=spam,
                  phone_region=region, enabled=enabled, source=source)


def _check(name: str, spec: CheckSpec, table: Mapping[str, Any], err: Any) -> CheckPolicy | None:
    allowed = (*_COMMON_KEYS, *spec.options)
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = ("checks", name, key)
        if key not in allowed:
            err(where, f"unknown key checks.{name}.{key}{_did_you_mean(key, allowed)}")
        elif key in ("enabled", "review"):
            if isinstance(value, bool):
                values[key] = value
            else:
                err(where, f"checks.{name}.{key} must be true or false")
        elif key == "action":
            if value in ACTIONS:
                values[key] = value
            else:
                err(where, f"checks.{name}.action = {value!r} is not an action; use one of "
                           f"{', '.join(ACTIONS)}{_did_you_mean(str(value), ACTIONS)}")
        elif key == "notify":
            bad = [v for v in value if v not in NOTIFY] if isinstance(value, list) else [value]
            if bad:
                hint = _did_you_mean(str(bad[0]), NOTIFY)
                err(where, f"checks.{name}.notify must be a list drawn from "
                           f"{NOTIFY}; {bad[0]!r} is not one{hint}")
            else:
                values[key] = tuple(value)
        elif key == "platform_actions":
            bad = [v for v in value if v not in PLATFORM_ACTIONS] \
                if isinstance(value, list) else [value]
            if bad:
                err(where, f"checks.{name}.platform_actions must be a list drawn from "
                           f"{PLATFORM_ACTIONS}; {bad[0]!r} is not one"
                           f"{_did_you_mean(str(bad[0]), PLATFORM_ACTIONS)}")
            else:
                values[key] = tuple(dict.fromkeys(value))
        elif key == "mask":
            if isinstance(value, str):
                values[key] = value
            else:
                err(where, f'checks.{name}.mask must be text, e.g. mask = "[removed]"')
        else:
            default = spec.options[key]
            if _same_type(value, default):
                values.setdefault("options", dict(spec.options))[key] = value
            else:
                err(where, f"checks.{name}.{key} must be {_type_name(default)} "
                           f"(like {key} = {_toml(default)})")
    if not values.get("enabled", True):
        return None
    return CheckPolicy(
        name=name, group=spec.group, action=values.get("action", spec.action),
        review=values.get("review", spec.review), notify=values.get("notify", spec.notify),
        mask=values.get("mask", spec.mask), options=values.get("options", dict(spec.options)),
        platform_actions=values.get("platform_actions", ()),
    )


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, int):
        return isinstance(value, int) and value > 0 or (default == 0 and value == 0)
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, type(default))


def _type_name(default: Any) -> str:
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, list):
        return "a list of text"
    return "text"


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return '["spam.example"]'
    return str(value)


def _resolve(value: str, base: Path | None) -> Path | None:
    if not value:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() or base is None else base / p


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _line_from_message(message: str, text: str) -> int:
    m = re.search(r"line (\d+)", message)
    if m:
        return int(m.group(1))
    return max(1, len(text.splitlines())) if "end of document" in message else 1


class _KeyLines:
    """Where each table and key is written, so a semantic error can name its line."""

    _HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    _KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            if h := self._HEADER.match(line):
                table = tuple(part.strip().strip("\"'") for part in h.group(1).split("."))
                for i in range(1, len(table) + 1):
                    self.lines.setdefault(table[:i], number)
            elif k := self._KEY.match(line):
                key = tuple(part.strip().strip("\"'") for part in k.group(1).split("."))
                for i in range(1, len(key) + 1):
                    self.lines.setdefault(table + key[:i], number)

    def find(self, path: tuple[str, ...]) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1
