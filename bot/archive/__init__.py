"""The archive: SQLite through sqlite-utils, the single source of truth."""

from .records import ItemRow, SessionRow, StoredMessage
from .search import SearchHit, search
from .store import Archive
from . import moderation_store  # noqa: F401  (registers its migrations before any open)

__all__ = ["Archive", "ItemRow", "SearchHit", "SessionRow", "StoredMessage", "search"]
