"""Where a request comes from: the client's address and whether its page is ours.

Both the room and the moderator console need these answers, and both must not be fooled
by what a client makes up: `X-Forwarded-For` counts only when the connection itself comes
from a proxy named in `[web] trusted_proxies`, and a page is ours only when its `Origin`
(or `Referer`) is the configured public URL or the very host the request was sent to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

MAX_FORWARDED = 1024  # characters of X-Forwarded-For worth reading


def client_address(request: web.Request, trusted_proxies: Iterable[str] = ()) -> str:
    """The client's address: the peer, or the last untrusted hop a trusted proxy reports.

    Walking X-Forwarded-For from the right and skipping trusted proxies means a client
    cannot pick its own address by sending the header itself: the proxy appends the
    address it saw, and that is the one we take.
    """
    peer = request.remote or "?"
    trusted = set(trusted_proxies)
    if peer not in trusted:
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")[:MAX_FORWARDED]
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer


def _origin_of(url: str) -> tuple[str, str] | None:
    """(scheme, host:port) of an absolute URL, lower-cased; None if it is not one.

    Scheme and host compare case-insensitively (they are, in URLs). An origin has a host
    and no user info: browsers never send `user@` in Origin or Referer, so a URL with one,
    or with no host at all (`http://@`), is nobody's origin, not a match for another such.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ws", "wss"):
        return None
    netloc = parts.netloc.lower()
    if not netloc or "@" in netloc or netloc.startswith(":"):
        return None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    default = {"http": ":80", "https": ":443"}[scheme]
    return scheme, netloc.removesuffix(default)


def page_origin(request: web.Request) -> str | None:
    """The Origin header, else the Referer; None when the request carries neither."""
    return request.headers.get("Origin") or request.headers.get("Referer") or None


def is_same_origin(request: web.Request, public_url: str = "", *,
                   missing_ok: bool = False) -> bool:
    """Whether the page that made the request is ours.

    Ours: the configured public URL's origin, or any scheme at exactly the host (and port)
    the request was addressed to (the console opened as http://127.0.0.1:8080 itself).
    A page on another port of the same machine is another origin and is refused. With
    `missing_ok`, a request without Origin or Referer passes (a non-browser client).
    """
    supplied = page_origin(request)
    if supplied is None or supplied == "null":
        return missing_ok and supplied is None
    origin = _origin_of(supplied)
    if origin is None:
        return False
    public = _origin_of(public_url) if public_url else None
    if public is not None and origin == public:
        return True
    host = request.host.lower()
    return origin[1] in (host, host.removesuffix(":80"), host.removesuffix(":443"))


def is_https(request: web.Request, public_url: str = "") -> bool:
    """Whether people reach us over HTTPS (the public URL says so, or the request is TLS)."""
    return request.secure or public_url.strip().lower().startswith("https://")


class AddressTagger:
    """Pseudonymous tags for client addresses, stable for this process only.

    The tag lets moderation see that several made-up identities came from one address
    without keeping the address: the key is random and never stored, so a tag means
    nothing after a restart.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def tag(self, address: str) -> str:
        """A 16-character tag for an address.

        "surrogatepass": a proxy's X-Forwarded-For may carry bytes that are not UTF-8,
        which reach us as lone surrogates (plain encode() raised: a 500 on every post).
        """
        return hmac.new(self._key, address.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).hexdigest()[:16]


__all__ = ["AddressTagger", "client_address", "is_https", "is_same_origin", "page_origin"]
