"""Reading XRPC answers for the atproto SDK with orjson, so one deep post cannot sink a page.

The SDK parses every JSON answer with pydantic_core's `from_json`, which refuses any body
nesting past about 200 levels. Post records are open (unknown fields are served back as
written), so one post carrying a field nested 300 deep made a whole searchPosts page
unreadable and, the cursor never moving, stopped collection. orjson reads up to 1,024
levels; the adapter then skips the one post that nests too deep (posts.MAX_VIEW_DEPTH).
"""

from __future__ import annotations

from typing import Any

import orjson
from atproto_client.request import AsyncRequest, Response


def _read(response: Any) -> Response:
    """The SDK's Response for a 2xx answer, its JSON body read by orjson."""
    content = response.content
    content_type = response.headers.get("content-type")
    if content_type and "application/json" in content_type.lower():
        content = orjson.loads(response.content)
    return Response(success=True, status_code=response.status_code, content=content,
                    headers={k.lower(): v for k, v in response.headers.items()})


class DeepTolerantRequest(AsyncRequest):
    """The SDK's request class, reading answers with orjson (errors handled as before)."""

    async def get(self, *args: Any, **kwargs: Any) -> Response:
        """A GET (an XRPC query)."""
        return _read(await self._send_request("GET", *args, **kwargs))

    async def post(self, *args: Any, **kwargs: Any) -> Response:
        """A POST (an XRPC procedure)."""
        return _read(await self._send_request("POST", *args, **kwargs))
