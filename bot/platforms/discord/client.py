"""The discord.py client that every Discord chat of the bot shares, owned by this package.

Discord allows one gateway connection per token that is worth having: two would each receive
every event and every interaction. The first chat to start logs in, later ones wait for the
same login, the last one to stop takes the /chat commands away and closes it. The share is
this module's state (the bot itself never holds a client); `lend` hands in a client that is
already logged in (dpytest's in tests), which is borrowed, never logged in or closed here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.platforms.base import PlatformSetupError

if TYPE_CHECKING:
    from bot.settings import Settings

READY_TIMEOUT = 60.0

Handler = Callable[..., Coroutine[Any, Any, None]]


class SharedClient:
    """One discord.py client shared by every Discord chat.

    Discord allows one gateway connection per token that is worth having: two would each
    receive every event and every interaction. So the first chat to start logs in, later
    ones wait for the same login, and the last one to stop closes the client. A client
    handed in (`token=None`: tests, or a caller that logged in itself) is only borrowed:
    never logged in or closed here.
    """

    def __init__(self, client: discord.Client, *, token: str | None) -> None:
        self.client = client
        self._token = token  # never logged
        self.users: set[object] = set()  # the chats (adapters) using it
        self.connect_task: asyncio.Task[None] | None = None
        self.closed = False
        self._ready: asyncio.Future[None] | None = None

    @property
    def owned(self) -> bool:
        """Whether this package logged the client in (and so closes it)."""
        return self._token is not None

    async def acquire(self, user: object) -> None:
        """Count `user` in; log in if nobody has yet, else wait for that login to finish."""
        self.users.add(user)
        if not self.owned:
            return
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._login())
        # shield: a chat whose start is cancelled must not cancel the login the others share
        await asyncio.shield(self._ready)

    def is_last(self, user: object) -> bool:
        """Whether `user` is the only chat still on the client."""
        return self.users <= {user} and not self.closed

    async def release(self, user: object) -> None:
        """Count `user` out; the last one closes a client this package logged in."""
        self.users.discard(user)
        if self.users or self.closed:
            return
        if self.owned and self._ready is not None:
            await self._close()

    async def _login(self) -> None:
        assert self._token
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            raise PlatformSetupError(
                "Discord: the bot token was rejected; set DISCORD_TOKEN to the token "
                "from Developer Portal > Bot"
            ) from None
        self.connect_task = asyncio.create_task(self.client.connect(), name="discord-connect")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {self.connect_task, ready},
            timeout=READY_TIMEOUT,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done and ready.exception() is None:
            return
        ready.cancel()
        if self.connect_task in done:
            exc = self.connect_task.exception()
            if isinstance(exc, discord.PrivilegedIntentsRequired):
                raise PlatformSetupError(
                    "Discord: the Message Content intent is not enabled for this bot; switch "
                    "it on in Developer Portal > Bot > Privileged Gateway Intents"
                )
            raise PlatformSetupError(f"Discord: could not connect to the gateway ({exc})")
        raise PlatformSetupError(
            f"Discord: not ready after {READY_TIMEOUT:.0f}s; check the network and the token"
        )

    async def _close(self) -> None:
        global _share
        self.closed = True
        if _share is self:
            _share = None  # a closed client cannot log in again: the next start makes one
        await self.client.close()
        if self.connect_task is not None:
            self.connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.connect_task
            self.connect_task = None


_share: SharedClient | None = None  # the client every Discord chat of this process uses
_lent: discord.Client | None = None  # a logged-in client handed in with lend()


def lend(client: discord.Client | None) -> None:
    """Use this already logged-in client for every Discord chat (tests hand in dpytest's).

    None goes back to logging in with DISCORD_TOKEN.
    """
    global _lent, _share
    _lent = client
    if _share is not None and _share.client is not client:
        _share = None


def current() -> discord.Client | None:
    """The client the Discord chats share right now, if any."""
    return _share.client if _share is not None and not _share.closed else None


def shared_client(settings: Settings) -> SharedClient:
    """The shared client: the lent one if any, else one made here.

    A client made here is logged in (with DISCORD_TOKEN) by the first chat that starts.
    """
    global _share
    if _share is not None and not _share.closed:
        return _share
    if _lent is not None:
        _share = SharedClient(_lent, token=None)
        return _share
    token = settings.secrets.discord_token
    if token is None:
        raise PlatformSetupError(
            "Discord: DISCORD_TOKEN is not set; put the bot token in the environment or "
            ".env (see docs/discord.md)"
        )
    _share = SharedClient(make_client(), token=token.get_secret_value())
    return _share


def make_client() -> commands.Bot:
    """A new client with the intents the chats need (message content: privileged)."""
    intents = discord.Intents.default()
    intents.message_content = True  # privileged: must also be switched on in the portal
    intents.members = False
    return commands.Bot(command_prefix=commands.when_mentioned, intents=intents)


class Fanout:
    """The handler a plain discord.Client calls for one event, shared by several chats.

    Whatever handler was set before them is kept; each chat can take its own back out.
    """

    def __init__(self, previous: Handler | None) -> None:
        self.handlers: list[Handler] = [previous] if previous is not None else []

    async def __call__(self, *args: Any) -> None:
        """Hand the event to every handler, in the order they were added."""
        for handler in list(self.handlers):
            await handler(*args)


def add_listeners(client: discord.Client, handlers: dict[str, Handler]) -> None:
    """Add one chat's event handlers to the shared client, beside every other chat's."""
    for event, handler in handlers.items():
        if isinstance(client, commands.Bot):
            client.add_listener(handler, event)
            continue
        # A plain Client dispatches to one attribute per event: share it through a fan-out.
        fanout = getattr(client, event, None)
        if not isinstance(fanout, Fanout):
            fanout = Fanout(fanout)
            setattr(client, event, fanout)
        fanout.handlers.append(handler)


def remove_listeners(client: discord.Client, handlers: dict[str, Handler]) -> None:
    """Take one chat's handlers back out; the other chats keep theirs."""
    for event, handler in handlers.items():
        if isinstance(client, commands.Bot):
            client.remove_listener(handler, event)
            continue
        fanout = getattr(client, event, None)
        if isinstance(fanout, Fanout) and handler in fanout.handlers:
            fanout.handlers.remove(handler)
