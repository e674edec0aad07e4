"""Jinja2 for the room's pages: autoescape always on, one strict Content-Security-Policy.

Pages carry no inline script: data reaches the one JavaScript file through data-
attributes, so the policy can forbid inline scripts and any text a participant typed can
never run, even if it slipped past escaping.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# The rendered transcripts are self-contained pages with inline CSS and no scripts.
TRANSCRIPT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
    "frame-ancestors 'none'; base-uri 'none'"


def _static_version() -> str:
    """A short digest of the static files, so browsers refetch them after an upgrade."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def make_env() -> Environment:
    """The Jinja2 environment for the page templates: autoescaping, strict undefined names."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["static_version"] = _static_version()
    return env


def render(env: Environment, name: str, *, status: int = 200, **context: Any) -> web.Response:
    """Template `name` rendered with `context`, as an HTML response."""
    html = env.get_template(name).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


@web.middleware
async def security_headers(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Middleware: nosniff and same-origin referrers everywhere; CSP and DENY on HTML pages."""
    response = await handler(request)
    if isinstance(response, web.StreamResponse) and not response.prepared:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if (response.content_type or "").startswith("text/html"):
            headers.setdefault("Content-Security-Policy", PAGE_CSP)
            headers.setdefault("X-Frame-Options", "DENY")
    return response


__all__ = ["PAGE_CSP", "STATIC", "TRANSCRIPT_CSP", "make_env", "render", "security_headers"]
