"""Who counts as the host, and whether a message is theirs.

The hosts are the script's host, its co-hosts (`hosts:`), the platform's host account and any
named on the command line. Their posts are host posts: never answers, never a participant's.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.records import Message
from bot.script import ChatScript


def host_names_for(script: ChatScript, platform: str, extra: Iterable[str] = ()) -> set[str]:
    """Every name that means "the host" on a platform, lower-cased and without a leading @."""
    names = {n.lower().lstrip("@") for n in (*extra, script.model.host, *script.model.hosts) if n}
    account = script.settings_for(platform).get("host_account")
    if account:
        names.add(str(account).lower().lstrip("@"))
    return names


def is_host(message: Message, host_names: set[str], *, by_display_name: bool = True) -> bool:
    """Whether the author is one of the hosts, by handle or id (and display name).

    Live, `by_display_name` is off: anyone can take a display name, so only accounts count.
    """
    author = message.author  # no set built per message: this runs for every one imported
    handle = author.handle
    if handle and handle.lower().lstrip("@") in host_names:
        return True
    if author.id.lower() in host_names:
        return True
    return by_display_name and author.name.lower() in host_names
