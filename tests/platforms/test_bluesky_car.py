"""A Bluesky repository export (CAR) imported: the account's posts walked out of the record
tree (prefix-compressed keys, left and right subtrees), a reply keeping its parent, other
collections and a broken file refused in one line. The CAR is written here, by hand, the
way a PDS writes it (CAR v1, dag-cbor blocks, sha-256 CIDs)."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.platforms.bluesky.car import BadCar, post_views
from bot.platforms.bluesky.importer import import_bluesky
from bot.script import load_script
from tests.conftest import chat_script, make_settings, write_script

DID = "did:plc:hostaccount"


class Link:
    """A CID link (CBOR tag 42) in a block being written."""

    def __init__(self, cid: bytes) -> None:
        self.cid = cid


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for code, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | code]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor(v: Any) -> bytes:
    """DAG-CBOR: map keys sorted by length then bytes, links as tag 42."""
    if v is None:
        return b"\xf6"
    if isinstance(v, int):
        return _head(0, v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        return _head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, Link):
        return b"\xd8\x2a" + cbor(b"\x00" + v.cid)
    keys = sorted(v, key=lambda k: (len(k.encode()), k.encode()))
    return _head(5, len(v)) + b"".join(cbor(k) + cbor(v[k]) for k in keys)


def _varint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


class Repo:
    """Blocks of one repository, written out as a CAR file."""

    def __init__(self) -> None:
        self.blocks: list[tuple[bytes, bytes]] = []

    def put(self, value: Any) -> bytes:
        data = cbor(value)
        cid = bytes([1, 0x71, 0x12, 0x20]) + hashlib.sha256(data).digest()
        self.blocks.append((cid, data))
        return cid

    def car(self, root: bytes) -> bytes:
        header = cbor({"version": 1, "roots": [Link(root)]})
        out = _varint(len(header)) + header
        for cid, data in reversed(self.blocks):
            out += _varint(len(cid) + len(data)) + cid + data
        return out


def post(text: str, at: str, parent: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at}
    if parent:
        ref = {"uri": parent, "cid": "bafyreiparent"}
        record["reply"] = {"root": ref, "parent": ref}
    return record


def export(tmp_path: Path) -> Path:
    repo = Repo()
    welcome = repo.put(post("Welcome! #TestChat", "2026-11-25T20:00:00.000Z"))
    q1 = repo.put(post("Q1 First question? #TestChat", "2026-11-25T20:01:00.000Z"))
    thanks = repo.put(post("thanks for that", "2026-11-25T20:02:00.000Z",
                           parent=f"at://{DID}/app.bsky.feed.post/3kq1"))
    like = repo.put({"$type": "app.bsky.feed.like", "createdAt": "2026-11-25T20:03:00.000Z",
                     "subject": {"uri": "at://x/y/z", "cid": "bafyreix"}})
    # Keys in order, prefix-compressed; the welcome sits in a left subtree.
    left = repo.put({"l": None, "e": [
        {"p": 0, "k": b"app.bsky.feed.like/3kzzz", "v": Link(like), "t": None}]})
    mst = repo.put({"l": Link(left), "e": [
        {"p": 0, "k": b"app.bsky.feed.post/3kq1", "v": Link(q1), "t": None},
        {"p": 23, "k": b"thx", "v": Link(thanks), "t": None},
        {"p": 21, "k": b"wel", "v": Link(welcome), "t": None}]})
    commit = repo.put({"did": DID, "version": 3, "data": Link(mst), "rev": "3kzzz",
                       "prev": None, "sig": b"\x00" * 64})
    path = tmp_path / "repo.car"
    path.write_bytes(repo.car(commit))
    return path


def test_a_repo_export_yields_every_post_with_its_key(tmp_path: Path) -> None:
    views = list(post_views(export(tmp_path)))
    assert [v["uri"].rsplit("/", 1)[1] for v in views] == ["3kq1", "3kq1thx", "3kwel"]
    assert {v["author"]["did"] for v in views} == {DID}
    assert all(v["cid"].startswith("bafyrei") for v in views)


def test_importing_a_repo_export_makes_the_hosts_session(tmp_path: Path) -> None:
    script = load_script(write_script(tmp_path / "chats", chat_script("[bluesky]")))
    archive = Archive(make_settings(tmp_path).archive.path)
    try:
        report = import_bluesky(archive, export(tmp_path), script, host_accounts=[DID])
        assert report.messages == 3 and report.host_posts == 3 and len(report.sessions) == 1
        row = archive.message("bluesky", f"at://{DID}/app.bsky.feed.post/3kq1thx")
        assert row is not None and row.reply_to == f"at://{DID}/app.bsky.feed.post/3kq1"
    finally:
        archive.close()


def test_a_broken_export_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "broken.car"
    path.write_bytes(b"\x0a not a car file at all")
    with pytest.raises(BadCar, match="not a CAR file"):
        list(post_views(path))
