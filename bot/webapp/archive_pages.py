"""The public archive's index and search, read and rendered on worker threads.

The event loop is for waiting: both pages read the whole archive (every message's counts,
every match of a search), so they run on two threads of their own, each with a read-only
connection (bot/archive/page_reads.py), never the default executor the rooms read their
pages through. Anyone may ask, so the work is bounded where it enters: a query of at most
200 characters and 8 different words (a plain 400 page otherwise), a budget of SQLite work
per search, one search at a time per client address (429) and at most six running or
waiting in all (503: an anonymous crowd waits in line here, not in front of the rooms).
The index's counts are kept for a minute, and read again at once when a session has ended
since they were counted.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment

from bot.archive.page_reads import ArchiveReads, SearchTooBroad
from bot.archive.records import SessionRow
from bot.archive.search import query_words
from bot.platforms.web.origin import client_address

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Core

T = TypeVar("T")

WORKERS = 2
MAX_QUERY_CHARS = 200
MAX_WORDS = 8
MAX_CHAT_CHARS = 64
MAX_SEARCHES = 6  # running or waiting, from everyone
STATS_FOR = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionCard:
    """One ended session as the archive index lists it."""

    session: SessionRow
    messages: int
    participants: int
    local_start: datetime


class PageWorkers:
    """The pages' worker threads; each reads through its own read-only connection."""

    def __init__(self, path: str | Path, workers: int = WORKERS) -> None:
        self.path = Path(path)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archive-pages")
        self._local = threading.local()
        self._opened: list[ArchiveReads] = []
        self._lock = threading.Lock()

    def _reads(self) -> ArchiveReads:
        reads: ArchiveReads | None = getattr(self._local, "reads", None)
        if reads is None:
            reads = self._local.reads = ArchiveReads(self.path)
            with self._lock:
                self._opened.append(reads)
        return reads

    async def run(self, work: Callable[[ArchiveReads], T]) -> T:
        """`work(reads)` on a worker thread; the loop only waits for it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: work(self._reads()))

    def close(self) -> None:
        """Let running reads finish, then close every connection (blocks: call off-loop)."""
        self._pool.shutdown(wait=True)
        with self._lock:
            for reads in self._opened:
                reads.close()
            self._opened.clear()


class Admission:
    """One search at a time per client address, and at most `limit` in all."""

    def __init__(self, limit: int = MAX_SEARCHES) -> None:
        self.limit = limit
        self.running: dict[str, int] = {}

    @contextmanager
    def enter(self, client: str) -> Iterator[None]:
        """Hold a place for `client`, or raise Refused with the page's words and status."""
        if self.running.get(client):
            raise Refused(429, "Your last search is still running: wait for it to finish, "
                               "then search again.")
        if sum(self.running.values()) >= self.limit:
            raise Refused(503, "The archive search is busy right now: try again in a minute.")
        self.running[client] = 1
        try:
            yield
        finally:
            del self.running[client]


class Refused(Exception):
    """A search the page answers with a plain sentence and an HTTP status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class StatsCache:
    """The index's per-session counts, read at most once a minute and once at a time."""

    def __init__(self, clock: Clock, workers: PageWorkers) -> None:
        self.clock, self.workers = clock, workers
        self.value: dict[int, tuple[int, int]] | None = None
        self.read_at: datetime | None = None
        self._reading: asyncio.Future[dict[int, tuple[int, int]]] | None = None

    async def get(self, session_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Counts for the sessions listed, read again when stale or one is missing."""
        fresh = self.read_at is not None and self.clock.now() - self.read_at < STATS_FOR
        if self.value is not None and fresh and all(s in self.value for s in session_ids):
            return self.value
        if self._reading is None:  # the first to ask reads; the rest wait for its answer
            self._reading = asyncio.ensure_future(self.workers.run(ArchiveReads.session_stats))
            self._reading.add_done_callback(self._keep)
        return await asyncio.shield(self._reading)

    def _keep(self, done: asyncio.Future[dict[int, tuple[int, int]]]) -> None:
        self._reading = None
        if not done.cancelled() and done.exception() is None:
            self.value, self.read_at = done.result(), self.clock.now()


@dataclass(frozen=True)
class ArchivePages:
    """The pages' workers, kept counts and admission (on the app, for tests to watch)."""

    workers: PageWorkers
    stats: StatsCache
    admission: Admission


ARCHIVE_PAGES_KEY = web.AppKey("tweetchat_archive_pages", ArchivePages)


def setup_archive_pages(app: web.Application, bot: Core, env: Environment) -> None:
    """Add GET /archive and GET /archive/search, with their workers and bounds."""
    workers = PageWorkers(bot.archive.path)
    stats = StatsCache(bot.clock, workers)
    admission = Admission()
    app[ARCHIVE_PAGES_KEY] = ArchivePages(workers, stats, admission)
    routes = web.RouteTableDef()

    def page(name: str, status: int = 200, **context: Any) -> web.Response:
        html = env.get_template(name).render(**context)
        return web.Response(text=html, status=status, content_type="text/html",
                            charset="utf-8")

    @routes.get("/archive")
    async def archive_index(request: web.Request) -> web.Response:
        chat = request.query.get("chat") or None
        if chat is not None and len(chat) > MAX_CHAT_CHARS:
            raise web.HTTPNotFound(text="There is no chat with so long a name.")
        known = chat is None or chat in bot.chats
        sessions = await workers.run(lambda r: r.ended_sessions(chat))
        if not known and not sessions and not await workers.run(
                lambda r: r.has_sessions(chat or "")):
            raise web.HTTPNotFound(text=f"There is no chat called '{chat}'.")
        counts = await stats.get([s.id for s in sessions])
        cards = [SessionCard(s, *counts.get(s.id, (0, 0)), _local(s)) for s in reversed(sessions)]
        html = await workers.run(lambda _: env.get_template("archive.html.j2").render(
            cards=cards, chat=chat, chats=sorted(bot.chats)))
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    @routes.get("/archive/search")
    async def archive_search(request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()
        chat = (request.query.get("chat") or None)
        context: dict[str, Any] = {"query": query[:MAX_QUERY_CHARS], "chat": chat,
                                   "chats": sorted(bot.chats), "rows": [], "ranked": True,
                                   "error": None}
        try:
            _check(query, chat)
            if not query:
                return page("search.html.j2", **context)
            with admission.enter(client_address(request, bot.settings.web.trusted_proxies)):
                found = await workers.run(lambda r: r.search(query, chat))
        except Refused as exc:
            return page("search.html.j2", status=exc.status, **{**context, "error": exc.text})
        except SearchTooBroad:
            return page("search.html.j2", **{**context, "error": (
                "So many messages hold those words that they cannot be searched quickly: add "
                "a more specific word, or search one chat.")})
        context.update(ranked=found.ranked,
                       rows=[(hit, marked(hit.snippet, hit.matches)) for hit in found.hits])
        html = await workers.run(lambda _: env.get_template("search.html.j2").render(**context))
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def close(_: web.Application) -> None:
        await asyncio.to_thread(workers.close)

    app.add_routes(routes)
    app.on_cleanup.append(close)


def _check(query: str, chat: str | None) -> None:
    """Refuse (400) a query or chat name past what the page searches for."""
    if len(query) > MAX_QUERY_CHARS:
        raise Refused(400, f"Search for at most {MAX_QUERY_CHARS} characters: a few specific "
                           "words find the messages best.")
    if len(query_words(query)) > MAX_WORDS:
        raise Refused(400, f"Search for at most {MAX_WORDS} different words: every message "
                           "found must hold them all, so a few specific words find more.")
    if chat is not None and len(chat) > MAX_CHAT_CHARS:
        raise Refused(400, "There is no chat with so long a name: pick one from the archive.")


def _local(session: SessionRow) -> datetime:
    return session.scheduled_start.astimezone(ZoneInfo(session.timezone))


def marked(snippet: str, matches: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split a search snippet into (text, is_match) parts; the template escapes each part.

    The matches come as offsets, never as brackets in the text, so a redaction mask such
    as "[phone number removed]" is shown as text, not as a match.
    """
    parts: list[tuple[str, bool]] = []
    pos = 0
    for start, end in sorted(matches):
        if start < pos:
            continue
        if start > pos:
            parts.append((snippet[pos:start], False))
        parts.append((snippet[start:end], True))
        pos = end
    if pos < len(snippet):
        parts.append((snippet[pos:], False))
    return parts


__all__ = ["ARCHIVE_PAGES_KEY", "Admission", "ArchivePages", "PageWorkers", "SessionCard",
           "StatsCache", "marked", "setup_archive_pages"]
