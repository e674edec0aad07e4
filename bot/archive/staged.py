"""Attributed message rows handed from an import's worker to its writer as a SQLite image.

An import's sessions are attributed by a forked worker while this process writes them
(bot/importers/sessions.py). Written by `executemany`, each row's values are bound one by
one through Python's sqlite3, in the one process every write waits on: measured, most of
a held row's insert (92,143 rows: 1.2 s of binding and inserting, 0.6 s when SQLite copies
them from a table). So the worker, which has a core to spare, binds them instead, into a
database in its memory, and sends that database's bytes (`staged_rows`, SQLite's own
serialization); the writer opens them as an attached in-memory database and inserts them
with one `INSERT ... SELECT` (`insert_staged`), the same upsert as `bulk.insert_rows`.

Nothing is written to disk on the way: a killed import leaves no copy of anyone's words
behind (an erasure must find every copy), and the writer's transaction is the only write.

Where it cannot be done, the rows are handed over as before, as values the writer binds
(`handed_over`): a Python whose sqlite3 cannot serialize; a SQLite that refuses to load an
image into a database attached to a connection in a transaction (3.54 and later, as its
documentation always said; the writer loads each image inside its batch's transaction:
`can_stage` asks this SQLite once); a session too big to copy whole (`STAGE_AT_MOST`: an
image is about 0.45 KB a row, held by the worker and, twice, by the writer); and a worker
that cannot make the image (out of memory).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from functools import cache
from typing import Any

from bot.archive.bulk import (
    BOUND_PER_ROW,
    attributed_row,
    bound_values,
    indexed_insert,
    upsert_select,
)
from bot.archive.store import Archive

# Sessions of more held rows than this are handed over as values (see the docstring):
# about 9 MB of image at most, where the 100k-message benchmark's sessions hold 2,000.
STAGE_AT_MOST = 20_000

_SCHEMA = "staged"  # the name the image is attached under, in the writer's connection
_COLUMN_NAMES = [f"c{i}" for i in range(1, BOUND_PER_ROW + 1)]
_INSERT_STAGED = upsert_select(f"{_SCHEMA}.held")


@cache
def can_stage() -> bool:
    """Whether this Python and SQLite load an image the way `insert_staged` does.

    Tried once, in memory, in the writer's order: a database attached, a transaction
    begun and written to, then the image loaded into the attached one and read.
    """
    if not hasattr(sqlite3.Connection, "serialize"):  # sqlite3 built without it
        return False
    try:
        with closing(sqlite3.connect(":memory:")) as source:
            source.execute("create table held (c1)")
            image = source.serialize()
        with closing(sqlite3.connect(":memory:", isolation_level=None)) as probe:
            probe.execute("create table written (a)")
            probe.execute(f"attach database ':memory:' as {_SCHEMA}")
            probe.execute("begin immediate")
            probe.execute("insert into written values (1)")
            probe.deserialize(image, name=_SCHEMA)
            probe.execute(f"select count(*) from {_SCHEMA}.held").fetchone()
            probe.execute("rollback")
    except sqlite3.Error:
        return False
    return True


def handed_over(rows: Sequence[tuple[Any, ...]], session_id: int,
                values: list[tuple[Any, ...]]) -> bytes | list[tuple[Any, ...]]:
    """A worker's held rows for the writer: a `staged_rows` image, or their `values`.

    Values where staging cannot be done or would cost too much memory (see the module).
    """
    if len(rows) > STAGE_AT_MOST or not can_stage():
        return values
    try:
        return staged_rows(rows, session_id, values)
    except (sqlite3.Error, MemoryError):  # SQLite out of memory says "unable to serialize"
        return values


def staged_rows(rows: Sequence[tuple[Any, ...]], session_id: int,
                values: Sequence[tuple[Any, ...]]) -> bytes:
    """`Batch` rows given their session and `attribution_values`, as a database image.

    In the order given (`insert_staged` inserts them in it); b"" for no rows.
    """
    if not rows:
        return b""
    image = sqlite3.connect(":memory:")
    try:
        image.execute(f"create table held ({', '.join(_COLUMN_NAMES)})")
        image.executemany(
            f"insert into held values ({', '.join('?' * BOUND_PER_ROW)})",
            (bound_values(attributed_row(row, session_id, v))
             for row, v in zip(rows, values, strict=True)))
        image.commit()
        return image.serialize()
    finally:
        image.close()


@contextmanager
def staging(archive: Archive) -> Iterator[None]:
    """Attach the schema `insert_staged` reads images into, for this block's writes.

    Outside any transaction (SQLite attaches and detaches only there); detached on the
    way out, which frees the last image.
    """
    conn = archive.db.conn
    conn.execute(f"attach database ':memory:' as {_SCHEMA}")
    try:
        yield
    finally:
        conn.execute(f"detach database {_SCHEMA}")


def insert_staged(archive: Archive, image: bytes) -> int:
    """Insert the rows of a `staged_rows` image (inside `staging`); rows inserted or changed."""
    if not image:
        return 0
    conn = archive.db.conn
    conn.deserialize(image, name=_SCHEMA)
    return indexed_insert(archive, lambda c: c.execute(_INSERT_STAGED))
