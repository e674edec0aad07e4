"""The export reader's runs of whole messages read exactly what one message at a time reads.

The reader decodes many messages at once where the buffer holds whole ones (found by the
way DiscordChatExporter starts each message); these check, on generated exports (indented
and compact, tiny and large chunks, nested objects that look like a message's start, bad
JSON anywhere), that it yields the same values and raises the same error after the same
messages as the one-at-a-time reader it replaced, and that the short way to a message's
text is the long way's answer.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.platforms.discord.export_content import every_line, message_text
from bot.platforms.discord.export_stream import ExportError, ExportReader, mend_surrogates


class OneAtATime(ExportReader):
    """The reader as it was: never a run, every message decoded on its own."""

    def _run_end(self) -> int:
        return -1


Outcome = tuple[list[Any], str | None]  # what was read, and the error that stopped it


def read_all(reader: ExportReader) -> Outcome:
    """Every value the reader yields (each message on its own), and its error if any."""
    out: list[Any] = []
    try:
        for kind, key, value in reader.document():
            if kind == "messages":
                out.extend(value)
            else:
                out.append((key, value))
    except ExportError as e:
        return out, str(e)
    return out, None


def both(text: str, chunk: int) -> tuple[Outcome, Outcome]:
    fast = read_all(ExportReader(io.StringIO(text), "chat.json", chunk))
    slow = read_all(OneAtATime(io.StringIO(text), "chat.json", chunk))
    return fast, slow


ids = st.integers(min_value=0, max_value=10**19).map(str)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    # Text that reads like the boundary between two messages, escaped inside a string.
    st.just('},{"id":"1","type":"Default"}'), st.just('"}]'),
)
# Nested objects that start as a message does ({"id": ..., "type": ...}), inside arrays:
# a run cut after one of them is not whole messages and must be read again one at a time.
lookalikes = st.lists(st.fixed_dictionaries({"id": ids, "type": st.text(max_size=5)}),
                      max_size=3)
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3),
), max_leaves=8)
messages = st.builds(
    lambda mid, kind, content, extra, nested: {
        "id": mid, "type": kind, "content": content, "extra": extra, "embeds": nested},
    ids, st.sampled_from(["Default", "Reply", "ThreadCreated"]), st.text(max_size=30),
    values, lookalikes,
)


def export_text(items: list[Any], indent: int | None, ascii_only: bool) -> str:
    doc = {"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "type": "GuildTextChat"},
           "messages": items, "messageCount": len(items)}
    separators = None if indent else (",", ":")
    return json.dumps(doc, indent=indent, separators=separators, ensure_ascii=ascii_only)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(messages, values), max_size=40), st.sampled_from([None, 2, 4]),
       st.booleans(), st.sampled_from([1, 7, 64, 300, 1 << 16]))
@example([0.5, 1e300], None, False, 1)  # numbers cut after the point, the "e", the sign
def test_runs_read_what_one_at_a_time_reads(items: list[Any], indent: int | None,
                                            ascii_only: bool, chunk: int) -> None:
    text = export_text(items, indent, ascii_only)
    fast, slow = both(text, chunk)
    assert fast == slow
    assert fast[1] is None
    assert [v for v in fast[0] if not isinstance(v, tuple)] == json.loads(text)["messages"]


@settings(max_examples=150, deadline=None)
@given(st.lists(messages, min_size=1, max_size=30), st.sampled_from([None, 2]),
       st.sampled_from([7, 64, 1 << 16]), st.data())
def test_bad_json_anywhere_fails_the_same_way_after_the_same_messages(
    items: list[Any], indent: int | None, chunk: int, data: st.DataObject,
) -> None:
    text = export_text(items, indent, True)
    start = text.index('"messages"')
    at = data.draw(st.integers(min_value=start, max_value=len(text)))
    damage = data.draw(st.sampled_from(["", "}", "]", ",", "x", "\\", '"', "[" * 3]))
    broken = text[:at] + damage + text[at + data.draw(st.integers(0, 3)):]
    fast, slow = both(broken, chunk)
    assert fast == slow


def test_deep_nesting_fails_the_same_way() -> None:
    # One buffer holds all three, so the first run tried holds the first two messages.
    deep = "[" * 100_000 + "]" * 100_000
    text = ('{"channel": {"id": "2"}, "messages": [{"id": "1", "type": "Default"}, '
            '{"id": "2", "type": "Default", "x": ' + deep + '}, {"id": "3", "type": "Default"}]}')
    outcomes = []
    for reader in (ExportReader, OneAtATime):
        seen: list[Any] = []
        try:
            for kind, _key, value in reader(io.StringIO(text), "chat.json", 1 << 20).document():
                if kind == "messages":
                    seen.extend(value)
        except ExportError as e:  # was a RecursionError, a traceback in the CLI
            outcomes.append((str(e), seen))
    assert outcomes == [("chat.json: message 2 is nested too deeply (from byte 70); this is "
                         "not a DiscordChatExporter export", [{"id": "1", "type": "Default"}])] * 2


@pytest.mark.parametrize("indent", [None, 2])  # compact, and as DiscordChatExporter writes
def test_a_large_export_is_read_in_runs(indent: int | None) -> None:
    items = [{"id": str(10**18 + n), "type": "Default", "content": f"answer {n}",
              "author": {"id": "7", "roles": [{"id": "9", "name": "Member"}]}}
             for n in range(3000)]
    text = export_text(items, indent, False)
    reader = ExportReader(io.StringIO(text), "chat.json")
    runs = [value for kind, _key, value in reader.document() if kind == "messages"]
    assert [m for run in runs for m in run] == items
    assert len(runs) < 50  # whole buffers at a time, not one decode a message


shown = st.fixed_dictionaries({}, optional={
    "content": st.one_of(st.none(), st.text(max_size=20), st.text(" \n\tab", max_size=6),
                         st.integers()),
    "stickers": st.one_of(st.none(), st.just([]),
                          st.lists(st.fixed_dictionaries({"name": st.text(max_size=5)}),
                                   max_size=2)),
    "attachments": st.one_of(st.none(), st.just([]), st.lists(st.fixed_dictionaries(
        {"fileName": st.text(max_size=5), "url": st.just("https://cdn.example/a.png")}),
        max_size=2)),
    "embeds": st.one_of(st.none(), st.just([]), st.lists(st.fixed_dictionaries(
        {"title": st.text(max_size=5), "description": st.text(max_size=5)}), max_size=2)),
    "reference": st.one_of(st.none(), st.just({"messageId": "1"}), st.just({"type": "Forward"}),
                           st.just("Forward")),
    "forwardedMessage": st.one_of(st.none(), st.just({"content": "original"}), st.just("x")),
})


@settings(max_examples=300, deadline=None)
@given(shown)
def test_the_short_way_to_a_messages_text_is_the_long_ways_answer(raw: dict[str, Any]) -> None:
    assert message_text(raw) == every_line(raw)


# JSON's alphabet, numbers of every width and escapes: texts orjson and the stdlib may read
# differently (a wide whole number, a lone surrogate, NaN, 1e400, deep or broken text).
json_pieces = st.one_of(
    st.sampled_from(list('[]{},:"\\ -.eE+0123456789tfnaulrsNIy\t\n')),
    st.sampled_from(['"\\ud800"', '"\\udfff"', '"\\ud83d\\ude00"', "NaN", "-Infinity", "1e400",
                     '"a\x1fb"', '"a\x7fb"', "18446744073709551616", "-9223372036854775809",
                     "0.1000000000000000055511151231257827", "2.4703282292062328e-324"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=30).map(str),
    st.text(max_size=4).map(json.dumps),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(json_pieces, max_size=12).map("".join))
def test_a_run_decodes_to_what_the_stdlib_reads(text: str) -> None:
    reader = ExportReader(io.StringIO(""), "chat.json")
    try:  # a lone surrogate is mended to U+FFFD (test_discord_unstorable.py)
        expected = mend_surrogates(json.loads(f"[{text}]"))
    except (ValueError, RecursionError):  # JSONDecodeError, or 4,300 digits and more
        expected = None
    decoded = reader._decode_run(f"[{text}]")
    assert repr(decoded) == repr(expected)  # repr: floats exactly, nan, -0.0, key order
