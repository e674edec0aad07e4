"""The archive: SQLite through sqlite-utils, the single source of truth."""

from . import moderation_store  # noqa: F401  (registers its migrations before any open)
from .records import ItemRow, SessionRow, StoredMessage
from .search import SearchHit, search
from .store import Archive

__all__ = ["Archive", "ItemRow", "SearchHit", "SessionRow", "StoredMessage", "search"]
