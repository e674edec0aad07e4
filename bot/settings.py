"""Settings: config/settings.toml, then the environment (and .env through python-dotenv).

Read once at start-up into a frozen object and passed down; nothing reads the environment
at import time. Secrets are SecretStr: they print as '**********' and never reach a log.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

SECRET_VARIABLES = (
    "MODERATOR_TOKEN",
    "DISCORD_TOKEN",
    "X_API_KEY",
    "X_API_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
    "X_BEARER_TOKEN",
    "BLUESKY_HANDLE",
    "BLUESKY_APP_PASSWORD",
    "MASTODON_ACCESS_TOKEN",
)
# Plain settings that the environment may override: variable -> (section, key).
ENV_OVERRIDES = {
    "TWEETCHAT_ARCHIVE": ("archive", "path"),
    "TWEETCHAT_JOBS_DB": ("scheduler", "jobs_db"),
    "TWEETCHAT_TRANSCRIPTS_DIR": ("archive", "transcripts_dir"),
    "TWEETCHAT_CHATS_DIR": ("chats", "dir"),
    "TWEETCHAT_HOST": ("web", "host"),
    "TWEETCHAT_PORT": ("web", "port"),
    "TWEETCHAT_PUBLIC_URL": ("web", "public_url"),
    "TWEETCHAT_MODERATION_POLICY": ("moderation", "policy"),
    "TWEETCHAT_X_API_BASE": ("x", "api_base"),
    "TWEETCHAT_BLUESKY_SERVICE": ("bluesky", "service"),
    "MASTODON_API_BASE_URL": ("mastodon", "api_base_url"),
}


# The settings file when neither --config nor TWEETCHAT_CONFIG names one; missing, the
# defaults (a checkout run from elsewhere, an installed bot with no file of its own).
DEFAULT_CONFIG = Path("config/settings.toml")


class SettingsError(Exception):
    """A problem in settings.toml or the environment, as one plain line."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArchiveSettings(_Section):
    """`[archive]`: where the archive database and the transcripts go."""

    path: Path = Path("transcripts/archive.db")
    transcripts_dir: Path = Path("transcripts")


class ChatsSettings(_Section):
    """`[chats]`: the folder of chat scripts."""

    dir: Path = Path("chats")


class WebSettings(_Section):
    """`[web]`: where the web room listens, its public address and its limits."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""  # how people reach the room, for links in posts and invites
    max_message_chars: int = 1000
    messages_per_minute: int = Field(default=20, ge=1)  # per participant (and connection)
    # Per client address, across every key it makes up: generous, since a hospital's staff
    # may share one NAT address (moderation also judges floods per address, at 10x).
    messages_per_minute_per_address: int = Field(default=120, ge=1)
    max_connections_per_address: int = Field(default=20, ge=1)  # open room WebSockets
    # Plain JSON reads of a room (`GET /api/chats/<chat>/state`) per client address: each
    # one reads the archive, so a client polling in a loop must not take the room's time.
    state_requests_per_minute_per_address: int = Field(default=120, ge=1)
    # Proxies (exact addresses) whose X-Forwarded-For names the real client; empty: trust none.
    trusted_proxies: tuple[str, ...] = ()
    moderator_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    edit_window_minutes: int = 5


class HostSettings(_Section):
    """`[host]`: retries for failed posts and the windows around a session."""

    retry_attempts: int = 5
    retry_base_seconds: float = 1.0
    # A platform refusing every post until a top-up (X's 402): ask again from this wait,
    # doubling to the cap; give the owed posts up after the limit (bot/held_posts.py).
    held_retry_seconds: float = Field(default=60.0, ge=1.0, le=86400.0)
    held_retry_cap_seconds: float = Field(default=900.0, ge=1.0, le=86400.0)
    held_limit_hours: float = Field(default=24.0, gt=0.0, le=24.0 * 30)
    late_window_minutes: int = 120  # late replies still belong to the session
    lead_in_minutes: int = 15  # messages this long before the start belong to it too


class SchedulerSettings(_Section):
    """`[scheduler]`: how far ahead jobs are planned, and their store."""

    horizon_days: int = 8  # jobs are planned this far ahead and re-planned daily
    # Beside the archive unless set: a job store left in the working directory (as tests
    # once left transcripts/scheduler.db in the checkout) is picked up by the next `run`.
    jobs_db: Path = Path("transcripts/scheduler.db")


class ModerationSettings(_Section):
    """`[moderation]`: the policy file, and whether moderation is on."""

    policy: Path = Path("config/moderation.toml")
    enabled: bool = True


class DiscordSettings(_Section):
    """`[discord]`: the server, channel, moderator role and mod log."""

    guild_id: str = ""
    channel_id: str = ""
    moderator_role: str = "Moderator"
    mod_log_channel_id: str = ""


class XSettings(_Section):
    """`[x]`: the API address, polling, backfill and the host's account."""

    api_base: str = "https://api.x.com"
    poll_seconds: float = 15.0
    backfill_window_minutes: int = 120
    host_account: str = ""


class BlueskySettings(_Section):
    """`[bluesky]`: the PDS, polling and backfill."""

    service: str = "https://bsky.social"  # the PDS (or a fake) the SDK talks to
    poll_seconds: float = 20.0
    backfill_window_minutes: int = 120
    jetstream: str = ""  # a Jetstream /subscribe URL for live collection; "" polls only


class MastodonSettings(_Section):
    """`[mastodon]`: the instance, polling and post visibility."""

    api_base_url: str = ""  # the instance, e.g. https://mastodon.social
    poll_seconds: float = 20.0
    visibility: Literal["public", "unlisted"] = "public"
    streaming: bool = True  # the hashtag stream where the instance allows it; polling else


class Secrets(_Section):
    """Tokens and passwords, from the environment or .env only, never settings.toml."""

    moderator_token: SecretStr | None = None
    discord_token: SecretStr | None = None
    x_api_key: SecretStr | None = None
    x_api_secret: SecretStr | None = None
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    x_bearer_token: SecretStr | None = None
    bluesky_handle: SecretStr | None = None
    bluesky_app_password: SecretStr | None = None
    mastodon_access_token: SecretStr | None = None


class Settings(_Section):
    """Every setting, read once from settings.toml and the environment."""

    archive: ArchiveSettings = ArchiveSettings()
    chats: ChatsSettings = ChatsSettings()
    web: WebSettings = WebSettings()
    host: HostSettings = HostSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    moderation: ModerationSettings = ModerationSettings()
    discord: DiscordSettings = DiscordSettings()
    x: XSettings = XSettings()
    bluesky: BlueskySettings = BlueskySettings()
    mastodon: MastodonSettings = MastodonSettings()
    secrets: Secrets = Secrets()
    source: str = "defaults"

    @property
    def moderator_token_file(self) -> Path:
        """Where the bot keeps the token it made when MODERATOR_TOKEN is unset (mode 0600)."""
        return Path(self.archive.transcripts_dir) / ".moderator-token"

    @property
    def bot_url(self) -> str:
        """Where this machine's running bot listens (the control API and the web room)."""
        return f"http://{self.web.host}:{self.web.port}"

    def masked(self) -> dict[str, Any]:
        """Every setting, secrets shown only as set or not set."""
        data = self.model_dump(mode="json", exclude={"secrets"})
        data["secrets"] = {
            name.upper(): ("set (hidden)" if getattr(self.secrets, name) else "not set")
            for name in Secrets.model_fields
        }
        return data


def _not_utf8(path: str | Path, error: UnicodeDecodeError) -> str:
    """The one line for a settings or .env file that is not UTF-8 text."""
    return (f"{path}: byte {error.start + 1} is not UTF-8 text; save the file as UTF-8 "
            "(a text editor's \"UTF-8\" encoding)")


def _named_but_missing(path: Path) -> str:
    """Why the file TWEETCHAT_CONFIG names cannot be read, and how to fix it (one line).

    Named on purpose, it must be there: running on the defaults instead would put the
    archive, the room and the moderation policy somewhere the user did not mean.
    """
    what = "which is not a file" if path.exists() else "which does not exist"
    return (f"TWEETCHAT_CONFIG names {path}, {what}; set it to your settings file "
            "(config/settings.toml lists every key), or unset it to run on the defaults")


def load_settings(
    config: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = ".env",
) -> Settings:
    """Build Settings from a TOML file (optional) and the environment (plus .env)."""
    env: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        try:
            env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        except UnicodeDecodeError as exc:
            raise SettingsError(_not_utf8(env_file, exc)) from None
    env.update(os.environ if environ is None else environ)  # the real environment wins

    named = env.get("TWEETCHAT_CONFIG", "") if not config else ""
    path = Path(config or named or DEFAULT_CONFIG)
    data: dict[str, Any] = {}
    source = "defaults"
    if named and not path.is_file():
        raise SettingsError(_named_but_missing(path))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}; fix the TOML syntax") from None
        except UnicodeDecodeError as exc:
            raise SettingsError(_not_utf8(path, exc)) from None
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read it ({exc.strerror}); check its "
                                "permissions") from None
        source = str(path)
    elif config:
        raise SettingsError(f"{path}: settings file not found; check the --config path")

    for variable, (section, key) in ENV_OVERRIDES.items():
        if env.get(variable):
            data.setdefault(section, {})[key] = env[variable]
    scheduler, archive = data.get("scheduler", {}), data.get("archive", {})
    if isinstance(scheduler, dict) and isinstance(archive, dict) and "jobs_db" not in scheduler:
        where = archive.get("path")
        archive_path = Path(where) if isinstance(where, str) and where else ArchiveSettings().path
        data["scheduler"] = {**scheduler, "jobs_db": str(archive_path.parent / "scheduler.db")}
    data["secrets"] = {
        name.lower(): env[name] for name in SECRET_VARIABLES if env.get(name, "").strip()
    }
    data["source"] = source
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SettingsError(
            f"{path}: [{where}] {err['msg']}; see config/settings.toml for the allowed keys"
        ) from None
