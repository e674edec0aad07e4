"""The house rules that keep the knot from growing back, read from the code itself.

Every import in bot/ is read from the syntax tree: top-level, inside functions (lazy) and
under `if TYPE_CHECKING:` alike, because each is a dependency someone must understand.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.platforms import registry

BOT = Path(__file__).resolve().parent.parent / "bot"
MAX_LINES = 500
# Modules allowed to run SQL outside bot/archive/, each with the reason. Keep it empty.
SQL_ALLOWED: dict[str, str] = {}
SQL_CALLS = frozenset({"execute", "executemany", "executescript"})
SQL_MODULES = frozenset({"sqlite3", "sqlite_utils"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def imported(path: Path) -> Iterator[str]:
    """Every absolute module name `path` imports, wherever the import statement sits."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    """module -> the bot modules it imports. `from a import b` is an edge to a.b when b is a
    module, else to a (whose __init__ defines b)."""
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in MODULES}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in MODULES:
                        targets.add(full)
                    elif node.module in MODULES:
                        targets.add(node.module)
        edges[name] = targets - {name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_reader_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import App\n"
              "def f():\n    import bot.core\n")
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert {"bot.app", "bot.core"} <= set(imported(path))


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_bot() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("forbidden", ["bot.app", "bot.core", "bot.webapp"])
def test_no_platform_module_imports_the_bot_or_the_web_application(forbidden: str) -> None:
    offenders = sorted(
        name for name, path in MODULES.items() if name.startswith("bot.platforms")
        for target in imported(path) if target == forbidden or target.startswith(forbidden + ".")
    )
    assert offenders == []


def test_the_core_does_not_import_the_web_application() -> None:
    assert [t for t in imported(MODULES["bot.core"]) if t.startswith("bot.webapp")] == []


def test_no_module_is_over_500_lines() -> None:
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def sql_uses(path: Path) -> list[str]:
    """Calls to execute/executemany/executescript and imports of SQLite libraries."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in SQL_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            found += [f"line {node.lineno}: import {n}" for n in names
                      if n.split(".")[0] in SQL_MODULES]
    return found


def test_sql_runs_only_under_bot_archive() -> None:
    outside = {name: uses for name, path in MODULES.items()
               if not name.startswith("bot.archive") and name not in SQL_ALLOWED
               and (uses := sql_uses(path))}
    assert outside == {}


def test_the_sql_finder_finds_sql(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text("import sqlite3\ndef f(db):\n    db.executemany('x', [])\n", encoding="utf-8")
    assert sql_uses(path) == ["line 1: import sqlite3", "line 3: .executemany("]


def test_only_the_publisher_renders_transcripts() -> None:
    """Every render goes through `Publisher` (its worker, its lock, its settings): nothing
    else in bot/ calls the render functions it wraps."""
    wrapped = {"publish_session", "build_transcript", "write_transcript"}
    callers = {}
    for name, path in MODULES.items():
        if name in ("bot.publishing", "bot.transcript") or name.startswith("bot.transcript."):
            continue
        calls = {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)}
        if calls & wrapped:
            callers[name] = sorted(calls & wrapped)
    assert callers == {}


def test_each_registry_settings_model_is_that_platforms_settings_section() -> None:
    from bot.settings import Settings

    for name, info in registry.PLATFORMS.items():
        if info.settings_model is not None:
            model = registry.load(info.settings_model)
            assert Settings.model_fields[name].annotation is model, name


def test_every_registry_row_resolves() -> None:
    """The registry names its parts as strings (imported when used): each must exist."""
    for info in registry.PLATFORMS.values():
        for ref in (info.factory, info.cli, info.importer, info.settings_model,
                    info.payload_author):
            if ref is not None:
                assert callable(registry.load(ref)), ref
