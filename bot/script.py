"""The chat script: the contract moderators write, loaded from YAML and validated.

Every problem becomes a `ScriptIssue` naming file:line, what is wrong and how to fix it;
`load_script` raises `ScriptError` carrying all of them at once, so a moderator fixes a
broken script in one pass instead of one error per run.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import ValidationError

from bot.archive.records import ItemRow
from bot.durations import MAX_REMINDER_SECONDS, parse_duration
from bot.platforms import registry
from bot.repeats import LONGEST_DATE, repeat_text_problem, unique_text
from bot.script_file import ScriptFileError, read_script_file
from bot.script_model import (
    DAYS,
    Closing,
    Question,
    Schedule,
    ScriptError,
    ScriptIssue,
    ScriptModel,
    Weekly,
)
from bot.yaml_lines import Path_, YamlSyntaxError, cut_by_hashtags, line_for, load_with_lines


@dataclass(frozen=True)
class ChatScript:
    """A validated chat script, with its times already parsed."""

    model: ScriptModel
    path: Path
    digest: str

    @property
    def id(self) -> str:
        """The chat's slug, e.g. nhssm."""
        return self.model.id

    @property
    def title(self) -> str:
        """The chat's title as shown to people."""
        return self.model.title

    @property
    def hashtag(self) -> str:
        """The chat's hashtag, with its #."""
        return self.model.hashtag

    @property
    def zone(self) -> ZoneInfo:
        """The chat's own time zone: its times are local to it."""
        return ZoneInfo(self.model.timezone)

    @property
    def duration(self) -> timedelta:
        """How long a session lasts."""
        return timedelta(seconds=parse_duration(self.model.schedule.duration))

    @property
    def reminders(self) -> list[timedelta]:
        """How long before each session a reminder goes out."""
        return [timedelta(seconds=parse_duration(r)) for r in self.model.reminders]

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms the chat runs on, as the script names them."""
        return self.model.platforms

    def tag(self, number: int) -> str:
        """The tag of question `number`: Q3, or T3 in a topic chat."""
        return f"{'T' if self.model.tag_style == 'T' else 'Q'}{number}"

    def question_text(self, question: Question) -> str:
        """The post as it goes out: the Q tag first (unless the moderator wrote it)."""
        text = question.text.strip()
        tag = self.tag(question.number)
        if re.match(rf"^{tag}\b", text, re.IGNORECASE):
            return text
        return f"{tag} {text}"

    def welcome_text(self) -> str:
        """The welcome as it goes out: with the chat's disclaimer, when it has one."""
        welcome = self.model.welcome.strip()
        disclaimer = self.model.disclaimer.strip()
        return f"{welcome}\n\n{disclaimer}" if disclaimer else welcome

    def timeline(self) -> list[ItemRow]:
        """The scripted items in order, with their offsets from the start in seconds."""
        items = [ItemRow(key="welcome", number=None, text=self.welcome_text(), due_offset=0)]
        for q in sorted(self.model.questions, key=lambda q: parse_duration(q.at)):
            items.append(
                ItemRow(key=f"q{q.number}", number=q.number, text=self.question_text(q),
                        due_offset=parse_duration(q.at))
            )
        items.append(
            ItemRow(key="close", number=None, text=self.model.closing.text.strip(),
                    due_offset=parse_duration(self.model.closing.at))
        )
        return items

    def settings_for(self, platform: str) -> dict[str, Any]:
        """The script's own settings for one platform (a copy)."""
        return dict(self.model.platform_settings.get(platform, {}))


def load_script(path: str | Path, *, text: str | None = None) -> ChatScript:
    """Read and validate a chat script. Raises ScriptError listing every problem found."""
    path = Path(path)
    name = str(path)
    if text is None:
        try:
            text = read_script_file(path)
        except ScriptFileError as exc:
            raise ScriptError([ScriptIssue(name, 1, str(exc))]) from None
    try:
        data, lines = load_with_lines(text)
    except YamlSyntaxError as exc:
        raise ScriptError(
            [ScriptIssue(name, exc.line, f"YAML syntax: {exc}; check indentation and quotes")]
        ) from None
    if not isinstance(data, dict):
        raise ScriptError(
            [ScriptIssue(name, 1, "a chat script is a mapping of keys (id, title, hashtag, ...)")]
        )
    cut = [ScriptIssue(name, line, f"the text stops before {tag}: YAML reads ` #` as the start "
                       "of a comment; put the whole text in quotes, e.g. \"... " + tag + " ...\"")
           for line, tag in cut_by_hashtags(text)]
    try:
        model = ScriptModel.model_validate(data)
    except ValidationError as exc:
        raise ScriptError(_by_line(cut + _every_issue(name, data, exc, lines))) from None
    issues = cut + _semantic_issues(name, model, lines)
    if issues:
        raise ScriptError(_by_line(issues))
    return ChatScript(model=model, path=path, digest=hashlib.sha256(text.encode()).hexdigest())


def _by_line(issues: list[ScriptIssue]) -> list[ScriptIssue]:
    """Issues in the order of the file's lines (stable: one line's keep their order)."""
    return sorted(issues, key=lambda issue: issue.line)


# -- error translation --------------------------------------------------------------------

def _allowed_keys(loc: Path_) -> list[str]:
    model: Any = ScriptModel
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (Schedule, Weekly, Question, Closing):
            if candidate is annotation or candidate in getattr(annotation, "__args__", ()):
                model = candidate
                break
        else:
            return []
    return list(model.model_fields)


def _pydantic_issues(name: str, exc: ValidationError, lines: dict[Path_, int]) -> list[ScriptIssue]:
    issues = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        where = ".".join(str(p) for p in loc) or "(top)"
        line = line_for(lines, loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            close = difflib.get_close_matches(key, _allowed_keys(loc), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else "; remove it"
            msg = f"unknown key '{key}'{hint}"
        elif kind == "missing":
            msg = f"'{where}' is required; add it"
        elif kind == "string_pattern_mismatch" and loc == ("id",):
            msg = "id must be a short slug of lower-case letters, digits and dashes, e.g. nhssm"
        elif kind == "string_pattern_mismatch" and loc == ("hashtag",):
            msg = "hashtag must start with # and contain letters or digits only, e.g. '#NHSSM'"
        elif kind == "too_short" and loc == ("questions",):
            msg = "a chat needs at least one question"
        else:
            detail = err["msg"].removeprefix("Value error, ")
            msg = f"{where}: {detail}"
            if kind.startswith(("time_", "date", "datetime")):
                msg += " (times are HH:MM, dates YYYY-MM-DD; quote them)"
        issues.append(ScriptIssue(name, line, msg))
    return issues


_UNION_TAGS = {"Weekly", "str", "int"}


def _every_issue(name: str, data: dict[str, Any], exc: ValidationError,
                 lines: dict[Path_, int]) -> list[ScriptIssue]:
    """Every problem at once: the structural ones and the checks of meaning.

    The checks of meaning (time zone, times beyond the duration, ...) run on the script
    without the keys in error, so one pass shows all.
    """
    issues = _pydantic_issues(name, exc, lines)
    pruned = _without(data, exc)
    if pruned is None:
        return issues
    try:
        rest = _semantic_issues(name, ScriptModel.model_validate(pruned), lines)
    except (ValidationError, ValueError):
        return issues
    seen = {(i.line, i.message) for i in issues}
    return issues + [i for i in rest if (i.line, i.message) not in seen]


def _without(data: dict[str, Any], exc: ValidationError) -> dict[str, Any] | None:
    """A copy of the data without the keys in error, or None when that cannot be valid.

    It cannot when a required key is missing or wrong, or the error sits in a list item.
    """
    pruned = copy.deepcopy(data)
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
        if err["type"] == "missing" or not loc:
            return None
        parent: Any = pruned
        for part in loc[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return None
        if not isinstance(parent, dict) or loc[-1] not in parent:
            return None
        del parent[loc[-1]]
    return pruned


def _semantic_issues(name: str, m: ScriptModel, lines: dict[Path_, int]) -> list[ScriptIssue]:
    issues: list[ScriptIssue] = []

    def add(path: Path_, msg: str) -> None:
        issues.append(ScriptIssue(name, line_for(lines, path), msg))

    zone: ZoneInfo | None = None
    try:
        zone = ZoneInfo(m.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(m.timezone, sorted(available_timezones()), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else " such as Europe/London"
        add(("timezone",), f"unknown time zone '{m.timezone}'; use an IANA name{hint}")

    sch = m.schedule
    if (sch.weekly is None) == (sch.once is None):
        add(("schedule",), "schedule needs exactly one of 'weekly' (day and start) or 'once'")
    if sch.first and sch.last and sch.last < sch.first:
        add(("schedule", "last"), "schedule.last is before schedule.first; swap them")
    duration = parse_duration(sch.duration)

    for key in ("welcome", "title"):
        if not getattr(m, key).strip():
            add((key,), f"{key} is empty; write the text to post")

    for i, reminder in enumerate(m.reminders):
        try:
            if parse_duration(reminder, maximum=MAX_REMINDER_SECONDS) <= 0:
                raise ValueError("must be before the start")
        except ValueError as exc:
            add(("reminders", i), f"reminder '{reminder}': {exc}")

    problem = repeat_text_problem(m.repeat_text)
    if problem:
        add(("repeat_text",), problem)

    for i, platform in enumerate(m.platforms):
        if platform not in registry.PLATFORMS:
            add(("platforms", i), registry.unknown(platform))
    for key in m.platform_settings:
        if key not in registry.PLATFORMS:
            add(("platform_settings", key), f"settings for unknown platform '{key}'; remove them")

    # Questions: numbers 1..n each once; offsets increasing and inside the hour.
    seen: dict[int, int] = {}
    previous = 0.0
    for i, q in enumerate(m.questions):
        if q.number in seen:
            add(("questions", i, "number"),
                f"question number {q.number} is used twice (also item {seen[q.number] + 1}); "
                "number them 1, 2, 3, ...")
        seen[q.number] = i
        if not q.text.strip():
            add(("questions", i, "text"),
                f"question {q.number} has no text; write the question to post")
        try:
            at = parse_duration(q.at)
        except ValueError as exc:
            add(("questions", i, "at"), str(exc))
            continue
        if at <= 0:
            add(("questions", i, "at"),
                f"question {q.number} must come after the welcome; give it an at such as 5m")
        if at <= previous and i:
            add(("questions", i, "at"),
                f"question {q.number} at {q.at} is not after the previous question; "
                "list questions in time order")
        if at >= duration:
            add(("questions", i, "at"),
                f"question {q.number} at {q.at} is beyond the chat's {sch.duration}; move it "
                "earlier or lengthen schedule.duration")
        previous = max(previous, at)
    expected = set(range(1, len(m.questions) + 1))
    missing = sorted(expected - set(seen))
    if missing:
        add(("questions",), f"question number(s) {', '.join(map(str, missing))} missing; "
                            f"number the {len(m.questions)} questions 1 to {len(m.questions)}")
    if not m.closing.text.strip():
        add(("closing", "text"),
            "closing text is empty; say thanks and where the transcript will be")
    try:
        close_at = parse_duration(m.closing.at)
        if close_at <= previous:
            add(("closing", "at"), "the closing post must come after the last question; set "
                "closing.at later than the last question's at")
        if close_at > duration:
            add(("closing", "at"), f"closing at {m.closing.at} is beyond the chat's "
                f"{sch.duration}; move it earlier or lengthen schedule.duration")
    except ValueError as exc:
        add(("closing", "at"), str(exc))

    issues.extend(_length_issues(name, m, lines))
    if zone is not None and sch.weekly is not None:
        problem = dst_problem(sch.weekly.day, sch.weekly.start, zone, first=sch.first,
                              last=sch.last)
        if problem:
            add(("schedule", "weekly", "start"), problem)
    if zone is not None and sch.once is not None:
        problem = once_problem(sch.once, zone)
        if problem:
            add(("schedule", "once"), problem)
    return issues


def _length_issues(name: str, m: ScriptModel, lines: dict[Path_, int]) -> list[ScriptIssue]:
    """Every post too long for a platform the chat runs on, as that platform counts it."""
    out = []
    welcome = f"{m.welcome.strip()}\n\n{m.disclaimer.strip()}" if m.disclaimer.strip() \
        else m.welcome
    posts: list[tuple[Path_, str]] = [(("welcome",), welcome)]
    tag = "T" if m.tag_style == "T" else "Q"
    for i, q in enumerate(m.questions):
        text = q.text.strip()
        if not re.match(rf"^{tag}{q.number}\b", text, re.IGNORECASE):
            text = f"{tag}{q.number} {text}"
        posts.append((("questions", i, "text"), text))
    posts.append((("closing", "text"), m.closing.text))
    for platform in m.platforms:
        info = registry.PLATFORMS.get(platform)
        if info is None:
            continue
        for path, text in posts:
            if info.refuses_repeats and not repeat_text_problem(m.repeat_text):
                # As long as it can become: the widest date and a four-digit number.
                text = unique_text(m.repeat_text, text.strip(), LONGEST_DATE, 9999)
            problem = info.too_long(text, m.hashtag, m.platform_settings.get(platform))
            if problem is not None:
                out.append(ScriptIssue(name, line_for(lines, path), problem))
    return out


def dst_problem(day: str, start: time, zone: ZoneInfo, years: int = 3, *,
                first: date | None = None, last: date | None = None) -> str | None:
    """Whether a weekly local start time falls in a daylight-saving gap or overlap.

    Only the chat's own sessions count: from `first` (or today, if later) to `last`, or
    `years` ahead when the chat has no end. A summer-only chat never meets a change.
    """
    begin = max(date.today(), first or date.min)
    weekday = DAYS.index(day)
    d = begin + timedelta(days=(weekday - begin.weekday()) % 7)
    end = last + timedelta(days=1) if last else begin + timedelta(days=365 * years)
    while d < end:
        naive = datetime.combine(d, start)
        change = clock_change(naive, zone)
        if change is not None:
            return (f"{start:%H:%M} on {day}s {change} on {d.isoformat()} in {zone.key} "
                    f"({_CHANGES[change]}); pick a start outside the change hour")
        d += timedelta(days=7)
    return None


def once_problem(once: datetime, zone: ZoneInfo) -> str | None:
    """Whether a one-off local start falls in a daylight-saving gap or overlap."""
    if once.tzinfo is not None:  # written with its offset: it names one instant
        return None
    change = clock_change(once, zone)
    if change is None:
        return None
    return (f"{once:%Y-%m-%d %H:%M} {change} in {zone.key} ({_CHANGES[change]}); "
            "pick a start outside the change hour")


_CHANGES = {"does not exist": "the clocks go forward", "happens twice": "the clocks go back"}


def clock_change(naive: datetime, zone: ZoneInfo) -> str | None:
    """'does not exist' (a gap), 'happens twice' (an overlap) or None for a local time."""
    a = naive.replace(tzinfo=zone, fold=0)
    b = naive.replace(tzinfo=zone, fold=1)
    if a.utcoffset() == b.utcoffset():
        return None
    roundtrip = a.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    return "does not exist" if roundtrip != naive else "happens twice"


def load_scripts(directory: str | Path) -> tuple[list[ChatScript], list[ScriptIssue]]:
    """Every *.yaml / *.yml script in a directory; broken ones are reported, not fatal."""
    scripts, issues = [], []
    seen: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            script = load_script(path)
        except ScriptError as exc:
            issues.extend(exc.issues)
            continue
        if script.id in seen:
            issues.append(ScriptIssue(str(path), 1, f"chat id '{script.id}' is also used by "
                                                    f"{seen[script.id]}; ids must be unique"))
            continue
        seen[script.id] = path
        scripts.append(script)
    return scripts, issues
