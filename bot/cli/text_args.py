"""Command-line text that must reach the archive: refused, as one line, unless it is UTF-8.

A terminal or script in another encoding passes bytes Python keeps as lone surrogates
(PEP 383); SQLite cannot store or look them up, and sqlite-utils raised UnicodeEncodeError.
"""

from __future__ import annotations

from bot.terminal import UserError


def utf8(value: str, what: str) -> str:
    """`value` unchanged when it is UTF-8 text, else a UserError naming `what`."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise UserError(f"{what} {shown}: not UTF-8 text; type it again in a UTF-8 terminal "
                        "(LANG=C.UTF-8)") from None
    return value
