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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bot.archive.bulk import (
    BOUND_PER_ROW,
    attributed_row,
    bound_values,
    indexed_insert,
    upsert_select,
)
from bot.archive.store import Archive

# Python's sqlite3 serializes a database only where its SQLite was built to (3.36+,
# the default): elsewhere the import binds the rows in the writer, as before.
CAN_STAGE = hasattr(sqlite3.Connection, "serialize")

_SCHEMA = "staged"  # the name the image is attached under, in the writer's connection
_COLUMN_NAMES = [f"c{i}" for i in range(1, BOUND_PER_ROW + 1)]
_INSERT_STAGED = upsert_select(f"{_SCHEMA}.held")


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
