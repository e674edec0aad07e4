"""The archive: SQLite through sqlite-utils, the single source of truth."""

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from bot.archive.search import SearchHit, search
from bot.archive.store import Archive

__all__ = ["Archive", "ItemRow", "SearchHit", "SessionRow", "StoredMessage", "search"]
