"""Load YAML keeping the line of every key and value, so errors can say `file:line`.

Scalars stay strings (pydantic converts them): this also sidesteps YAML 1.1 surprises such
as `start: 20:00` being read as the sexagesimal integer 1200, or `day: no` as False.
"""

from __future__ import annotations

from typing import Any

import yaml

Path_ = tuple[str | int, ...]
_NULLS = {"", "~", "null", "Null", "NULL"}


class YamlSyntaxError(ValueError):
    """YAML that cannot be parsed, with the 1-based line of the problem."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML text; return the data and a map from each key path to its 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(f"{exc.problem or exc}".strip(), line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - compose raises marked errors
        raise YamlSyntaxError(str(exc), 1) from None
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _convert(node, (), lines), lines


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, path + (i,), lines) for i, child in enumerate(node.value)]
    value = node.value
    if node.style is None and value in _NULLS:
        return None
    return value


def line_for(lines: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)

