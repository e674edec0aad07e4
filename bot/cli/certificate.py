"""`tweetchat certificate`: one participant's CPD certificate, from the archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.terminal import (
    ConfigOpt,
    UserError,
    console,
    require_session,
    settings_from,
    user_markup,
)


def certificate(
    session: Annotated[int, typer.Argument(help="Session id (see `tweetchat sessions`).")],
    who: Annotated[str, typer.Argument(
        metavar="PLATFORM:USER",
        help='An id, display name or handle: web:w1a2b3, web:"Ann Smith", x:@handle')],
    out: Annotated[Path | None, typer.Option(
        help="Directory to write into (default: the current directory).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Write a printable CPD certificate of participation for one person in one session.

    certificate-<user>.html: the chat, date, time and length, every message they posted
    under the question it answered, and the NMC reflective-account prompts to fill in.
    It is personal: it is not put in the public transcripts folder.

    Examples:

      tweetchat certificate 12 web:w1a2b3

      tweetchat certificate 12 x:@nursejo --out ~/cpd

      tweetchat certificate 12 web:"Ann Smith"
    """
    from bot.platforms import registry
    from bot.publishing import Publisher
    from bot.transcript.certificate import CertificateError

    platform, _, user = who.partition(":")
    if platform not in registry.PLATFORMS or not user.strip():
        people = ", ".join(n for n, row in registry.PLATFORMS.items() if row.for_people)
        raise UserError(f"{who}: write PLATFORM:USER, e.g. web:w1a2b3 (platform {people}; "
                        "the user id as `tweetchat search --json` shows it)")
    settings = settings_from(config)
    require_session(settings, session)
    try:
        path = Publisher.from_settings(settings).certificate_now(
            session, platform, user, out or Path.cwd())
    except CertificateError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{out}: cannot write there ({exc.strerror})") from None
    console.print(user_markup(path), highlight=False)
