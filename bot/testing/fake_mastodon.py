"""A fake Mastodon instance: a real aiohttp server on 127.0.0.1 speaking the REST API's JSON.

It serves what the Mastodon adapter (through Mastodon.py) uses, in the shapes Mastodon
sends: Status (ids as strings, `content` as HTML with mention/hashtag links and the
invisible/ellipsis spans around long links, `spoiler_text`, `edited_at`, `reblog`),
Context, StatusEdit history, Instance v2 (`configuration.statuses`), `Link` header
pagination (rel="next" max_id / rel="prev" min_id), `X-RateLimit-*` headers, errors as
`{"error": "..."}`, and Idempotency-Key on posting. A control API for tests:

    async with FakeMastodonServer() as server:
        sid = server.add_status("alice", "A1 yes #NHSSM", reply_to=q_id)
        server.edit_status(sid, "A1 yes, edited #NHSSM")
        server.boost("bob", sid); server.delete_status(sid); server.fail_next(503)
        server.stream.drop_all(); server.stream.refuse = True   # the streaming server

Public statuses also go out on the hashtag streams (bot/testing/fake_mastodon_stream.py):
`update` when posted, `status.update` when edited, `delete` when deleted.
"""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.platforms.mastodon.text import countable_length
from bot.testing.fake_mastodon_stream import StreamHub
from bot.testing.http import FakeService

DOMAIN = "chat.example.social"
_FIRST_ID = 113_500_000_000_000_000


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def render_html(text: str, domain: str = DOMAIN) -> str:
    """Plain text as Mastodon renders it: paragraphs, <br>, linked mentions, tags and URLs."""
    def inline(line: str) -> str:
        out, pos = [], 0
        pattern = re.compile(r"https?://\S+|@(\w+)(?:@([\w.-]+\w))?|#(\w+)")
        for m in pattern.finditer(line):
            out.append(html.escape(line[pos:m.start()]))
            token = m.group(0)
            if token.startswith("http"):
                scheme, rest = token.split("://", 1)
                shown, tail = rest[:30], rest[30:]
                out.append(f'<a href="{html.escape(token)}" target="_blank" rel="nofollow '
                           f'noopener" translate="no"><span class="invisible">{scheme}://'
                           f'</span><span class="{"ellipsis" if tail else ""}">'
                           f'{html.escape(shown)}</span><span class="invisible">'
                           f'{html.escape(tail)}</span></a>')
            elif token.startswith("@"):
                host = m.group(2) or domain
                out.append(f'<span class="h-card" translate="no"><a href="https://{host}/@'
                           f'{m.group(1)}" class="u-url mention">@<span>{m.group(1)}</span>'
                           "</a></span>")
            else:
                out.append(f'<a href="https://{domain}/tags/{m.group(3).lower()}" class='
                           f'"mention hashtag" rel="tag">#<span>{m.group(3)}</span></a>')
            pos = m.end()
        out.append(html.escape(line[pos:]))
        return "".join(out)

    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join("<p>" + "<br />".join(inline(ln) for ln in p.split("\n")) + "</p>"
                   for p in paragraphs)


class FakeMastodonServer(FakeService):
    """The fake instance and its control API. Use as `async with FakeMastodonServer() as s`."""

    def __init__(self, *, clock: Clock | None = None, me: str = "tweetchat",
                 token: str = "fake-mastodon-token", max_characters: int = 500,
                 url_weight: int = 23) -> None:
        super().__init__()
        self.clock = clock or Clock()
        self.token = token
        self.max_characters = max_characters
        self.url_weight = url_weight
        self.accounts: dict[str, dict[str, Any]] = {}  # by acct
        self._ids = itertools.count(_FIRST_ID, 65_536)
        self.me = self.account(me)
        self.statuses: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.posted: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self.muted: dict[str, int | None] = {}
        self.blocked: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.stream = StreamHub()
        self.rate_remaining = 299  # what X-RateLimit-Remaining says, and for how long more
        self.rate_window = 300.0
        self._idempotent: dict[str, str] = {}

    def application(self) -> web.Application:
        """The REST endpoints the adapter uses, behind auth and injected failures."""
        app = web.Application(middlewares=[self._middleware])
        r = app.router  # Mastodon.py asks for some paths with a trailing slash; Rails allows both
        r.add_get("/api/v1/accounts/verify_credentials{slash:/?}", self._verify)
        r.add_get("/api/v2/instance{slash:/?}", self._instance)
        r.add_post("/api/v1/statuses{slash:/?}", self._post)
        r.add_get("/api/v1/statuses/{id}{slash:/?}", self._status)
        r.add_delete("/api/v1/statuses/{id}{slash:/?}", self._delete)
        r.add_get("/api/v1/statuses/{id}/context{slash:/?}", self._context)
        r.add_get("/api/v1/statuses/{id}/history{slash:/?}", self._history)
        r.add_get("/api/v1/timelines/tag/{tag}{slash:/?}", self._tag_timeline)
        r.add_post("/api/v1/reports{slash:/?}", self._report)
        r.add_post("/api/v1/accounts/{id}/mute{slash:/?}", self._mute)
        r.add_post("/api/v1/accounts/{id}/block{slash:/?}", self._block)
        r.add_get("/api/v1/accounts/{id}/statuses{slash:/?}", self._account_statuses)
        self.stream.routes(r)
        return app

    async def close(self) -> None:
        """Stop listening; open streams end first, so the server stops at once."""
        self.stream.drop_all()
        await super().close()

    # ----------------------------------------------------------------- control API

    def account(self, acct: str) -> dict[str, Any]:
        """`alice` is local; `bob@other.example` is remote (acct carries the domain)."""
        acct = acct.lstrip("@")
        if acct not in self.accounts:
            username, _, host = acct.partition("@")
            self.accounts[acct] = {
                "id": str(100_000 + len(self.accounts) * 7), "username": username, "acct": acct,
                "display_name": username.replace("_", " ").title(), "locked": False,
                "bot": False, "discoverable": True, "group": False,
                "created_at": "2023-01-01T00:00:00.000Z", "note": "<p></p>",
                "url": f"https://{host or DOMAIN}/@{username}", "avatar": "",
                "followers_count": 0, "following_count": 0, "statuses_count": 0,
                "emojis": [], "fields": []}
        return self.accounts[acct]

    def add_status(self, author: str, text: str, *, reply_to: str | None = None,
                   spoiler: str = "", visibility: str = "public") -> str:
        """A person posts a status (optionally a reply); its id."""
        status = self._store(self.account(author), text, reply_to, spoiler, visibility)
        self.stream.publish("update", self._public(status))
        return str(status["id"])

    def edit_status(self, status_id: str, text: str, *, spoiler: str | None = None) -> None:
        """A person edits a status; the old version goes into its history."""
        status = self.statuses[status_id]
        history = self.history.setdefault(status_id, [self._edit_entry(status)])
        status["content"] = render_html(text)
        status["text_source"] = text
        if spoiler is not None:
            status["spoiler_text"] = spoiler
        status["edited_at"] = _iso(self.clock.now())
        status["tags"] = [{"name": t, "url": f"https://{DOMAIN}/tags/{t}"}
                          for t in sorted({t.lower() for t in re.findall(r"#(\w+)", text)})]
        history.append(self._edit_entry(status))
        self.stream.publish("status.update", self._public(status))

    def boost(self, author: str, status_id: str) -> str:
        """A person boosts a status; the boost's id."""
        acct = self.account(author)
        boost = self._store(acct, "", None, "", "public")
        boost["reblog"] = self.statuses[status_id]
        boost["content"] = ""
        return str(boost["id"])

    def delete_status(self, status_id: str) -> None:
        """A status is deleted."""
        if self.statuses.pop(status_id, None) is not None:
            self.stream.publish_delete(status_id)

    def fail_next(self, status: int = 500, count: int = 1, *, path: str | None = None) -> None:
        """The next `count` requests (to `path`, if given) fail with `status`."""
        self._fail_next(status, count, path)

    # ----------------------------------------------------------------- storage

    def _edit_entry(self, status: dict[str, Any]) -> dict[str, Any]:
        return {"content": status["content"], "spoiler_text": status["spoiler_text"],
                "sensitive": status["sensitive"], "account": status["account"],
                "created_at": status["edited_at"] or status["created_at"],
                "media_attachments": [], "emojis": []}

    def _store(self, account: dict[str, Any], text: str, reply_to: str | None, spoiler: str,
               visibility: str) -> dict[str, Any]:
        sid = str(next(self._ids))
        parent = self.statuses.get(reply_to) if reply_to else None
        tags = sorted({t.lower() for t in re.findall(r"#(\w+)", text)})
        mentions = [self.account(m.group(1) + (f"@{m.group(2)}" if m.group(2) else ""))
                    for m in re.finditer(r"(?<![\w@])@(\w+)(?:@([\w.-]+\w))?", text)]
        status: dict[str, Any] = {
            "id": sid, "created_at": _iso(self.clock.now()),
            "in_reply_to_id": reply_to if parent else None,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "sensitive": bool(spoiler), "spoiler_text": spoiler, "visibility": visibility,
            "language": "en", "uri": f"https://{DOMAIN}/users/{account['username']}/statuses/"
            f"{sid}", "url": f"https://{DOMAIN}/@{account['acct']}/{sid}",
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
            "edited_at": None, "content": render_html(text), "reblog": None,
            "application": None, "account": account, "media_attachments": [],
            "mentions": [{"id": a["id"], "username": a["username"], "acct": a["acct"],
                          "url": a["url"]} for a in mentions],
            "tags": [{"name": t, "url": f"https://{DOMAIN}/tags/{t}"} for t in tags],
            "emojis": [], "card": None, "poll": None, "text_source": text}
        if parent is not None:
            parent["replies_count"] += 1
        account["statuses_count"] += 1
        self.statuses[sid] = status
        return status

    def _public(self, status: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in status.items() if k != "text_source"}

    # ----------------------------------------------------------------- HTTP

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        status = self._injected_failure(request.path)
        if status is not None:
            response = _error(status, "Too many requests" if status == 429 else
                              "injected failure")
            if status == 429:  # Mastodon says when the window resets
                reset = self.clock.now().timestamp() + 1
                response.headers.update({
                    "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": _iso(datetime.fromtimestamp(reset, UTC))})
            return response
        if request.headers.get("Authorization") != f"Bearer {self.token}" and \
                request.path != "/api/v1/streaming/health":
            return _error(401, "The access token is invalid")
        response = await handler(request)
        if response.prepared:  # a stream: its headers went out long ago
            return response
        window_end = datetime.fromtimestamp(self.clock.now().timestamp() + self.rate_window, UTC)
        response.headers.update({"X-RateLimit-Limit": "300",
                                 "X-RateLimit-Remaining": str(self.rate_remaining),
                                 "X-RateLimit-Reset": _iso(window_end)})
        return response

    async def _verify(self, request: web.Request) -> web.Response:
        return web.json_response({**self.me, "source": {"privacy": "public", "note": ""}})

    async def _instance(self, request: web.Request) -> web.Response:
        return web.json_response({
            "domain": DOMAIN, "title": "Chat Example", "version": "4.3.2",
            "source_url": "https://github.com/mastodon/mastodon", "description": "",
            "usage": {"users": {"active_month": 10}}, "thumbnail": {"url": ""},
            "languages": ["en"], "configuration": {
                "urls": {"streaming": f"ws://127.0.0.1:{self.port}"},
                "accounts": {"max_featured_tags": 10},
                "statuses": {"max_characters": self.max_characters,
                             "max_media_attachments": 4,
                             "characters_reserved_per_url": self.url_weight},
                "translation": {"enabled": False}},
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": "admin@example.social", "account": None}, "rules": []})

    async def _post(self, request: web.Request) -> web.Response:
        form = dict(await request.json()) if request.content_type == "application/json" \
            else dict(await request.post())
        key = request.headers.get("Idempotency-Key")
        if key and key in self._idempotent and self._idempotent[key] in self.statuses:
            return web.json_response(self._public(self.statuses[self._idempotent[key]]))
        text = str(form.get("status", ""))
        spoiler = str(form.get("spoiler_text") or "")
        if not text.strip():
            return _error(422, "Validation failed: Text can't be blank")
        if countable_length(text, self.url_weight) + len(spoiler) > self.max_characters:
            return _error(422, f"Validation failed: Text character limit of "
                          f"{self.max_characters} exceeded")
        reply_to = form.get("in_reply_to_id") or None
        if reply_to is not None and str(reply_to) not in self.statuses:
            return _error(404, "Record not found")
        status = self._store(self.me, text, str(reply_to) if reply_to else None, spoiler,
                             str(form.get("visibility") or "public"))
        self.posted.append(status)
        self.stream.publish("update", self._public(status))
        if key:
            self._idempotent[key] = status["id"]
        return web.json_response(self._public(status))

    def _find(self, request: web.Request) -> dict[str, Any]:
        status = self.statuses.get(request.match_info["id"])
        if status is None:
            raise web.HTTPNotFound(text='{"error":"Record not found"}',
                                   content_type="application/json")
        return status

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self._public(self._find(request)))

    async def _delete(self, request: web.Request) -> web.Response:
        status = self._find(request)
        if status["account"]["id"] != self.me["id"]:
            return _error(403, "This action is not allowed")
        self.delete_status(status["id"])
        return web.json_response({**self._public(status), "text": status["text_source"]})

    def _descendants(self, sid: str) -> list[dict[str, Any]]:
        out, frontier = [], [sid]
        while frontier:
            parent = frontier.pop(0)
            children = sorted((s for s in self.statuses.values()
                               if s["in_reply_to_id"] == parent), key=lambda s: int(s["id"]))
            out += children
            frontier += [c["id"] for c in children]
        return out

    async def _context(self, request: web.Request) -> web.Response:
        status = self._find(request)
        ancestors: list[dict[str, Any]] = []
        parent = status["in_reply_to_id"]
        while parent and parent in self.statuses:
            ancestors.insert(0, self.statuses[parent])
            parent = self.statuses[parent]["in_reply_to_id"]
        return web.json_response({
            "ancestors": [self._public(s) for s in ancestors],
            "descendants": [self._public(s) for s in self._descendants(status["id"])]})

    async def _history(self, request: web.Request) -> web.Response:
        status = self._find(request)
        return web.json_response(self.history.get(status["id"], [self._edit_entry(status)]))

    async def _tag_timeline(self, request: web.Request) -> web.Response:
        tag = request.match_info["tag"].lower()
        q = request.query
        limit = max(1, min(40, int(q.get("limit", "20"))))
        hits = sorted((s for s in self.statuses.values()
                       if tag in {t["name"] for t in (s["reblog"] or s)["tags"]}
                       and s["reblog"] is None), key=lambda s: int(s["id"]))
        if q.get("max_id"):
            hits = [s for s in hits if int(s["id"]) < int(q["max_id"])]
        low = q.get("min_id") or q.get("since_id")
        if low:
            hits = [s for s in hits if int(s["id"]) > int(low)]
        # min_id pages from just above it; otherwise the newest page.
        page = hits[:limit] if q.get("min_id") else hits[-limit:]
        page.reverse()
        response = web.json_response([self._public(s) for s in page])
        if page:
            base = f"{self.base_url}/api/v1/timelines/tag/{tag}"
            response.headers["Link"] = (f'<{base}?max_id={page[-1]["id"]}>; rel="next", '
                                        f'<{base}?min_id={page[0]["id"]}>; rel="prev"')
        return response

    async def _account_statuses(self, request: web.Request) -> web.Response:
        q = request.query
        limit = max(1, min(40, int(q.get("limit", "20"))))
        mine = sorted((s for s in self.statuses.values()
                       if s["account"]["id"] == request.match_info["id"]),
                      key=lambda s: -int(s["id"]))
        if q.get("max_id"):
            mine = [s for s in mine if int(s["id"]) < int(q["max_id"])]
        return web.json_response([self._public(s) for s in mine[:limit]])

    async def _report(self, request: web.Request) -> web.Response:
        form = await request.post()
        report = {"id": str(len(self.reports) + 1), "action_taken": False,
                  "category": form.get("category", "other"), "comment": form.get("comment", ""),
                  "forwarded": form.get("forward") in ("1", "true", "True"),
                  "status_ids": form.getall("status_ids[]", []),
                  "created_at": _iso(self.clock.now()),
                  "target_account": next((a for a in self.accounts.values()
                                          if a["id"] == form.get("account_id")), None)}
        self.reports.append(report)
        return web.json_response(report)

    def _relationship(self, account_id: str) -> dict[str, Any]:
        return {"id": account_id, "following": False, "followed_by": False,
                "blocking": account_id in self.blocked, "muting": account_id in self.muted,
                "muting_notifications": account_id in self.muted, "requested": False,
                "domain_blocking": False, "endorsed": False, "note": ""}

    async def _mute(self, request: web.Request) -> web.Response:
        form = await request.post()
        duration = form.get("duration")
        self.muted[request.match_info["id"]] = int(str(duration)) if duration else None
        return web.json_response(self._relationship(request.match_info["id"]))

    async def _block(self, request: web.Request) -> web.Response:
        self.blocked.add(request.match_info["id"])
        return web.json_response(self._relationship(request.match_info["id"]))

