"""The loaded chats: each script's platforms and collectors, started, changed and dropped.

A reload (a script saved in chats/, SIGHUP, POST /api/reload) must never leave a chat half
loaded. A script whose platform cannot start is a script problem like a YAML mistake: it is
reported (log, `problems`), and the chat is not loaded, or keeps its previous working
version. A chat whose session is live keeps its platforms until that session ends; then its
script's new platforms are started, or, if its script is gone, the chat is dropped.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.archive import Archive
from bot.clock import Clock
from bot.collector import Collector
from bot.hosts import host_names_for
from bot.platforms.base import Platform, PlatformServices, PlatformSetupError, make_platform
from bot.screening import Screening
from bot.script import ChatScript, ScriptIssue, load_scripts
from bot.settings import Settings

log = logging.getLogger(__name__)


class BotError(Exception):
    """A problem the operator must fix before the bot can run: one plain line."""


@dataclass
class ChatRuntime:
    """One loaded chat: its script, its adapters and their collectors."""

    script: ChatScript
    platforms: dict[str, Platform] = field(default_factory=dict)
    collectors: list[Collector] = field(default_factory=list)
    removed: bool = False  # its script is gone: dropped once its live session ends


class ChatRuntimes(abc.ABC):
    """The part of the core that loads, reloads and drops chats (mixed into `Core`)."""

    settings: Settings
    archive: Archive
    clock: Clock
    services: PlatformServices
    screening: Screening
    chats: dict[str, ChatRuntime]
    script_issues: list[ScriptIssue]
    platform_override: tuple[str, ...]
    _fixed_scripts: list[ChatScript] | None
    _reloading: asyncio.Lock

    @abc.abstractmethod
    def live_session(self, chat_id: str) -> int | None:
        """The id of the chat's session being hosted right now, if any."""

    @abc.abstractmethod
    async def replan(self) -> dict[str, int]:
        """Plan every chat's jobs afresh."""

    @abc.abstractmethod
    async def _alert(self, session_id: int | None, text: str) -> None:
        """Tell the moderators."""

    @abc.abstractmethod
    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run `coro` in the background."""

    @abc.abstractmethod
    async def _republish_recent(self, chat_id: str) -> None:
        """Render again the chat's sessions that ended a short while ago."""

    # -- loading ---------------------------------------------------------------------------

    async def _load_chats(self) -> None:
        if self._fixed_scripts is not None:
            scripts, issues = self._fixed_scripts, list[ScriptIssue]()
        else:
            scripts, issues = load_scripts(self.settings.chats.dir)
        self.script_issues = issues
        for issue in issues:
            log.error("chat script skipped: %s", issue)
        for script in scripts:
            self._record_chat(script)
            self.chats[script.id] = ChatRuntime(script)

    def _record_chat(self, script: ChatScript) -> None:
        self.archive.upsert_chat(
            chat_id=script.id, title=script.title, hashtag=script.hashtag,
            timezone=script.model.timezone, path=str(script.path), digest=script.digest,
            now=self.clock.now(),
        )
        self.screening.signposts[script.id] = script.model.signpost  # "" = the policy's

    def platform_names(self, script: ChatScript) -> tuple[str, ...]:
        """The platforms a chat runs on: the override given at start-up, else its script's."""
        return self.platform_override or script.platforms

    async def _start_chat(self, runtime: ChatRuntime) -> None:
        """Start every platform of the chat, or none: a failure stops those already started."""
        await self._start_platforms(runtime, self.platform_names(runtime.script))

    async def _start_platforms(self, runtime: ChatRuntime, names: tuple[str, ...]) -> None:
        started: list[str] = []
        try:
            for name in names:
                await self._start_platform(runtime, name)
                started.append(name)
        except BaseException:
            for name in started:
                await self._stop_platform(runtime, name)
            raise

    async def _start_platform(self, runtime: ChatRuntime, name: str) -> None:
        chat_id = runtime.script.id
        try:
            platform = make_platform(name, runtime.script, self.services)
        except PlatformSetupError as exc:
            raise BotError(f"chat '{chat_id}': {exc}") from None
        try:
            await platform.start()
        except PlatformSetupError as exc:
            await _quietly(platform.stop())
            raise BotError(f"chat '{chat_id}': {exc}") from None
        except Exception as exc:  # a network hiccup at start-up is still one plain line
            await _quietly(platform.stop())
            raise BotError(f"chat '{chat_id}': {name} could not start: {exc}") from None
        runtime.platforms[name] = platform
        collector = Collector(
            self.archive, chat_id, platform,
            live_session=self._live_session_of(chat_id),
            clock=self.clock, listeners=self.screening.listeners(), on_alert=self._alert,
            hosts=frozenset(host_names_for(runtime.script, name)),
            names=self.screening.names_for(runtime.script),
        )
        if await collector.backfill():
            self._spawn(self._republish_recent(chat_id))
        collector.start()
        runtime.collectors.append(collector)

    async def _stop_platform(self, runtime: ChatRuntime, name: str) -> None:
        platform = runtime.platforms.pop(name, None)
        for collector in [c for c in runtime.collectors if c.platform is platform]:
            runtime.collectors.remove(collector)
            await collector.stop()
        if platform is not None:
            await _quietly(platform.stop())

    def _live_session_of(self, chat_id: str) -> Callable[[], int | None]:
        return lambda: self.live_session(chat_id)

    # -- reloading -------------------------------------------------------------------------

    async def reload(self) -> dict[str, int]:
        """Re-read chats/ (off the loop); new and changed scripts are (re)scheduled, once each.

        A script that cannot be loaded, or whose platforms cannot start, is reported in
        `script_issues`; the other scripts load all the same.
        """
        if self._fixed_scripts is not None:
            return {"chats": len(self.chats)}
        async with self._reloading:  # two reloads at once would start a chat twice
            scripts, issues = await asyncio.to_thread(load_scripts, self.settings.chats.dir)
            broken = {Path(issue.path) for issue in issues}
            loaded = {script.id for script in scripts}
            for chat_id, runtime in list(self.chats.items()):
                # A script with errors keeps its last good schedule; a deleted one is dropped
                # (after its live session, if it has one: it is no longer planned meanwhile).
                if chat_id in loaded or runtime.script.path in broken:
                    continue
                if self.live_session(chat_id) is None:
                    await self._drop_chat(chat_id)
                elif not runtime.removed:
                    runtime.removed = True
                    log.info("chat %s: its script is gone; dropped when its session ends",
                             chat_id)
            for script in scripts:
                problem = await self._load_chat(script)
                if problem is not None:
                    log.error("chat script skipped: %s", problem)
                    issues.append(problem)
            self.script_issues = issues
            result = await self.replan()
        log.info("reloaded %d chats (%d scripts with problems)", len(scripts), len(issues))
        return result

    async def reload_quietly(self) -> None:
        """Reload for the file watcher and SIGHUP: whatever goes wrong is logged, never raised.

        Nobody awaits those reloads' results, so an exception would vanish with its task.
        """
        try:
            await self.reload()
        except Exception:
            log.exception("reloading the chat scripts failed; the chats stay as they were")

    async def _load_chat(self, script: ChatScript) -> ScriptIssue | None:
        """Load a new script, or take in a changed one; a platform failing is the problem."""
        existing = self.chats.get(script.id)
        try:
            if existing is None:
                fresh = ChatRuntime(script)
                await self._start_chat(fresh)
                self.chats[script.id] = fresh
            else:
                existing.removed = False
                if self.live_session(script.id) is None:
                    await self._change_platforms(existing, self.platform_names(script))
                existing.script = script  # a live chat changes platforms after its session
        except BotError as exc:
            kept = "; it keeps its previous version" if existing is not None else ""
            return ScriptIssue(str(script.path), await _platforms_line(script.path),
                               f"{exc}{kept}")
        self._record_chat(script)
        return None

    async def _change_platforms(self, runtime: ChatRuntime, wanted: tuple[str, ...]) -> None:
        """Start the platforms newly wanted (all or none), then stop those no longer wanted."""
        await self._start_platforms(
            runtime, tuple(n for n in wanted if n not in runtime.platforms))
        for name in [n for n in runtime.platforms if n not in wanted]:
            await self._stop_platform(runtime, name)
            log.info("chat %s no longer runs on %s", runtime.script.id, name)

    async def _settle_chat(self, chat_id: str, *, ending: int) -> None:
        """After session `ending`: drop a chat whose script went, or give it new platforms."""
        runtime = self.chats.get(chat_id)
        if runtime is None or self.live_session(chat_id) not in (None, ending):
            return
        if runtime.removed:
            await self._drop_chat(chat_id)
            await self.replan()
            return
        try:
            await self._change_platforms(runtime, self.platform_names(runtime.script))
        except BotError as exc:
            log.error("chat script problem: %s; it keeps its current platforms", exc)
            await self._alert(None, f"{exc}; the chat keeps its current platforms")

    async def _drop_chat(self, chat_id: str) -> None:
        runtime = self.chats.pop(chat_id)
        for name in list(runtime.platforms):
            await self._stop_platform(runtime, name)
        log.info("chat %s removed: its script is gone from %s", chat_id, self.settings.chats.dir)


async def _quietly(stopping: Awaitable[object]) -> None:
    """Stop something whose stop may itself fail (a half-started platform)."""
    with contextlib.suppress(Exception):
        await stopping


async def _platforms_line(path: Path) -> int:
    """The line of `platforms:` in the script (1 when it cannot be found), read off the loop."""
    def find() -> int:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return 1
        return next((n for n, line in enumerate(lines, 1) if line.startswith("platforms:")), 1)
    return await asyncio.to_thread(find)
