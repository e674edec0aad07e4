"""The discord.py client that every Discord chat of one App shares.

Discord allows one gateway connection per token that is worth having: two would each receive
every event and every interaction. The first chat to start logs in, later ones wait for the
same login, the last one to stop closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.platforms.base import PlatformSetupError

if TYPE_CHECKING:
    from bot.app import App
    from bot.platforms.discord.adapter import DiscordPlatform

READY_TIMEOUT = 60.0

Handler = Callable[..., Coroutine[Any, Any, None]]


class SharedClient:
    """One discord.py client shared by every Discord chat of an App.

    Discord allows one gateway connection per token that is worth having: two would each
    receive every event and every interaction. So the first chat to start logs in, later
    ones wait for the same login, and the last one to stop closes the client. A client
    handed in (`token=None`: tests, or a caller that logged in itself) is only borrowed:
    never logged in or closed here.
    """

    def __init__(self, client: discord.Client, *, token: str | None, app: App | None = None
                 ) -> None:
        self.client = client
        self._token = token  # never logged
        self.app = app
        self.users: set[DiscordPlatform] = set()
        self.connect_task: asyncio.Task[None] | None = None
        self.closed = False
        self._ready: asyncio.Future[None] | None = None

    @property
    def owned(self) -> bool:
        return self._token is not None

    async def acquire(self, user: DiscordPlatform) -> None:
        """Count `user` in; log in if nobody has yet, else wait for that login to finish."""
        self.users.add(user)
        if not self.owned:
            return
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._login())
        # shield: a chat whose start is cancelled must not cancel the login the others share
        await asyncio.shield(self._ready)

    async def release(self, user: DiscordPlatform) -> None:
        """Count `user` out; the last one takes the /chat commands away and closes the client."""
        self.users.discard(user)
        if self.users or self.closed:
            return
        if self.app is not None:
            from bot.platforms.discord.commands import uninstall

            await uninstall(self.client, self.app)
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
        self.closed = True
        app = self.app
        if app is not None and getattr(app, "discord_client", None) is self.client:
            app.discord_client = None  # a closed client cannot log in again: the next makes one
        await self.client.close()
        if self.connect_task is not None:
            self.connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.connect_task
            self.connect_task = None


# App -> the client its Discord chats share. Weak, so a finished App takes its entry along.
_SHARES: weakref.WeakKeyDictionary[Any, SharedClient] = weakref.WeakKeyDictionary()


def shared_client(app: App) -> SharedClient:
    """The App's shared client: `app.discord_client` if one is set (borrowed), else one made
    here, stored on the App and logged in by the first chat that starts."""
    share = _SHARES.get(app)
    client = getattr(app, "discord_client", None)
    if share is not None and not share.closed and share.client is client:
        return share
    if client is not None:
        share = SharedClient(client, token=None, app=app)
    else:
        token = app.settings.secrets.discord_token
        if token is None:
            raise PlatformSetupError(
                "Discord: DISCORD_TOKEN is not set; put the bot token in the environment or "
                ".env (see docs/discord.md)"
            )
        share = SharedClient(make_client(), token=token.get_secret_value(), app=app)
        app.discord_client = share.client
    _SHARES[app] = share
    return share


def make_client() -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = True  # privileged: must also be switched on in the portal
    intents.members = False
    return commands.Bot(command_prefix=commands.when_mentioned, intents=intents)


class Fanout:
    """The handler a plain discord.Client calls for one event, shared by several chats (and
    by whatever handler was set before them), each of which can take its own back out."""

    def __init__(self, previous: Handler | None) -> None:
        self.handlers: list[Handler] = [previous] if previous is not None else []

    async def __call__(self, *args: Any) -> None:
        for handler in list(self.handlers):
            await handler(*args)
