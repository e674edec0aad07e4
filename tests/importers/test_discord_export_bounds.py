"""A hostile Discord export is bounded where it enters: read as far as needed, one line of error.

A syntax error is raised where it is found, not after reading the rest of the file; a large
message is read in linear time, one over the limit is refused; text that is not UTF-8 is
raised after the same messages as before runs; any JSON value in any field of a message is
a message or an ExportError naming the file and the message; and the command says it in
one line with exit status 2.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.platforms.discord.export import ExportError, export_info, iter_export, to_message
from bot.platforms.discord.export_stream import CHUNK, ExportReader
from tests.conftest import no_settings, write_script
from tests.importers.test_discord_export_stream import OneAtATime, export_text, read_all

REPO = Path(__file__).resolve().parents[2]


class CountingText(io.StringIO):
    """A text file that counts its reads and the characters they returned."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.reads = self.chars = 0

    def read(self, size: int | None = -1) -> str:
        data = super().read(size)
        self.reads += 1
        self.chars += len(data)
        return data


class ReadsToTheEnd(ExportReader):
    """The reader as it was: any decode error read on, a chunk at a time, to the file's end."""

    def _may_be_cut(self, error: json.JSONDecodeError) -> bool:
        return True

    def _more(self) -> bool:
        return self._fill()


def message(n: int, content: str = "hello") -> dict[str, Any]:
    return {"id": str(10**18 + n), "type": "Default", "timestamp": "2026-01-07T20:00:00+00:00",
            "author": {"id": "7", "name": "ann"}, "content": content}


def test_a_syntax_error_early_in_a_big_file_is_raised_without_reading_the_rest() -> None:
    text = export_text([message(n, "hello " * 20) for n in range(40_000)], 2, True)
    broken = text.replace('"hello', '"hel" "lo', 1)  # a missing comma in the first message
    fp = CountingText(broken)
    seen, error = read_all(ExportReader(fp, "chat.json"))
    assert len(broken) > 100 * CHUNK
    assert fp.chars <= 2 * CHUNK  # was the whole file, re-decoded at every chunk
    before_seen, before_error = read_all(ReadsToTheEnd(io.StringIO(broken), "chat.json"))
    assert seen == before_seen and error is not None and before_error is not None
    assert error.split(" at byte ")[0] == before_error.split(" at byte ")[0]
    assert error.startswith("chat.json: malformed JSON (Expecting ',' delimiter) at byte ")
    at = int(error.rsplit(" ", 1)[1])
    assert broken[at:].startswith('"lo hello')


@settings(max_examples=150, deadline=None)
@given(st.lists(st.builds(message, st.integers(0, 99), st.text(max_size=40)), min_size=1,
                max_size=20), st.sampled_from([None, 2]), st.sampled_from([7, 64, 1 << 16]),
       st.data())
def test_an_error_raised_at_once_is_the_error_found_by_reading_to_the_end(
    items: list[Any], indent: int | None, chunk: int, data: st.DataObject,
) -> None:
    text = export_text(items, indent, False)
    at = data.draw(st.integers(min_value=text.index('"messages"'), max_value=len(text)))
    damage = data.draw(st.sampled_from(["", "}", "]", ",", "x", "\\", '"', "[" * 3, "nul",
                                        "-Infinit", "1.", "\\u12", "1e"]))
    broken = text[:at] + damage + text[at + data.draw(st.integers(0, 3)):]
    now = read_all(ExportReader(io.StringIO(broken), "chat.json", chunk))
    before = read_all(ReadsToTheEnd(io.StringIO(broken), "chat.json", chunk))
    assert now[0] == before[0]  # the same messages before it
    # The same error, which now also says where it is.
    assert (now[1] or "").split(" at byte ")[0] == (before[1] or "").split(" at byte ")[0]


def test_a_large_message_is_read_in_a_few_reads_growing_with_the_text_held() -> None:
    big = "x" * (3 << 20)  # under MAX_VALUE
    text = export_text([message(1), message(2, big), message(3)], None, True)
    fp = CountingText(text)
    seen, error = read_all(ExportReader(fp, "chat.json"))
    texts = [value["content"] for value in seen if isinstance(value, dict)]
    assert error is None and texts == ["hello", big, "hello"]
    assert fp.reads <= 12  # 3 MB in 64 KB chunks was 48 reads, each decoding from the start


def test_a_message_over_the_limit_is_refused_naming_it() -> None:
    text = export_text([message(1), message(2, "x" * 5000), message(3)], None, True)
    reader = ExportReader(io.StringIO(text), "chat.json", 256)
    reader.max_value = 1000
    seen, error = read_all(reader)
    assert [m["id"] for m in seen if isinstance(m, dict)] == [str(10**18 + 1)]
    start = text.index('{"id":"1000000000000000002"')
    assert error == (f"chat.json: message 2 (from byte {start}) is over 1,000 characters; "
                     "this is not a DiscordChatExporter export")


def bad_utf8_export(path: Path, count: int, bad_at: int, indent: int | None) -> int:
    """An export whose message `bad_at` holds a byte that is not UTF-8; returns its offset."""
    text = export_text([message(n, "x" * 50) for n in range(count)], indent, True).encode()
    at = text.index(b"xxxx", text.index(f'"{10**18 + bad_at}"'.encode()))
    path.write_bytes(text[:at] + b"\xff" + text[at + 1:])
    return at


@pytest.mark.parametrize(("indent", "chunk", "bad_at"),
                         [(None, 100, 150), (None, 64, 3), (2, 1 << 16, 1999), (2, 256, 40)])
def test_text_that_is_not_utf8_is_raised_after_every_whole_message_before_it(
    tmp_path: Path, indent: int | None, chunk: int, bad_at: int,
) -> None:
    path = tmp_path / "chat.json"
    at = bad_utf8_export(path, 2000, bad_at, indent)
    outcomes = []
    for reader in (ExportReader, OneAtATime):
        with open(path, encoding="utf-8") as fp:
            outcomes.append(read_all(reader(fp, str(path), chunk)))
    assert outcomes[0] == outcomes[1]  # runs read one message fewer before the fix
    assert outcomes[0][1] == f"{path}: not UTF-8 text (at byte {at})"


def test_deep_nesting_in_a_header_value_is_an_export_error() -> None:
    text = '{"guild": ' + "[" * 100_000 + "]" * 100_000 + ', "messages": []}'
    seen, error = read_all(ExportReader(io.StringIO(text), "chat.json"))  # was RecursionError
    assert seen == [] and error == ("chat.json: a value is nested too deeply (from byte 10); "
                                    "this is not a DiscordChatExporter export")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
              st.floats(), st.text(max_size=8),
              st.sampled_from(["2026-01-07T20:00:00+00:00", "0001-01-01T00:00:00-05:00",
                               "9999-12-31T23:59:59+00:00", "5", "Default", "Forward"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["count", "id", "name", "type",
                                                             "messageId", "url", "x"]),
                                            inner, max_size=3)),
    max_leaves=6,
)
FIELDS = ["id", "type", "timestamp", "timestampEdited", "author", "content", "reference",
          "forwardedMessage", "attachments", "stickers", "embeds", "reactions"]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5), st.booleans())
# Found by this test: an id holding a newline made the error two lines.
@example({"id": "\n", "timestamp": None}, True)
@example({"id": "\n", "type": []}, False)
def test_any_json_value_in_a_messages_fields_is_a_message_or_an_export_error(
    fields: dict[str, Any], whole_object: bool,
) -> None:
    raw: Any = {**message(1), **fields} if whole_object else fields.get("author", fields)
    info = export_info({"id": "900"}, {"id": "100"})
    try:
        to_message(raw, info, where="chat.json")
    except ExportError as e:
        assert str(e).startswith("chat.json: ") and "\n" not in str(e)
    try:  # through the reader too: a StringIO is named "export"
        list(iter_export(io.StringIO(export_text([raw], None, False))))
    except ExportError as e:
        assert str(e).startswith("export: ") and "\n" not in str(e)


def run_import(tmp_path: Path, export: Path) -> subprocess.CompletedProcess[str]:
    script = write_script(tmp_path / "chats")
    env = {**os.environ, "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
           "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"), "COLUMNS": "500",
           "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "bot", "import", "discord", str(export),
                           "--script", str(script)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, check=False)


def test_the_command_says_what_is_wrong_in_one_line_with_status_2(tmp_path: Path) -> None:
    doc = json.loads(export_text([message(1), 1], None, False))
    not_object = tmp_path / "numbers.json"
    not_object.write_text(json.dumps(doc), encoding="utf-8")
    not_utf8 = tmp_path / "latin1.json"
    at = bad_utf8_export(not_utf8, 3, 2, 2)
    doc["messages"] = [{**message(1), "reactions": [{"count": "x"}]}]
    bad_count = tmp_path / "count.json"
    bad_count.write_text(json.dumps(doc), encoding="utf-8")
    for path, expected in (
        (not_object, f"{not_object}: a message is 1, not a JSON object (message 2 of the file)"),
        (not_utf8, f"{not_utf8}: not UTF-8 text (at byte {at})"),
        (bad_count, f"{bad_count}: message {10**18 + 1}: reaction count 'x' is not a whole "
                    "number from 0 to 1,000,000,000 (message 1 of the file)"),
    ):
        result = run_import(tmp_path, path)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        assert lines == [f"error: {expected}; export the channel with DiscordChatExporter in "
                         "JSON format (--format Json)"], lines
