"""Big status HTML is flattened off the event loop, and cut at MAX_HTML with a mark.

Mastodon does not cut federated content: a remote (or hostile) server's status can carry
200 KB of HTML, which took 0.4 s to flatten. The adapter converts statuses in a worker
thread, by stream and by polling alike, so the loop keeps serving everyone else; what is
past MAX_HTML is not read, and the text says it was cut.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bot.platforms.mastodon import statuses
from bot.platforms.mastodon.text import MAX_HTML, TRUNCATED, html_to_text
from bot.testing.fake_mastodon import FakeMastodonServer
from tests.platforms.test_mastodon_streaming import Running
from tests.platforms.test_x_e2e import until


@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "polling"])
async def test_statuses_are_flattened_off_the_event_loop(
        monkeypatch: pytest.MonkeyPatch, streaming: bool) -> None:
    threads: list[threading.Thread] = []

    def flatten(html: str, mentions: Any = None) -> str:
        threads.append(threading.current_thread())
        return html_to_text(html, mentions)

    monkeypatch.setattr(statuses, "html_to_text", flatten)
    async with FakeMastodonServer() as server, Running(server, streaming=streaming) as run:
        sid = server.add_status("ann", "A1 big #NHSSM")
        await until(lambda: run.kinds(sid) == ["created"], "the status collected")
    loop_thread = threading.current_thread()
    assert threads and all(t is not loop_thread for t in threads)


def test_content_past_the_bound_is_cut_with_a_mark() -> None:
    whole = "<p>" + "a" * 10 + "</p>"
    assert html_to_text(whole) == "a" * 10
    big = "<p>A1 #NHSSM</p>" + "<p>a</p>" * 25_000
    text = html_to_text(big)
    assert text.startswith("A1 #NHSSM") and text.endswith(TRUNCATED)
    assert text.count("a") < MAX_HTML // 8 + 10  # what is past the bound was never read
    assert not html_to_text("<p>" + "b" * (MAX_HTML - 7) + "</p>").endswith(TRUNCATED)
