"""A Discord message that once vanished from an import without a word: kept, or named.

A lone surrogate (`"\\ud800"`: valid JSON, but no UTF-8 text can hold it) made orjson refuse
the payload, and the message was counted as a bad line that the Discord summary never
printed: one message fewer, exit 0. It is now stored with U+FFFD where the broken
character was; a message the archive truly cannot hold (a payload nested past orjson's 255
levels) is named in one line with what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.archive import Archive
from bot.platforms.discord.export_stream import mend_surrogates
from tests.conftest import write_script
from tests.importers.test_discord_import import BOT, CHANNEL, author, cli, cli_env, export, msg

ANN = author("11", "ann")


def _import(tmp_path: Path, messages: list[dict[str, Any]]) -> tuple[Any, Archive]:
    script = write_script(tmp_path / "chats")
    path = export(tmp_path / "export.json", CHANNEL, [
        msg(1000, 0, BOT, "Welcome to the test chat."), msg(1002, 1, BOT, "Q1 First question?"),
        *messages, msg(1009, 4, BOT, "Thanks all.")])
    result = CliRunner().invoke(cli(), ["import", "discord", str(path), "--script",
                                        str(script)], env=cli_env(tmp_path))
    return result, Archive(tmp_path / "archive.db")


def test_a_lone_surrogate_is_stored_as_the_replacement_character(tmp_path: Path) -> None:
    lone = msg(1003, 1.5, ANN, "A1 lone \ud800 end")
    lone["author"] = {**ANN, "nickname": "Ann \udfff"}  # in a name too, and in a key
    lone["embeds"] = [{"title\udc00": "x"}]
    pair = msg(1004, 1.6, ANN, "A1 a pair is one character \U0001f600")
    result, archive = _import(tmp_path, [lone, pair])
    assert result.exit_code == 0, result.output
    assert "not stored" not in result.output
    stored = {m.id: m for s in archive.sessions() for m in archive.messages(s.id)}
    assert stored["1003"].text == "A1 lone \ufffd end"
    assert stored["1003"].author_name == "Ann \ufffd"
    assert stored["1004"].text == "A1 a pair is one character \U0001f600"
    raw = archive.db.execute("select raw from message_raw where id = '1003'").fetchone()[0]
    assert '"title\ufffd"' in raw


def test_a_message_the_archive_cannot_hold_is_named(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(300):  # past the 255 levels orjson writes
        deep = [deep]
    nested = msg(1005, 2, ANN, "A2 nested")
    nested["embeds"] = [deep]
    result, archive = _import(tmp_path, [msg(1003, 1.5, ANN, "A1 fine"), nested])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "1 message not stored (message 4, counting from the first file's first message)" \
        in said and "import it again" in said
    assert {m.id for s in archive.sessions() for m in archive.messages(s.id)} >= {"1003"}


# Keys without surrogates: two keys that differ only there would merge once mended (the
# import test above has a key with one).
KEYS = st.text(st.characters(exclude_categories=["Cs"]), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.text() | st.integers() | st.none(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(KEYS, inner, max_size=3), max_leaves=12))
def test_mended_values_always_encode_and_keep_every_other_character(value: Any) -> None:
    mended = mend_surrogates(value)
    before, after = list(_strings(value)), list(_strings(mended))
    for text in after:
        text.encode("utf-8")  # raises on anything lone
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=False):
        assert new == "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in old)


def _strings(value: Any) -> Any:
    """Every string in `value`, keys too, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
