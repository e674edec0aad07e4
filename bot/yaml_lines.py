"""Load YAML keeping the line of every key and value, so errors can say `file:line`.

Scalars stay strings (pydantic converts them): this also sidesteps YAML 1.1 surprises such
as `start: 20:00` being read as the sexagesimal integer 1200, or `day: no` as False.

Scripts arrive from strangers (console uploads, Discord's `/chat load`), so the text is
bounded before it is built into Python objects: a size cap, a nesting cap, a node cap, and
no aliases (`*name`), whose expansion turns 500 bytes into gigabytes ("billion laughs").
The limits are checked on PyYAML's event stream, which is flat, so even a 20,000-deep list
is refused with a line number instead of a RecursionError.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
_NULLS = {"", "~", "null", "Null", "NULL"}

# A real chat script is a few KB, a dozen nodes deep and a few hundred nodes in all.
MAX_BYTES = 256 * 1024
MAX_DEPTH = 24
MAX_NODES = 20_000


class YamlSyntaxError(ValueError):
    """YAML that cannot be read (or is too big to read safely), with its 1-based line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML text; return the data and a map from each key path to its 1-based line."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlSyntaxError(
            f"the file is {size // 1024} KB; a chat script may be at most {MAX_BYTES // 1024} KB",
            1,
        )
    if "\x00" in text:
        raise YamlSyntaxError("the file contains a NUL byte; is it really a text file?",
                              text[: text.index("\x00")].count("\n") + 1)
    try:
        _check_events(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(f"{exc.problem or exc}".strip(), line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc).splitlines()[0] if str(exc) else "unreadable", 1) from None
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _convert(node, (), lines), lines


# What follows a plain value on its line when YAML took a hashtag for a comment: a space or
# tab, then "#" and a word ("# note", with its space, is an ordinary comment).
_HASHTAG_COMMENT = re.compile(r"[ \t]+(#\w+)")
# YAML's line breaks (its marks count lines by these, not by str.splitlines' longer list).
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def cut_by_hashtags(text: str) -> list[tuple[int, str]]:
    """Each unquoted value that a hashtag cut short: (1-based line, the hashtag).

    In `welcome: Welcome to #NHSSM ...` YAML starts a comment at ` #`: the welcome is
    "Welcome to" and nothing says so. Call only on text `load_with_lines` accepted.
    """
    lines = _YAML_BREAK.split(text)
    cut = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if not isinstance(event, yaml.ScalarEvent) or event.style is not None:
            continue
        end = event.end_mark
        if end.line < len(lines):
            after = _HASHTAG_COMMENT.match(lines[end.line], end.column)
            if after:
                cut.append((end.line + 1, after.group(1)))
    return cut


def _check_events(text: str) -> None:
    """Refuse aliases, deep nesting and huge node counts before anything is built."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlSyntaxError(
                f"aliases (*{event.anchor}) are not allowed in chat scripts; "
                "write the value out in full", line)
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise YamlSyntaxError(
                    f"more than {MAX_NODES} values; a chat script is much smaller", line)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSyntaxError(
                    f"nested more than {MAX_DEPTH} levels deep; check the indentation", line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError("a key must be a plain word, not a list or mapping",
                                      key_node.start_mark.line + 1)
            key = str(key_node.value)
            if key in out:
                raise YamlSyntaxError(f"the key '{key}' appears twice; keep one",
                                      key_node.start_mark.line + 1)
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, path + (i,), lines) for i, child in enumerate(node.value)]
    value = node.value
    if node.style is None and value in _NULLS:
        return None
    return value


def one_line(text: str, limit: int = 400) -> str:
    """`text` on one printable line: a script's own words may hold newlines or controls."""
    flat = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def line_for(lines: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)
