"""A fake Bluesky PDS + AppView: a real aiohttp server on 127.0.0.1 speaking XRPC JSON.

It serves the endpoints the Bluesky adapter (through the atproto SDK) uses, in the shapes
the lexicons define (`app.bsky.feed.defs#postView`, `#threadViewPost`, `#notFoundPost`,
`com.atproto.repo.strongRef`, XRPC errors `{"error": ..., "message": ...}`), with
`ratelimit-*` headers on every answer, and a Python control API for tests and rehearsals:

    async with FakeBlueskyServer() as server:
        platform = BlueskyPlatform(ctx, handle=..., password=..., service=server.base_url)
        uri = server.add_post("alice.test", "A1 more time to talk #NHSSM", reply_to=q_uri)
        server.delete_post(uri)
        server.fail_next(500)

Endpoints: com.atproto.server.createSession/refreshSession, com.atproto.identity.
resolveHandle, com.atproto.repo.createRecord/putRecord/getRecord/deleteRecord,
com.atproto.moderation.createReport, app.bsky.actor.getProfile, app.bsky.feed.searchPosts
(q, tag, since, sort, limit, cursor), getPostThread, getPosts, getAuthorFeed.

Search filters `since` and orders on sortAt as the lexicon says, the earlier of createdAt
and indexedAt (as the AppView computes it).
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.platforms.bluesky.text import grapheme_count
from bot.platforms.payload import parse_time
from bot.testing.fake_jetstream import JetstreamHub
from bot.testing.http import FakeService

POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def iso(dt: datetime) -> str:
    """A time in Bluesky's ISO format (milliseconds, Z)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(did: str, scope: str, seconds: int) -> str:
    """An unsigned-looking JWT whose `exp` the SDK reads to decide when to refresh."""
    now = int(time.time())  # the SDK compares with the real clock, so the fake does too
    payload = {"scope": scope, "sub": did, "iat": now, "exp": now + seconds,
               "aud": "did:web:fake.pds.test"}
    return f"{_b64({'typ': 'at+jwt', 'alg': 'HS256'})}.{_b64(payload)}.{secrets.token_hex(16)}"


def fake_cid() -> str:
    """A random CID-shaped string."""
    return "bafyrei" + "".join(secrets.choice(_B32) for _ in range(52))


def _error(status: int, name: str, message: str) -> web.Response:
    return web.json_response({"error": name, "message": message}, status=status)


@dataclass
class FakeAccount:
    """An account on the fake service."""
    did: str
    handle: str
    display_name: str

    def basic(self) -> dict[str, Any]:
        """The account as a profileViewBasic."""
        return {"did": self.did, "handle": self.handle, "displayName": self.display_name,
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{self.did}/x@jpeg",
                "labels": [], "createdAt": "2024-01-01T00:00:00.000Z",
                "viewer": {"muted": False, "blockedBy": False}}


class FakeBlueskyServer(FakeService):
    """The fake service and its control API. Use as `async with FakeBlueskyServer() as s`."""

    def __init__(self, *, clock: Clock | None = None, me: str = "tweetchat.bsky.social",
                 password: str = "abcd-efgh-ijkl-mnop") -> None:
        super().__init__()
        self.clock = clock or Clock()
        self.password = password
        self.accounts: dict[str, FakeAccount] = {}  # by did
        self._tid = itertools.count(int(time.time() * 1_000_000))
        self.me = self.account(me)
        self.records: dict[str, dict[str, Any]] = {}  # uri -> {"cid", "value", "indexedAt"}
        self.posted: list[dict[str, Any]] = []  # the records created through createRecord
        self.deleted: list[str] = []
        self.reports: list[dict[str, Any]] = []
        self.muted: list[str] = []  # DIDs the bot's account muted (app.bsky.graph.muteActor)
        self.jetstream = JetstreamHub()
        self.dms: list[dict[str, Any]] = []  # direct messages sent (chat.bsky.convo)
        self.dm_access = True  # the app password was made with direct-message access
        self.closed_dms: set[str] = set()  # DIDs that take no messages from the bot
        self._convos: dict[str, str] = {}  # convo id -> the other member's DID
        self.requests: list[tuple[str, str]] = []  # (method, nsid)
        self._tokens: set[str] = set()

    def application(self) -> web.Application:
        """Every XRPC method under /xrpc/{nsid}, behind auth and injected failures."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/xrpc/{nsid}", self._dispatch)
        self.jetstream.routes(app.router)  # the network's Jetstream, on the same port
        return app

    async def close(self) -> None:
        """Stop listening; Jetstream connections end first, so the server stops at once."""
        self.jetstream.drop_all()
        await super().close()

    @property
    def jetstream_url(self) -> str:
        """Where the fake Jetstream listens (ws://127.0.0.1:port/subscribe)."""
        return f"ws://127.0.0.1:{self.port}/subscribe"

    # ----------------------------------------------------------------- control API

    def account(self, handle: str) -> FakeAccount:
        """The account with `handle`, created on first use."""
        handle = handle.lstrip("@").lower()
        if "." not in handle:
            handle += ".bsky.social"
        for acct in self.accounts.values():
            if acct.handle == handle:
                return acct
        did = "did:plc:" + "".join(secrets.choice(_B32) for _ in range(24))
        name = handle.split(".")[0].replace("_", " ").title()
        acct = FakeAccount(did, handle, name)
        self.accounts[did] = acct
        return acct

    def add_post(self, author: str, text: str, *, reply_to: str | None = None,
                 tags: tuple[str, ...] = (), quote_of: str | None = None,
                 likes: int = 0) -> str:
        """A crowd member posts; `tags` become #tag facets (as the app makes them)."""
        acct = self.account(author)
        record: dict[str, Any] = {"$type": POST, "text": text,
                                  "createdAt": iso(self.clock.now()), "langs": ["en"]}
        facets = []
        raw = text.encode()
        for tag in tags:
            start = raw.lower().find(f"#{tag}".lower().encode())
            if start >= 0:
                facets.append({"index": {"byteStart": start, "byteEnd": start + len(tag) + 1},
                               "features": [{"$type": "app.bsky.richtext.facet#tag",
                                             "tag": tag}]})
        if facets:
            record["facets"] = facets
        if reply_to is not None:
            parent = self.records[reply_to]
            root = parent["value"].get("reply", {}).get("root") or {
                "uri": reply_to, "cid": parent["cid"]}
            record["reply"] = {"root": root, "parent": {"uri": reply_to, "cid": parent["cid"]}}
        if quote_of is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": {
                "uri": quote_of, "cid": self.records[quote_of]["cid"]}}
        uri, _ = self._store(acct.did, POST, record, likes=likes)
        return uri

    def delete_post(self, uri: str) -> None:
        """Delete a post as its author would."""
        if self.records.pop(uri, None) is not None:
            did, collection, rkey = _split(uri)
            self.jetstream.commit(did, "delete", collection, rkey)
        self.deleted.append(uri)

    def fail_next(self, status: int = 500, count: int = 1, *, nsid: str | None = None) -> None:
        """The next `count` requests (for `nsid`, if given) fail with `status`."""
        self._fail_next(status, count, nsid)

    def threadgate(self, post_uri: str) -> dict[str, Any] | None:
        """The threadgate on a post, or None when it has none."""
        did, _, rkey = _split(post_uri)
        rec = self.records.get(f"at://{did}/{THREADGATE}/{rkey}")
        return rec["value"] if rec else None

    # ----------------------------------------------------------------- storage

    def _store(self, did: str, collection: str, value: dict[str, Any], rkey: str | None = None,
               likes: int = 0) -> tuple[str, str]:
        rkey = rkey or _tid(next(self._tid))
        uri = f"at://{did}/{collection}/{rkey}"
        cid = fake_cid()
        self.records[uri] = {"cid": cid, "value": value, "indexedAt": iso(self.clock.now()),
                             "likes": likes}
        self.jetstream.commit(did, "create", collection, rkey, value, cid)
        return uri, cid

    def _view(self, uri: str) -> dict[str, Any]:
        rec = self.records[uri]
        did, _, _ = _split(uri)
        replies = sum(1 for r in self.records.values()
                      if r["value"].get("reply", {}).get("parent", {}).get("uri") == uri)
        view = {"uri": uri, "cid": rec["cid"], "author": self.accounts[did].basic(),
                "record": rec["value"], "replyCount": replies, "repostCount": 0,
                "likeCount": rec["likes"], "quoteCount": 0, "indexedAt": rec["indexedAt"],
                "labels": []}
        gate = self.threadgate(uri)
        if gate is not None:
            view["threadgate"] = {"uri": f"at://{did}/{THREADGATE}/{_split(uri)[2]}",
                                  "cid": fake_cid(), "record": gate, "lists": []}
        return view

    def _posts(self) -> list[str]:
        return [u for u in self.records if _split(u)[1] == POST]

    def sort_at(self, uri: str) -> str:
        """A post's sortAt: the earlier of its createdAt (when a time) and its indexedAt."""
        indexed, created = self.records[uri]["indexedAt"], self.records[uri]["value"]
        at = parse_time(created.get("createdAt"))
        return min(iso(at), indexed) if at else indexed

    # ----------------------------------------------------------------- HTTP

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        nsid = request.match_info.get("nsid", "")
        self.requests.append((request.method, nsid))
        status = self._injected_failure(nsid, exact=True)
        if status is not None:
            reset = int(time.time()) + 1
            response = _error(status, "RateLimitExceeded" if status == 429 else
                              "InternalServerError", f"injected {status}")
            response.headers.update({"ratelimit-remaining": "0",
                                     "ratelimit-reset": str(reset)})
            return response
        if nsid not in ("com.atproto.server.createSession", "com.atproto.server.refreshSession") \
                and request.path != "/subscribe":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self._tokens:
                return _error(401, "AuthenticationRequired", "Authentication Required")
        response = await handler(request)
        if response.prepared:  # the Jetstream WebSocket: its headers went out long ago
            return response
        response.headers.update({"ratelimit-limit": "3000", "ratelimit-remaining": "2999",
                                 "ratelimit-reset": str(int(time.time()) + 300),
                                 "ratelimit-policy": "3000;w=300"})
        return response

    async def _dispatch(self, request: web.Request) -> web.Response:
        nsid = request.match_info["nsid"]
        handler = getattr(self, "_" + nsid.replace(".", "_"), None)
        if handler is None:
            return _error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")
        body: dict[str, Any] = {}
        if request.method == "POST" and request.can_read_body:
            body = await request.json()
        result: web.Response = await handler(request, body)
        return result

    def _session(self) -> dict[str, Any]:
        access = fake_jwt(self.me.did, "com.atproto.appPass", 7200)
        refresh = fake_jwt(self.me.did, "com.atproto.refresh", 86400)
        self._tokens.update({access, refresh})
        did_doc = {"@context": ["https://www.w3.org/ns/did/v1"], "id": self.me.did,
                   "alsoKnownAs": [f"at://{self.me.handle}"],
                   "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                "serviceEndpoint": self.base_url}]}
        return {"did": self.me.did, "handle": self.me.handle, "accessJwt": access,
                "refreshJwt": refresh, "didDoc": did_doc, "active": True}

    async def _com_atproto_server_createSession(self, r: web.Request, body: dict[str, Any]
                                                ) -> web.Response:
        ident = str(body.get("identifier", "")).lower()
        if ident not in (self.me.handle, self.me.did) or body.get("password") != self.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        return web.json_response(self._session())

    async def _com_atproto_server_refreshSession(self, r: web.Request, body: dict[str, Any]
                                                 ) -> web.Response:
        return web.json_response(self._session())

    async def _com_atproto_identity_resolveHandle(self, r: web.Request, body: dict[str, Any]
                                                  ) -> web.Response:
        handle = r.query.get("handle", "").lower()
        acct = next((a for a in self.accounts.values() if a.handle == handle), None)
        if acct is None:
            return _error(400, "InvalidRequest", "Unable to resolve handle")
        return web.json_response({"did": acct.did})

    async def _app_bsky_actor_getProfile(self, r: web.Request, body: dict[str, Any]
                                         ) -> web.Response:
        actor = r.query.get("actor", "")
        acct = self.accounts.get(actor) or next(
            (a for a in self.accounts.values() if a.handle == actor.lower()), None)
        if acct is None:
            return _error(400, "InvalidRequest", "Profile not found")
        posts = sum(1 for u in self._posts() if u.startswith(f"at://{acct.did}/"))
        return web.json_response({**acct.basic(), "description": "", "followersCount": 0,
                                  "followsCount": 0, "postsCount": posts,
                                  "indexedAt": "2024-01-01T00:00:00.000Z"})

    async def _com_atproto_repo_createRecord(self, r: web.Request, body: dict[str, Any]
                                             ) -> web.Response:
        if body.get("repo") not in (self.me.did, self.me.handle):
            return _error(400, "InvalidRequest", "Input/repo must be the session's DID")
        record = body.get("record") or {}
        if body.get("collection") == POST:
            text = str(record.get("text", ""))
            if grapheme_count(text) > 300 or len(text.encode()) > 3000:
                return _error(400, "InvalidRequest",
                              "Invalid app.bsky.feed.post record: Record/text must not be "
                              "longer than 300 graphemes")
            self.posted.append(record)
        uri, cid = self._store(self.me.did, str(body.get("collection")), record, body.get("rkey"))
        return web.json_response({"uri": uri, "cid": cid, "validationStatus": "valid",
                                  "commit": {"cid": fake_cid(), "rev": _tid(next(self._tid))}})

    async def _com_atproto_repo_putRecord(self, r: web.Request, body: dict[str, Any]
                                          ) -> web.Response:
        uri = f"at://{self.me.did}/{body.get('collection')}/{body.get('rkey')}"
        self.records.pop(uri, None)
        uri, cid = self._store(self.me.did, str(body.get("collection")), body.get("record") or {},
                               str(body.get("rkey")))
        return web.json_response({"uri": uri, "cid": cid, "validationStatus": "valid"})

    async def _com_atproto_repo_getRecord(self, r: web.Request, body: dict[str, Any]
                                          ) -> web.Response:
        q = r.query
        did = q.get("repo", "")
        if did == self.me.handle:
            did = self.me.did
        uri = f"at://{did}/{q.get('collection')}/{q.get('rkey')}"
        rec = self.records.get(uri)
        if rec is None:
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return web.json_response({"uri": uri, "cid": rec["cid"], "value": rec["value"]})

    async def _com_atproto_repo_deleteRecord(self, r: web.Request, body: dict[str, Any]
                                             ) -> web.Response:
        uri = f"at://{self.me.did}/{body.get('collection')}/{body.get('rkey')}"
        if uri in self.records:
            self.delete_post(uri)
        return web.json_response({"commit": {"cid": fake_cid(), "rev": _tid(next(self._tid))}})

    async def _app_bsky_graph_muteActor(self, r: web.Request, body: dict[str, Any]
                                        ) -> web.Response:
        actor = body.get("actor")
        if not isinstance(actor, str) or not actor:
            return _error(400, "InvalidRequest", "Input must have the property \"actor\"")
        self.muted.append(actor)
        return web.Response(status=200)

    def _chat_refusal(self, r: web.Request) -> web.Response | None:
        """What the PDS's proxy or the chat service says before serving chat.bsky.*."""
        if r.headers.get("atproto-proxy") != CHAT_PROXY:
            return _error(501, "MethodNotImplemented", "Method Not Implemented")  # the PDS
        if not self.dm_access:
            return _error(400, "InvalidToken", "Bad token scope")
        return None

    async def _chat_bsky_convo_getConvoForMembers(self, r: web.Request, body: dict[str, Any]
                                                  ) -> web.Response:
        refused = self._chat_refusal(r)
        if refused is not None:
            return refused
        members = sorted({*r.query.getall("members", []), self.me.did})
        if len(members) != 2 or not all(m.startswith("did:") for m in members):
            return _error(400, "InvalidRequest", "members must be one other account's DID")
        other = next(m for m in members if m != self.me.did)
        convo_id = next((c for c, d in self._convos.items() if d == other),
                        f"3l{len(self._convos) + 1:011d}")
        self._convos[convo_id] = other
        convo = {"id": convo_id,
                 "rev": _tid(next(self._tid)), "muted": False, "unreadCount": 0,
                 "members": [{"did": m, "handle": next((a.handle for a in self.accounts.values()
                                                       if a.did == m), m)} for m in members]}
        return web.json_response({"convo": convo})

    async def _chat_bsky_convo_listConvos(self, r: web.Request, body: dict[str, Any]
                                          ) -> web.Response:
        refused = self._chat_refusal(r)
        return refused or web.json_response({"convos": []})

    async def _chat_bsky_convo_sendMessage(self, r: web.Request, body: dict[str, Any]
                                           ) -> web.Response:
        refused = self._chat_refusal(r)
        if refused is not None:
            return refused
        convo = str(body.get("convoId", ""))
        text = str((body.get("message") or {}).get("text", ""))
        to = self._convos.get(convo)
        if to is None or not text:
            return _error(400, "InvalidRequest", "unknown conversation or empty message")
        if to in self.closed_dms:
            return _error(400, "InvalidRequest", "recipient has disabled incoming messages")
        message = {"id": _tid(next(self._tid)), "rev": _tid(next(self._tid)), "text": text,
                   "sender": {"did": self.me.did}, "sentAt": iso(self.clock.now())}
        self.dms.append({"convo": convo, "to": to, "text": text})
        return web.json_response(message)

    def blocks(self) -> list[str]:
        """The DIDs the bot's account blocks (its app.bsky.graph.block records)."""
        return [rec["value"]["subject"] for uri, rec in self.records.items()
                if _split(uri)[1] == "app.bsky.graph.block"]

    async def _com_atproto_moderation_createReport(self, r: web.Request, body: dict[str, Any]
                                                   ) -> web.Response:
        report = {"id": len(self.reports) + 1, "reasonType": body.get("reasonType"),
                  "reason": body.get("reason"), "subject": body.get("subject"),
                  "reportedBy": self.me.did, "createdAt": iso(self.clock.now())}
        self.reports.append(report)
        return web.json_response(report)

    async def _app_bsky_feed_searchPosts(self, r: web.Request, body: dict[str, Any]
                                         ) -> web.Response:
        q = r.query
        if not q.get("q"):
            return _error(400, "BadQueryString", "q is required")
        words = [w.lower().lstrip("#") for w in q["q"].split()]
        tags = {t.lower() for t in q.getall("tag", [])}
        since = q.get("since")
        hits = []
        for uri in self._posts():
            rec = self.records[uri]
            value = rec["value"]
            facet_tags = {f.get("tag", "").lower() for facet in value.get("facets", [])
                          for f in facet.get("features", []) if "tag" in f}
            text = value.get("text", "").lower()
            if tags and not tags <= facet_tags:
                continue
            if not all(w in text or w in facet_tags for w in words):
                continue
            if since and self.sort_at(uri) < since:
                continue
            hits.append(uri)
        hits.sort(key=self.sort_at, reverse=True)  # sort=latest
        limit = max(1, min(100, int(q.get("limit", "25"))))
        offset = int(q.get("cursor", "0") or 0)
        page = hits[offset:offset + limit]
        out: dict[str, Any] = {"posts": [self._view(u) for u in page], "hitsTotal": len(hits)}
        if offset + limit < len(hits):
            out["cursor"] = str(offset + limit)
        return web.json_response(out)

    def _thread(self, uri: str, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost",
                                "post": self._view(uri)}
        if depth > 0:
            children = [u for u in self._posts() if self.records[u]["value"].get(
                "reply", {}).get("parent", {}).get("uri") == uri]
            node["replies"] = [self._thread(c, depth - 1) for c in children]
        parent = self.records[uri]["value"].get("reply", {}).get("parent", {}).get("uri")
        if parent is not None:
            node["parent"] = ({"$type": "app.bsky.feed.defs#threadViewPost",
                               "post": self._view(parent)} if parent in self.records else
                              {"$type": "app.bsky.feed.defs#notFoundPost", "uri": parent,
                               "notFound": True})
        return node

    async def _app_bsky_feed_getPostThread(self, r: web.Request, body: dict[str, Any]
                                           ) -> web.Response:
        uri = r.query.get("uri", "")
        if uri not in self.records:
            return _error(400, "NotFound", f"Post not found: {uri}")
        depth = max(0, min(1000, int(r.query.get("depth", "6"))))
        return web.json_response({"thread": self._thread(uri, depth)})

    async def _app_bsky_feed_getPosts(self, r: web.Request, body: dict[str, Any]
                                      ) -> web.Response:
        uris = r.query.getall("uris", [])[:25]
        return web.json_response({"posts": [self._view(u) for u in uris if u in self.records]})

    async def _app_bsky_feed_getAuthorFeed(self, r: web.Request, body: dict[str, Any]
                                           ) -> web.Response:
        actor = r.query.get("actor", "")
        acct = self.accounts.get(actor) or self.account(actor)
        mine = [u for u in self._posts() if u.startswith(f"at://{acct.did}/")]
        mine.sort(key=lambda u: self.records[u]["indexedAt"], reverse=True)
        return web.json_response({"feed": [{"post": self._view(u)} for u in mine[:100]]})


def _split(uri: str) -> tuple[str, str, str]:
    did, collection, rkey = uri.removeprefix("at://").split("/", 2)
    return did, collection, rkey


def _tid(micros: int) -> str:
    """A record key in TID form: 13 base32-sortable characters from a microsecond count."""
    value = (micros << 10) & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
