"""Finding 8 (b) of issue 12: `tweetchat run` on the web room, SIGKILLed while people post.

Three real SIGKILLs of the bot during one paced session, each followed by the same
`tweetchat run`, while four participants keep posting over their WebSockets and reconnect
after every kill (bot/testing/crash_drill.py). The archive must then hold every
acknowledged message exactly once, no text twice, and every scripted item posted exactly
once. `bench/bench_sigkill.py` runs the same drill with twenty kills.
"""

from __future__ import annotations

from pathlib import Path

from bot.testing.crash_drill import SCRIPT, run_drill


def test_sigkill_during_a_web_session_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = run_drill(tmp_path, kills=3, pace=20)
    assert result.kills == 3
    assert result.acked, "the participants got no message through"
    assert result.lost == []  # every acknowledged message is in the archive, as sent
    assert result.duplicated == []  # and none twice
    assert set(result.acked) <= set(result.stored)
    # Every scripted item went out exactly once, and the resumed session ended.
    assert result.session_status == "ended"
    assert list(result.items.values()) == ["sent"] * 6, result.items
    assert len(result.host_posts) == 6 and set(result.host_posts.values()) == {1}, \
        result.host_posts
    for text in ("Welcome to the crash drill.", "Thanks, the drill is over."):
        assert text in SCRIPT and result.host_posts[text] == 1
