"""Reading a posted HTML form: bounded in size, and a 400 with a sentence when malformed.

aiohttp's `request.post()` raises whatever its parsers meet: UnicodeDecodeError for a
field that is not UTF-8, LookupError for `charset=bogus`, ValueError for multipart with
no boundary or a part with no name, BadHttpMessage for a part's broken headers,
RuntimeError for an unknown transfer encoding. Unhandled, each was a 500. Every form
route reads its body through `read_form` instead.
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)

AGAIN = "Reload the page and send it again from there."
UNREADABLE = ("The form could not be read (it was not sent as a browser sends a form, "
              f"or not in UTF-8). {AGAIN}")


async def read_form(request: web.Request, max_bytes: int | None = None,
                    files: tuple[str, ...] = ()) -> dict[str, str | web.FileField]:
    """The request's form fields; 413 past `max_bytes` (declared length), 400 if malformed.

    Every field is text except those named in `files`, which may be uploads: a part sent
    as a file or as binary elsewhere (float() of an upload was a 500) is a 400 too. Without
    `max_bytes` the server's `client_max_size` bounds the body, as for every request (a
    chunked body is bounded by it too, as it is read). One value per name: the first.
    """
    size = request.content_length or 0
    if max_bytes is not None and size > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=size)
    try:
        posted = await request.post()
    except web.HTTPException:  # 413 past client_max_size: already the right answer
        raise
    except Exception as exc:  # what the parsers raise is the client's malformed body
        log.info("refused an unreadable form on %s: %s", request.path, type(exc).__name__)
        raise web.HTTPBadRequest(text=UNREADABLE) from None
    form: dict[str, str | web.FileField] = {}
    for name, value in posted.items():
        if isinstance(value, str) or (name in files and isinstance(value, web.FileField)):
            form.setdefault(name, value)  # the first, as dict() of the form gave before
        else:
            raise web.HTTPBadRequest(text=f"The form's field '{name[:40]}' must be text. {AGAIN}")
    return form


__all__ = ["UNREADABLE", "read_form"]
