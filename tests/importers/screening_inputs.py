"""One small chat per platform's import format, with a leak, abuse, a crisis and odd names.

Shared by the import screening tests: each platform's file holds the host's welcome, Q1
and close, and four participants' answers written as people write them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bot.archive import Archive
from bot.importers.common import ImportReport
from bot.platforms.bluesky.importer import import_bluesky
from bot.platforms.discord.importer import import_discord
from bot.platforms.mastodon.importer import import_mastodon
from bot.platforms.x.importer import import_x
from bot.script import ChatScript, load_script
from tests.conftest import chat_script, write_script
from tests.importers.test_discord_import import BOT, CHANNEL, export, msg
from tests.importers.test_x_import import HOST, SCRIPT, _v2, page_lines
from tests.platforms.test_opennets_import import HOST_DID, status, view

LEAK = ("A1 my patient's NHS number is 943 476 5919, ring her on 07911 123456, DOB "
        "12/03/1954, jane.doe@nhs.net, lives at SW1A 1AA")
NEEDLES = ("943 476 5919", "07911 123456", "12/03/1954", "jane.doe@nhs.net", "SW1A 1AA")
MASKS = ("[NHS number removed]", "[phone number removed]", "[date of birth removed]",
         "[email removed]", "[postcode removed]")
ABUSE = "A1 you are a fucking idiot"
CRISIS = "A1 honestly I want to kill myself tonight"
CLEAN = "A1 a long walk after every shift"
LEAKY_NAME = "Bed 4 Mrs Jones 943 476 5919"
BIDI_NAME = "Ann \u202eexe.gnp"
POSING_NAME = "Moderator"
# The checks that fire on the four answers, each once (the leak's five identifiers).
CHECKS = ["abuse", "crisis", "dob", "email", "nhs_number", "phone", "postcode"]


@dataclass(frozen=True)
class Chat:
    """A platform's file of the chat, its script, and how to import it."""

    platform: str
    path: Path
    script: ChatScript
    run: Callable[..., ImportReport]

    def load(self, archive: Archive, **options: Any) -> ImportReport:
        """Import the file into `archive`."""
        return self.run(archive, self.path, self.script, **options)


def _discord(tmp: Path) -> Chat:
    def who(uid: str, nickname: str) -> dict[str, Any]:
        return {"id": uid, "name": f"user{uid}", "discriminator": "0000",
                "nickname": nickname, "isBot": False, "roles": []}

    path = export(tmp / "export.json", CHANNEL, [
        msg(1000, 0, BOT, "Welcome to the test chat."), msg(1002, 1, BOT, "Q1 First question?"),
        msg(1003, 1.5, who("11", LEAKY_NAME), LEAK), msg(1004, 1.6, who("12", "Ben"), ABUSE),
        msg(1005, 1.7, who("13", POSING_NAME), CRISIS), msg(1006, 1.8, who("14", BIDI_NAME), CLEAN),
        msg(1009, 4, BOT, "Thanks all.")])
    script = load_script(write_script(tmp / "chats"))

    def run(archive: Archive, p: Path, s: ChatScript, **options: Any) -> ImportReport:
        return import_discord(archive, [p], s, **options)
    return Chat("discord", path, script, run)


def _x(tmp: Path) -> Chat:
    people = [{"id": str(101 + i), "username": f"user{i}", "name": name}
              for i, name in enumerate((LEAKY_NAME, "Ben", POSING_NAME, BIDI_NAME))]
    tweets = [_v2(1000, HOST, "Welcome to #NHSSM.", 0),
              _v2(2000, HOST, "Q1 What helps you switch off? #NHSSM", 10)]
    tweets += [_v2(2100 + i, person, text + " #NHSSM", 12 + i)
               for i, (person, text) in enumerate(zip(people, (LEAK, ABUSE, CRISIS, CLEAN),
                                                      strict=True))]
    tweets.append(_v2(4000, HOST, "Thanks all. #NHSSM", 55))
    path = tmp / "chat.jsonl"
    path.write_bytes(b"\n".join(page_lines(tweets, [HOST, *people])) + b"\n")
    script = load_script(write_script(tmp / "chats", SCRIPT, chat_id="nhssm"))
    return Chat("x", path, script, import_x)


def _at(second: int) -> str:
    return f"2026-11-25T20:{second // 60:02d}:{second % 60:02d}.000Z"


def _mastodon(tmp: Path) -> Chat:
    def said(sid: str, acct: str, name: str, text: str, second: int) -> dict[str, Any]:
        post = status(sid, acct, text, _at(second))
        post["account"]["display_name"] = name
        return post

    posts = [status("1001", "nhssm", "Welcome! #TestChat", _at(0)),
             status("1002", "nhssm", "Q1 First question? #TestChat", _at(60)),
             said("1003", "ann@remote.example", LEAKY_NAME, LEAK, 90),
             said("1004", "ben", "Ben", ABUSE, 95), said("1005", "cy", POSING_NAME, CRISIS, 100),
             said("1006", "di", BIDI_NAME, CLEAN, 105)]
    path = tmp / "mastodon.jsonl"
    path.write_bytes(orjson.dumps(posts) + b"\n")
    script = load_script(write_script(tmp / "chats", chat_script("[mastodon]")))

    def run(archive: Archive, p: Path, s: ChatScript, **options: Any) -> ImportReport:
        return import_mastodon(archive, p, s, host_accounts=["nhssm"], **options)
    return Chat("mastodon", path, script, run)


def _bluesky(tmp: Path) -> Chat:
    def said(rkey: str, who: str, name: str, text: str, second: int) -> dict[str, Any]:
        post = view(rkey, f"did:plc:{who}", f"{who}.bsky.social", text, _at(second))
        post["author"]["displayName"] = name
        return post

    posts = [view("3kwelcome", HOST_DID, "nhssm.bsky.social", "Welcome! #TestChat", _at(0)),
             view("3kq1", HOST_DID, "nhssm.bsky.social", "Q1 First question? #TestChat", _at(60)),
             said("3ka", "ann", LEAKY_NAME, LEAK, 90), said("3kb", "ben", "Ben", ABUSE, 95),
             said("3kc", "cy", POSING_NAME, CRISIS, 100), said("3kd", "di", BIDI_NAME, CLEAN, 105)]
    path = tmp / "bluesky.jsonl"
    path.write_bytes(orjson.dumps({"posts": posts}) + b"\n")
    script = load_script(write_script(tmp / "chats", chat_script("[bluesky]")))

    def run(archive: Archive, p: Path, s: ChatScript, **options: Any) -> ImportReport:
        return import_bluesky(archive, p, s, host_accounts=["nhssm.bsky.social"], **options)
    return Chat("bluesky", path, script, run)


CHATS: dict[str, Callable[[Path], Chat]] = {
    "discord": _discord, "x": _x, "mastodon": _mastodon, "bluesky": _bluesky}
