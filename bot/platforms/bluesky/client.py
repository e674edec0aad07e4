"""The HTTP side of the Bluesky adapter: the atproto SDK's AsyncClient.

It is pointed at a configurable service, with its errors turned into ours and its
answers kept as raw JSON.

Reads go through `invoke_query` so the adapter gets the response exactly as the AppView
sent it (stored verbatim in message_raw) while the SDK still does the session, refresh and
error mapping. Every answer is bounded (a page of posts, a thread's node count) where it
enters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atproto import AsyncClient, models
from atproto_client import exceptions as atx

from bot.clock import Clock
from bot.platforms.base import PlatformError, PlatformSetupError
from bot.platforms.polling import RateLimited, Transient, next_interval

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "https://bsky.social"
POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
BLOCK = "app.bsky.graph.block"
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"  # the atproto-proxy header for chat.bsky.*
MAX_DM = 1_000  # characters of one direct message (the lexicon allows 10,000 bytes)
MAX_HIDDEN = 300  # hiddenReplies in one threadgate (app.bsky.feed.threadgate)


@dataclass(frozen=True)
class BlueskyCredentials:
    """Handle and app password. Never logged: repr shows only which are present."""

    handle: str | None = None
    app_password: str | None = None

    def missing(self) -> list[str]:
        """The names of the credentials that are not set."""
        names = {"BLUESKY_HANDLE": self.handle, "BLUESKY_APP_PASSWORD": self.app_password}
        return [k for k, v in names.items() if not (v and v.strip())]

    @classmethod
    def from_secrets(cls, secrets: Any) -> BlueskyCredentials:
        """Credentials from settings secrets (SecretStr or plain values)."""
        def reveal(name: str) -> str | None:
            value = getattr(secrets, name, None)
            if value is None:
                return None
            return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)

        return cls(reveal("bluesky_handle"), reveal("bluesky_app_password"))

    def __repr__(self) -> str:
        return f"BlueskyCredentials(<hidden>, missing={self.missing()})"


@dataclass(frozen=True)
class BlueskyAccountReport:
    """What `tweetchat bluesky check` prints."""

    did: str
    handle: str
    name: str
    service: str
    can_search: bool
    search_detail: str
    can_dm: bool = False  # the app password reaches the chat service (private signposts)
    dm_detail: str = ""


def xrpc_message(error: atx.AtProtocolError) -> str:
    """A one-line description of an XRPC error: its name, message and HTTP status."""
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    name = getattr(content, "error", None)
    message = getattr(content, "message", None)
    status = getattr(response, "status_code", None)
    text = ": ".join(str(p) for p in (name, message) if p)
    return text or (f"HTTP {status}" if status else type(error).__name__)


def _reset_of(error: atx.AtProtocolError) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        return float(str(headers.get("ratelimit-reset") or headers.get("RateLimit-Reset")))
    except (TypeError, ValueError):
        return None


def rkey_of(uri: str) -> str:
    """The record key (last path part) of an AT URI."""
    return uri.rsplit("/", 1)[-1]


def did_of(uri: str) -> str:
    """The repository DID of an AT URI."""
    return uri.removeprefix("at://").split("/", 1)[0]


class BlueskyClient:
    """One logged-in account on one service.

    Every call returns plain JSON or raises PlatformError (RateLimited / Transient for
    what waiting can fix).
    """

    def __init__(self, credentials: BlueskyCredentials, service: str = DEFAULT_SERVICE, *,
                 timeout: float = 20.0, clock: Clock | None = None) -> None:
        self.credentials = credentials
        self.service = service.rstrip("/")
        self.timeout = timeout
        self.clock = clock or Clock()
        self.did = ""
        self.handle = ""
        self.display_name = ""
        self.remaining: int | None = None
        self.reset: float | None = None
        self._sdk: AsyncClient | None = None
        self._chat_sdk: AsyncClient | None = None

    @property
    def sdk(self) -> AsyncClient:
        """The logged-in SDK client; PlatformError when not started."""
        if self._sdk is None:
            raise PlatformError("the Bluesky adapter is not started (call start() first)",
                                retryable=False)
        return self._sdk

    async def login(self) -> None:
        """Create a session with the app password; PlatformSetupError with one plain line."""
        missing = self.credentials.missing()
        if missing:
            them = "it" if len(missing) == 1 else "them"
            raise PlatformSetupError(
                f"Bluesky: {', '.join(missing)} not set; add {them} to .env (an app password "
                "from Settings > Privacy and security > App passwords; see docs/bluesky.md), "
                "then run `tweetchat bluesky check`")
        from bot.platforms.bluesky.wire import DeepTolerantRequest

        self._sdk = AsyncClient(self.service, request=DeepTolerantRequest(timeout=self.timeout))
        try:
            profile = await self._sdk.login(self.credentials.handle, self.credentials.app_password)
        except atx.UnauthorizedError as e:
            raise PlatformSetupError(
                "Bluesky: the handle or app password was rejected; check BLUESKY_HANDLE and "
                "BLUESKY_APP_PASSWORD in .env (use an app password, not the account's)") from e
        except atx.AtProtocolError as e:
            raise PlatformSetupError(
                f"Bluesky: cannot log in at {self.service}: {xrpc_message(e)}") from e
        session = self._sdk._session
        self.did = str(getattr(session, "did", "") or "")
        self.handle = str(getattr(session, "handle", "") or self.credentials.handle or "")
        self.display_name = (getattr(profile, "display_name", None) or self.handle)

    async def close(self) -> None:
        """Close the HTTP pool; a failure to close is logged, not raised."""
        sdk, self._sdk, self._chat_sdk = self._sdk, None, None
        if sdk is not None:
            try:
                await sdk.request.close()
            except Exception:  # closing a broken pool must not hide the real error
                log.debug("Bluesky: closing the HTTP pool failed", exc_info=True)

    async def _call(self, kind: str, nsid: str, params: Any = None, data: Any = None,
                    *, answered: bool = True, chat: bool = False) -> dict[str, Any]:
        sdk = self._chat() if chat else self.sdk
        try:
            if kind == "query":
                response = await sdk.invoke_query(nsid, params=params,
                                                  output_encoding="application/json")
            else:
                response = await sdk.invoke_procedure(
                    nsid, data=data, input_encoding="application/json",
                    output_encoding="application/json")
        except atx.RateLimitExceededError as e:
            raise RateLimited("Bluesky rate limit reached", _reset_of(e)) from e
        except (atx.InvokeTimeoutError, atx.NetworkError) as e:
            raise Transient(f"no answer from Bluesky ({xrpc_message(e)})") from e
        except atx.BadRequestError as e:
            raise PlatformError(f"Bluesky refused {nsid}: {xrpc_message(e)}",
                                retryable=False) from e
        except atx.UnauthorizedError as e:
            raise PlatformError(f"Bluesky refused {nsid} (not allowed): {xrpc_message(e)}",
                                retryable=False) from e
        except atx.RequestException as e:
            status = getattr(getattr(e, "response", None), "status_code", 0) or 0
            raise (Transient if status >= 500 else PlatformError)(
                f"Bluesky {nsid} failed: {xrpc_message(e)}") from e
        self._note_limits(response.headers)
        content = response.content
        if not answered and not content:
            return {}  # a procedure with no output (muteActor): success is the 200
        if not isinstance(content, dict):
            raise Transient(f"Bluesky {nsid} answered with no JSON object")
        return content

    def _note_limits(self, headers: Mapping[str, str]) -> None:
        lower = {k.lower(): v for k, v in (headers or {}).items()}
        try:
            self.remaining = int(lower["ratelimit-remaining"])
            self.reset = float(lower["ratelimit-reset"])
        except (KeyError, ValueError):
            pass

    def next_interval(self, minimum: float, requests_per_cycle: int) -> float:
        """Seconds until the next poll, spreading the rate-limit budget left."""
        return next_interval(minimum, self.remaining, self.reset,
                             self.clock.now().timestamp(), requests_per_cycle)

    # ----------------------------------------------------------------- calls

    async def search(self, tag: str, *, since: str | None, cursor: str | None,
                     limit: int) -> dict[str, Any]:
        """One page of searchPosts for `#tag`, newest first, as raw JSON."""
        params = models.AppBskyFeedSearchPosts.Params(
            q=f"#{tag}", tag=[tag], sort="latest", since=since, cursor=cursor, limit=limit)
        return await self._call("query", "app.bsky.feed.searchPosts", params)

    async def thread(self, uri: str, depth: int = 100) -> dict[str, Any] | None:
        """The thread under `uri`, or None when the post is gone."""
        params = models.AppBskyFeedGetPostThread.Params(uri=uri, depth=depth, parent_height=0)
        try:
            return await self._call("query", "app.bsky.feed.getPostThread", params)
        except PlatformError as e:
            if "NotFound" in str(e):
                return None
            raise

    async def posts(self, uris: list[str]) -> dict[str, Any]:
        """Those of `uris` (at most 25) that still exist, as post views."""
        params = models.AppBskyFeedGetPosts.Params(uris=uris[:25])
        return await self._call("query", "app.bsky.feed.getPosts", params)

    async def author_feed(self, actor: str, cursor: str | None, limit: int = 50
                          ) -> dict[str, Any]:
        """One page of an account's own posts (newest first), as raw JSON."""
        params = models.AppBskyFeedGetAuthorFeed.Params(actor=actor, cursor=cursor, limit=limit,
                                                        filter="posts_with_replies")
        return await self._call("query", "app.bsky.feed.getAuthorFeed", params)

    async def resolve_handle(self, handle: str) -> str | None:
        """The DID of `handle`, or None when it cannot be resolved."""
        try:
            body = await self._call("query", "com.atproto.identity.resolveHandle",
                                    models.ComAtprotoIdentityResolveHandle.Params(handle=handle))
        except PlatformError:
            return None
        did = body.get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None

    async def create_post(self, record: dict[str, Any]) -> tuple[str, str]:
        """(uri, cid) of the new post."""
        data = models.ComAtprotoRepoCreateRecord.Data(repo=self.did, collection=POST,
                                                      record=record)
        body = await self._call("procedure", "com.atproto.repo.createRecord", data=data)
        return str(body["uri"]), str(body["cid"])

    async def delete_post(self, uri: str) -> None:
        """Delete one of the account's own posts."""
        data = models.ComAtprotoRepoDeleteRecord.Data(repo=self.did, collection=POST,
                                                      rkey=rkey_of(uri))
        await self._call("procedure", "com.atproto.repo.deleteRecord", data=data)

    async def get_threadgate(self, root_uri: str) -> dict[str, Any] | None:
        """The threadgate record on a root post, or None when it has none."""
        params = models.ComAtprotoRepoGetRecord.Params(repo=self.did, collection=THREADGATE,
                                                       rkey=rkey_of(root_uri))
        try:
            body = await self._call("query", "com.atproto.repo.getRecord", params)
        except PlatformError as e:
            if "RecordNotFound" in str(e):
                return None
            raise
        value = body.get("value")
        return dict(value) if isinstance(value, dict) else None

    async def put_threadgate(self, root_uri: str, record: dict[str, Any]) -> None:
        """Write the root post's threadgate (its rkey is the root post's rkey)."""
        data = models.ComAtprotoRepoPutRecord.Data(repo=self.did, collection=THREADGATE,
                                                   rkey=rkey_of(root_uri), record=record)
        await self._call("procedure", "com.atproto.repo.putRecord", data=data)

    async def report(self, uri: str, cid: str, reason: str) -> None:
        """Report a post to the service's moderators as rude."""
        data = models.ComAtprotoModerationCreateReport.Data(
            reason_type="com.atproto.moderation.defs#reasonRude", reason=reason[:2000],
            subject=models.ComAtprotoRepoStrongRef.Main(uri=uri, cid=cid))
        await self._call("procedure", "com.atproto.moderation.createReport", data=data)


    def _chat(self) -> AsyncClient:
        """The same session, its requests proxied by the PDS to the chat service."""
        if self._chat_sdk is None:
            self._chat_sdk = self.sdk.with_bsky_chat_proxy()  # atproto-proxy: CHAT_PROXY
        return self._chat_sdk

    async def chat_ready(self) -> None:
        """Whether the chat service serves this session (listConvos); PlatformError if not."""
        await self._call("query", "chat.bsky.convo.listConvos",
                         models.ChatBskyConvoListConvos.Params(limit=1), chat=True)

    async def send_dm(self, did: str, text: str) -> str:
        """Send `text` to `did` as a direct message (chat.bsky.convo); the message's id.

        Needs an app password made with direct-message access; the chat service refuses
        others, and refuses a recipient who does not take messages from the bot.
        """
        convo = await self._call("query", "chat.bsky.convo.getConvoForMembers",
                                 models.ChatBskyConvoGetConvoForMembers.Params(members=[did]),
                                 chat=True)
        convo_id = (convo.get("convo") or {}).get("id")
        if not isinstance(convo_id, str) or not convo_id:
            raise PlatformError("Bluesky's chat service opened no conversation",
                                retryable=False)
        message = models.ChatBskyConvoDefs.MessageInput(text=text[:MAX_DM])
        body = await self._call("procedure", "chat.bsky.convo.sendMessage", chat=True,
                                data=models.ChatBskyConvoSendMessage.Data(convo_id=convo_id,
                                                                          message=message))
        return str(body.get("id") or "")

    async def mute(self, did: str) -> None:
        """Mute an account for the bot's account (Bluesky mutes are private and untimed)."""
        await self._call("procedure", "app.bsky.graph.muteActor",
                         data=models.AppBskyGraphMuteActor.Data(actor=did), answered=False)

    async def block(self, did: str, at: str) -> str:
        """Block an account from the bot's account: an app.bsky.graph.block record; its uri."""
        record = {"$type": "app.bsky.graph.block", "subject": did, "createdAt": at}
        data = models.ComAtprotoRepoCreateRecord.Data(repo=self.did, collection=BLOCK,
                                                      record=record)
        return str((await self._call("procedure", "com.atproto.repo.createRecord",
                                     data=data))["uri"])


def iso_time(at: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, the form Bluesky writes (and sorts as text)."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def now_iso(clock: Clock) -> str:
    """The clock's time in Bluesky's ISO format."""
    return iso_time(clock.now())



async def check_credentials(credentials: BlueskyCredentials, *, service: str = DEFAULT_SERVICE,
                            hashtag: str = "", clock: Clock | None = None
                            ) -> BlueskyAccountReport:
    """For `tweetchat bluesky check`: who the app password posts as, and whether search works."""
    client = BlueskyClient(credentials, service, clock=clock)
    await client.login()
    try:
        tag = hashtag.strip().lstrip("#") or "bluesky"
        try:
            await client.search(tag, since=None, cursor=None, limit=1)
            can_search, detail = True, f"searchPosts answers for #{tag}"
        except PlatformError as e:
            can_search, detail = False, str(e)
        try:
            await client.chat_ready()
            can_dm, dm_detail = True, "the chat service answers: crisis signposts go by DM"
        except PlatformError as e:
            can_dm, dm_detail = False, (f"{e}: crisis signposts go to the moderators only "
                                        "(docs/bluesky.md)")
    finally:
        await client.close()
    return BlueskyAccountReport(client.did, client.handle, client.display_name, service,
                                can_search, detail, can_dm, dm_detail)
