"""A Bluesky repository export (CAR, from com.atproto.sync.getRepo) -> post views.

The file holds one account's records as IPLD blocks: the first root is the signed commit,
whose `data` is the root of a Merkle Search Tree mapping `collection/rkey` keys to record
CIDs. Keys are stored prefix-compressed (`p` bytes shared with the previous key, then
`k`), and a node lists its left subtree (`l`), then each entry followed by its right
subtree (`t`). Walking it in order yields every record; the posts become post views
shaped like the AppView's, so they go through the same converter as everything else.

Only the account's own posts are in it (no one else's replies, no handle: the author is
the DID); it is how a host's side of a past chat is recovered.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import libipld

MAX_CAR = 512 << 20
MAX_DEPTH = 64  # an MST over billions of records is ~16 deep; deeper is a loop or abuse
POST = "app.bsky.feed.post/"


class BadCar(ValueError):
    """Not a repository export this reader can walk."""


def cid_text(cid: bytes) -> str:
    """A binary CID in its usual text form (base32, multibase prefix 'b')."""
    return "b" + base64.b32encode(cid).decode().lower().rstrip("=")


def jsonable(value: Any, depth: int = 0) -> Any:
    """A decoded block as JSON: links (binary CIDs) as text, other bytes as base64."""
    if depth > 32:
        raise BadCar("a record nested deeper than any real one")
    if isinstance(value, bytes):
        if value[:2] == b"\x01q" or value[:2] == b"\x01U":  # CIDv1, dag-cbor or raw
            return {"$link": cid_text(value)}
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v, depth + 1) for v in value]
    return value


def is_car(path: Path) -> bool:
    """Whether `path` is a CAR repository export rather than JSON."""
    with open(path, "rb") as f:
        head = f.read(64)
    return path.suffix == ".car" or (b"roots" in head and head.lstrip()[:1] not in (b"{", b"["))


def _walk(blocks: Mapping[bytes, Any], node_cid: Any, depth: int = 0
          ) -> Iterator[tuple[str, Any]]:
    if node_cid is None:
        return
    if depth > MAX_DEPTH:
        raise BadCar("the record tree is deeper than any real repository")
    node = blocks.get(node_cid)
    if not isinstance(node, dict):
        raise BadCar("a tree node is missing from the export")
    yield from _walk(blocks, node.get("l"), depth + 1)
    key = b""
    for entry in node.get("e") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("k"), bytes):
            raise BadCar("a tree entry has no key")
        key = key[:int(entry.get("p") or 0)] + entry["k"]
        yield key.decode("utf-8", "replace"), entry.get("v")
        yield from _walk(blocks, entry.get("t"), depth + 1)


def post_views(path: Path) -> Iterator[dict[str, Any]]:
    """Every post in the export, as a post view (uri, cid, author did, record)."""
    if path.stat().st_size > MAX_CAR:
        raise BadCar(f"over {MAX_CAR >> 20} MB")
    try:
        header, blocks = libipld.decode_car(path.read_bytes())
    except Exception as e:  # libipld raises plain ValueError/RuntimeError for broken files
        raise BadCar(f"not a CAR file ({e})") from None
    roots = header.get("roots") if isinstance(header, dict) else None
    commit = blocks.get(roots[0]) if isinstance(roots, list) and roots else None
    if not isinstance(commit, dict) or not isinstance(commit.get("did"), str):
        raise BadCar("no signed commit at the root; export it with com.atproto.sync.getRepo")
    did = commit["did"]
    for key, cid in _walk(blocks, commit.get("data")):
        record = blocks.get(cid) if isinstance(cid, bytes) else None
        if not key.startswith(POST) or not isinstance(record, dict):
            continue
        yield {"uri": f"at://{did}/{key}", "cid": cid_text(cid),
               "author": {"did": did}, "record": jsonable(record),
               "indexedAt": record.get("createdAt")}
