"""A request aiohttp cannot parse is answered 400 and logged as one line, not a traceback.

aiohttp's parser refuses a control character in a header, a bad request line or an
over-long header with 400 itself, and then logged "Error handling request" at ERROR with
the parser's whole traceback: anyone could fill the bot's log with them. The client's
mistake is now one line at INFO naming the address and what was wrong.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.webapp.server import WebServer, http_log
from tests.web.conftest import served


@pytest.fixture(name="served")
async def served_fixture(tmp_path: Path) -> AsyncIterator[WebServer]:
    """The bot's own HTTP server (as `tweetchat run` starts it) on a free port."""
    async with served(tmp_path) as (_, web):
        yield web


async def raw(web: WebServer, request: bytes) -> int:
    """Write `request` on a plain socket (no client library sends such bytes); the status."""
    reader, writer = await asyncio.open_connection(web.host, web.port)
    writer.write(request)
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return int(answer.split(b" ", 2)[1])


def _get(headers: bytes) -> bytes:
    return (b"GET /api/chats/webtest/state HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers
            + b"Connection: close\r\n\r\n")


def told_in_one_line(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records about the bad request, after checking none is an error or a traceback."""
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not loud, [(r.levelname, r.getMessage()) for r in loud]
    return [r for r in caplog.records if "malformed HTTP request" in r.getMessage()]


MALFORMED = {
    "control in a header": _get(b"Authorization: Bearer abcd\x01\r\n"),
    "bare CR in a header": _get(b"X-Room-Key: abcd\rb\r\n"),
    "header without a colon": _get(b"Just abcd words\r\n"),
    "bad request line": b"GET\x00 /?token=abcd HTTP/1.1\r\nConnection: close\r\n\r\n",
    "header too long": _get(b"Cookie: " + b"abcd" * 5_000 + b"\r\n"),
    "bad content length": (b"POST /moderate/login HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: -5abcd\r\nConnection: close\r\n\r\n"),
}


@pytest.mark.parametrize("kind", MALFORMED)
async def test_a_malformed_request_is_400_and_one_line(
        served: WebServer, caplog: pytest.LogCaptureFixture, kind: str) -> None:
    with caplog.at_level(logging.DEBUG):
        status = await raw(served, MALFORMED[kind])
        await asyncio.sleep(0)  # the handler logs as it closes the connection
    assert status == 400
    told = told_in_one_line(caplog)
    # INFO; DEBUG where aiohttp already chose it (a first line that is not HTTP at all)
    assert len(told) == 1 and told[0].levelno in (logging.DEBUG, logging.INFO)
    message = told[0].getMessage()
    assert message.startswith("refused a malformed HTTP request from 127.0.0.1: ")
    assert "\n" not in message and len(message) < 300
    assert b"abcd" not in message.encode()  # nothing the client sent (it may be a token)


# Any byte a header may not hold (the controls but tab) somewhere in a header's value.
CONTROL = st.sampled_from([bytes([c]) for c in [*range(0x09), *range(0x0b, 0x20), 0x7f]
                           if c not in (0x0a, 0x0d)])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.binary(max_size=20).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
       control=CONTROL)
async def test_any_control_in_a_header_is_400_without_a_traceback(
        served: WebServer, caplog: pytest.LogCaptureFixture, before: bytes,
        control: bytes) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        status = await raw(served, _get(b"X-Room-Key: " + before + control + b"x\r\n"))
        await asyncio.sleep(0)
    assert status == 400
    assert len(told_in_one_line(caplog)) == 1


def test_a_crash_in_a_handler_keeps_its_error_and_traceback() -> None:
    """Only the parser's refusals are made brief: aiohttp logs a handler's crash (the 500)
    through the same logger, and that is a bug to read in full."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    http_log.addHandler(keep)
    try:
        try:
            raise RuntimeError("a bug in a page")
        except RuntimeError:
            http_log.exception("Error handling request from %s", "127.0.0.1")
    finally:
        http_log.removeHandler(keep)
    assert len(seen) == 1 and seen[0].levelno == logging.ERROR
    assert seen[0].exc_info is not None and seen[0].getMessage().startswith("Error handling")
