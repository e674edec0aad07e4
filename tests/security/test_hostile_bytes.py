"""Bytes that are not UTF-8 in headers, cookies and forms: a 4xx, never a 500.

Before: `X-Room-Key: \\xff\\xfe...` on the room's state, `Authorization: Bearer \\xff\\xfe` on
the API, `Cookie: tweetchat_mod=\\xff\\xfeab` on the console and API, and forms with a
field that is not UTF-8, broken multipart, multipart without a boundary or
`charset=bogus` on the sign-in and certificate forms all answered 500 (str.encode() of a
header's lone surrogates; an unguarded `request.post()`). Each test here failed against
that code. An HTTP client library will not send such bytes, so these tests write the
request on a plain socket.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.webapp.forms import UNREADABLE
from tests.web.conftest import TOKEN, running_app, sign_in, until

# What the HTTP parser lets through to a header's value: any byte but the controls (it
# answers those itself with 400), so bytes past 0x7F that are not UTF-8 too.
CONTROLS = bytes(range(0x20)) + b"\x7f"
HEADER_BYTES = st.binary(max_size=60).map(lambda raw: raw.translate(None, CONTROLS))
FORM_ROUTES = ("/moderate/login", "/chats/webtest/certificate", "/moderate/control",
               "/moderate/start", "/moderate/script")
BEARER = f"Authorization: Bearer {TOKEN}".encode()


async def raw_request(client: TestClient, method: str, path: str, headers: list[bytes],
                      body: bytes = b"") -> tuple[int, bytes]:
    """Send an HTTP/1.1 request byte for byte; (status, body)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    head = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close",
            *headers, b"Content-Length: %d" % len(body)]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    """aiohttp logs a handler's crash (the 500) at ERROR: none here."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_the_reported_headers_are_a_wrong_key_or_token(room, caplog) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    junk = b"\xff\xfe" * 20
    status, body = await raw_request(client, "GET", "/api/chats/webtest/state",
                                     [b"X-Room-Key: " + junk])
    assert status == 400 and b"identity key" in body
    status, body = await raw_request(client, "POST", "/api/control",
                                     [b"Authorization: Bearer \xff\xfe",
                                      b"Content-Type: application/json"], b'{"command":"pause"}')
    assert status == 403 and b"token missing or wrong" in body
    for method, path, expected in (("GET", "/moderate", 200), ("POST", "/api/control", 403)):
        status, body = await raw_request(client, method, path,
                                         [b"Cookie: tweetchat_mod=\xff\xfeab"])
        assert status == expected, (path, status, body[:200])
        assert b"Moderator console" not in body  # the sign-in page, or a refusal
    no_errors_logged(caplog)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=HEADER_BYTES, token=HEADER_BYTES, cookie=HEADER_BYTES, csrf=HEADER_BYTES,
       page=HEADER_BYTES)
async def test_any_header_bytes_are_refused_never_a_500(  # type: ignore[no-untyped-def]
        room, caplog, key, token, cookie, csrf, page) -> None:
    bot, client = room
    status, body = await raw_request(client, "POST", "/moderate/login", [
        b"Origin: " + page, b"Content-Type: application/x-www-form-urlencoded"], b"token=x")
    assert status in (403, 429), (page, status, body[:200])
    status, body = await raw_request(client, "GET", "/api/chats/webtest/state",
                                     [b"X-Room-Key: " + key])
    assert status in (200, 400, 429), (key, status, body[:200])
    for headers in ([b"Authorization: Bearer " + token], [b"Cookie: tweetchat_mod=" + cookie],
                    [b"Cookie: tweetchat_mod=" + cookie, b"X-CSRF-Token: " + csrf]):
        status, body = await raw_request(client, "POST", "/api/control",
                                         [*headers, b"Content-Type: application/json"],
                                         b'{"command": "pause"}')
        assert status in (400, 403, 429), (headers, status, body[:200])
    assert bot.live_session("webtest") is None
    no_errors_logged(caplog)


async def test_a_proxy_s_address_that_is_not_utf8_still_posts(tmp_path, clock, caplog) -> None:  # type: ignore[no-untyped-def]
    """Behind a trusted proxy the address comes from X-Forwarded-For; tagging one that is
    not UTF-8 for moderation raised UnicodeEncodeError (a 500 on every message)."""
    async with running_app(tmp_path, clock=clock, trusted_proxies=("127.0.0.1",)) as (bot, client):
        await bot.start_session("webtest")
        await until(lambda: bot.live_session("webtest"), what="live")
        status, body = await raw_request(client, "POST", "/api/chats/webtest/messages", [
            b"X-Forwarded-For: \xff\xfe", b"Content-Type: application/json"],
            b'{"key": "' + b"k" * 20 + b'", "name": "Ann", "text": "A1 hello"}')
        assert status == 200, body[:300]
    no_errors_logged(caplog)


async def test_a_signed_in_console_refuses_a_csrf_header_that_is_not_utf8(room, caplog) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    await sign_in(client)
    cookie = next(c for c in client.session.cookie_jar if c.key == "tweetchat_mod").value
    status, body = await raw_request(client, "POST", "/api/control", [
        f"Cookie: tweetchat_mod={cookie}".encode(), b"X-CSRF-Token: \xff\xfe",
        b"Content-Type: application/json"], b'{"command": "pause"}')
    assert status == 403 and b"X-CSRF-Token" in body
    no_errors_logged(caplog)


REPORTED_FORMS = (
    (b"multipart/form-data; boundary=XX",
     b'--XX\r\nContent-Disposition: form-data; name="token"\r\n\r\n\xff\xfe\r\n--XX--\r\n'),
    (b"multipart/form-data; boundary=XX", b"--XX\r\nbroken"),
    (b"multipart/form-data", b'--XX\r\nContent-Disposition: form-data; name="key"\r\n\r\n'
                             b"ab\r\n--XX--\r\n"),
    (b"application/x-www-form-urlencoded; charset=bogus", b"token=abc&key=abc"),
    (b"application/x-www-form-urlencoded", b"token=\xff\xfe&key=\xff\xfe"),
    (b"multipart/form-data; boundary=XX", b'--XX\r\nContent-Disposition: form-data; name="k"'
                                          b"\r\nContent-Transfer-Encoding: bogus\r\n\r\nab\r\n"
                                          b"--XX--\r\n"),
    (b"multipart/form-data; boundary=XX", b"--XX\r\n\r\nab\r\n--XX--\r\n"),
)


def upload(name: bytes, value: bytes = b"5") -> bytes:
    """A multipart body whose one field is sent as a file upload."""
    return (b'--XX\r\nContent-Disposition: form-data; name="' + name + b'"; filename="a.txt"'
            b"\r\nContent-Type: text/plain\r\n\r\n" + value + b"\r\n--XX--\r\n")


async def test_a_file_where_text_is_expected_is_400(live, caplog) -> None:  # type: ignore[no-untyped-def]
    """`float()` of an upload in the minutes or pace field was a 500; an upload in the
    token field signed nobody in but went through str(). Only the script form takes one."""
    bot, client, sid = live
    for path, field in (("/moderate/control", b"minutes"), ("/moderate/start", b"pace"),
                        ("/moderate/login", b"token"), ("/chats/webtest/certificate", b"key"),
                        ("/moderate/script", b"text")):
        auth = [BEARER] if path != "/moderate/login" else []
        status, answer = await raw_request(client, "POST", path, [
            b"Content-Type: multipart/form-data; boundary=XX", *auth], upload(field))
        assert status == 400 and b"must be text" in answer, (path, status, answer[:300])
    status, answer = await raw_request(client, "POST", "/moderate/script", [
        b"Content-Type: multipart/form-data; boundary=XX", BEARER], upload(b"file", b"id: [x"))
    assert status == 422 and b"id: [x" in answer  # the script form reads its upload
    no_errors_logged(caplog)


async def test_the_reported_forms_answer_400_in_plain_words(room, caplog) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    for content_type, body in REPORTED_FORMS:
        for path in FORM_ROUTES:
            auth = [BEARER] if path.startswith("/moderate/") and path != "/moderate/login" \
                else []
            status, answer = await raw_request(client, "POST", path,
                                               [b"Content-Type: " + content_type, *auth], body)
            assert status == 400, (path, content_type, body, status, answer[:300])
            assert UNREADABLE.encode() in answer, answer[:300]
    no_errors_logged(caplog)


def multipart(boundary: bytes, parts: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """A multipart body from (name, extra header line, value) parts, any bytes in each."""
    out = b""
    for name, extra, value in parts:
        out += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name + b'"'
        out += (b"\r\n" + extra if extra else b"") + b"\r\n\r\n" + value + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


FIELD = st.sampled_from([b"token", b"key", b"session", b"csrf", b"command", b"minutes", b"pace",
                         b"text", b"file", b"x\xff"])
FORMS = st.one_of(
    st.tuples(st.sampled_from([b"application/x-www-form-urlencoded",
                               b"application/x-www-form-urlencoded; charset=latin-1",
                               b"application/x-www-form-urlencoded; charset=bogus"]),
              st.binary(max_size=200)),
    st.builds(lambda boundary, parts, cut: (
        b"multipart/form-data; boundary=" + boundary if boundary else b"multipart/form-data",
        multipart(boundary or b"XX", parts)[:cut]),
        st.sampled_from([b"XX", b"", b"a" * 70]),
        st.lists(st.tuples(FIELD, st.sampled_from([
            b"", b"Content-Type: text/plain; charset=bogus", b"Content-Transfer-Encoding: base64",
            b"Content-Transfer-Encoding: bogus", b"Content-Encoding: gzip", b"broken",
            b"Content-Type: multipart/mixed; boundary=YY", b"Content-Type: application/x-bin",
            b'Content-Disposition: form-data; name="minutes"; filename="5"']),
            st.binary(max_size=60)),
            max_size=3),
        st.integers(0, 400)),
)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=FORMS)
async def test_any_form_body_is_answered_4xx_or_read_never_a_500(room, caplog, form) -> None:  # type: ignore[no-untyped-def]
    bot, client = room
    content_type, body = form
    for path in FORM_ROUTES:
        auth = [BEARER] if path.startswith("/moderate/") and path != "/moderate/login" else []
        status, answer = await raw_request(client, "POST", path,
                                           [b"Content-Type: " + content_type, *auth], body)
        assert status < 500 and b"Traceback" not in answer, (path, form, status, answer[:300])
    no_errors_logged(caplog)
