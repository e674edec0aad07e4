"""Opening an archive file: refusing, as one plain line, a path that is not an archive.

`[archive] path` may name a folder, a device, a text file, a damaged database or another
program's SQLite file. Each is the user's to fix in the settings (or from a backup), so
each is an `ArchiveError`, which every command prints as one line. A foreign database is
refused before anything is written to it: opening an archive switches it to write-ahead
logging and adds tweetchat's tables, which must never happen to someone else's file.

Damage further in (a page of messages, the moderation tables), a lock held past the busy
timeout or a full disk show only when a command reaches them, anywhere in its work. Each
archive opened is recorded (`opened`), so the CLI's one handler tells any such SQLite error,
in any command, as the same one line naming the file (`met_in_archive`).
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

# Tables that mark a file as a tweetchat archive: sqlite-utils' record of the schema's
# steps (schema.migrations, set "tweetchat"), or the messages of an archive made before it.
_OURS = frozenset({"_sqlite_migrations", "messages"})
# SQLite's errors that are the file's state, not the code's: damage, a lock, a full disk,
# the file unreadable or read-only. Any other (a syntax error, a constraint) is a bug and
# keeps its traceback. Primary codes: an error carries SQLite's extended code (damage in
# the search index is SQLITE_CORRUPT_VTAB, 267), whose low byte is the primary one.
_THE_FILES = frozenset({
    sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM,
})
# The archive files this process opened, most recent last (see `opened`): a dict, whose
# order is kept, so a test run opening thousands of archives is not slowed by looking.
_OPENED: dict[Path, None] = {}


class ArchiveError(Exception):
    """The archive cannot be opened or read: the message says what, where and what to do.

    The user's to fix (the settings' `[archive] path`, a backup, the other program holding
    the file): the CLI prints it as one line, exit status 2.
    """


def check_file(path: Path) -> None:
    """Refuse, before SQLite sees it, a path that cannot be an archive file.

    A missing file (a new archive) and a regular file pass: whether it is a SQLite
    database, and whose, is read through SQLite once it is open (`check_tables`).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as e:
        raise ArchiveError(f"cannot read {path} ({e.strerror}); check [archive] path in the "
                           "settings") from None
    if stat.S_ISDIR(info.st_mode):
        raise ArchiveError(f"{path} is a folder, not an archive file; set [archive] path in "
                           "the settings to a file such as data/archive.db")
    if not stat.S_ISREG(info.st_mode):
        raise ArchiveError(f"{path} is not a regular file; set [archive] path in the "
                           "settings to a file such as data/archive.db")
    # The file's first bytes are left to SQLite (a file that is not a database fails the
    # connection's first read as SQLITE_NOTADB, see `told`): opening the file here and
    # closing it would drop every POSIX lock SQLite holds on it in this process (locks
    # belong to the process and file, not to the descriptor), and the next tweetchat
    # command to close its connection would then take this process's write-ahead log for
    # unused and delete it under the bot's open connections.


def check_tables(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that holds tables but none of a tweetchat archive's.

    Runs before the connection writes anything (switching to write-ahead logging writes
    the file's header), so another program's database is left exactly as it was.
    """
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    if tables and not tables & _OURS:
        raise ArchiveError(f"{path} is a SQLite database but not a tweetchat archive (it holds "
                           "other tables); check [archive] path in the settings")


def told(error: sqlite3.Error, path: Path) -> ArchiveError:
    """SQLite's error on opening, upgrading or reading `path`, as the user's to fix."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return ArchiveError(f"{path} is in use: another tweetchat command (or `tweetchat run` "
                            "importing or compacting) holds it; wait for it, or stop it, and "
                            "run this again")
    if "readonly" in text or "unable to open" in text:
        return ArchiveError(f"cannot open {path} for writing (SQLite: {text}); run this as "
                            "the user the bot runs as, or check [archive] path in the settings")
    if "full" in text:
        return ArchiveError(f"the disk holding {path} is full: free some space and run this "
                            "again")
    if getattr(error, "sqlite_errorname", "") == "SQLITE_NOTADB":
        return ArchiveError(f"{path} is not a SQLite database (not a tweetchat archive, or its "
                            "first page is damaged); check [archive] path in the settings, or "
                            "restore it from a backup")
    return ArchiveError(f"{path} is damaged (SQLite: {text}); restore it from a backup, or "
                        "try `sqlite3 ARCHIVE .recover`")


def primary_code(error: sqlite3.Error) -> int:
    """SQLite's primary result code of `error` (SQLITE_BUSY for SQLITE_BUSY_SNAPSHOT ...)."""
    return (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF


def opened(path: Path) -> None:
    """Record that this process opened the archive at `path` (see `met_in_archive`)."""
    _OPENED.pop(path, None)
    _OPENED[path] = None


def met_in_archive(error: BaseException) -> ArchiveError | None:
    """`error`, raised anywhere after an archive was opened, as the user's one line.

    None unless it is SQLite telling of the file's state (damage, a lock, a full disk)
    in a process that opened an archive: then it names the archive opened last (a command
    opens one: the settings' `[archive] path`).
    """
    if not isinstance(error, sqlite3.DatabaseError) or not _OPENED:
        return None
    if primary_code(error) not in _THE_FILES:
        return None
    return told(error, next(reversed(_OPENED)))
