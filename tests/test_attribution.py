"""Attribution and reply trees, from data alone (records built directly, no archive)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.archive.records import ItemRow, StoredMessage
from bot.attribution import Attribution, apply, attribute, parse_tags, reply_tree

START = datetime(2024, 3, 6, 20, 0, tzinfo=UTC)  # a Wednesday, 20:00 London (GMT)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def msg(
    id: str,
    minute: float,
    text: str = "",
    *,
    platform: str = "web",
    reply_to: str | None = None,
    thread_id: str | None = None,
    is_host: bool = False,
) -> StoredMessage:
    return StoredMessage(
        platform=platform,
        id=id,
        session_id=1,
        author_id="host" if is_host else f"u-{id}",
        author_name="Host" if is_host else f"User {id}",
        author_handle=None,
        text=text,
        created=at(minute),
        reply_to=reply_to,
        thread_id=thread_id,
        is_host=is_host,
    )


def item(
    key: str,
    minute: float | None,
    *,
    refs: dict[str, str] | None = None,
    threads: dict[str, str] | None = None,
) -> ItemRow:
    number = int(key[1:]) if key.startswith("q") else None
    return ItemRow(
        key=key,
        number=number,
        text=f"{key.upper()}: something to discuss",
        due_offset=(minute or 0) * 60,
        status="sent" if minute is not None else "pending",
        posted_at=at(minute) if minute is not None else None,
        refs=refs or {},
        threads=threads or {},
    )


def script(platforms: tuple[str, ...] = ("web",)) -> list[ItemRow]:
    """Welcome at :00, Q1 :02, Q2 :12, Q3 :22, Q4 :32, close :55; post ids like 'p-q1'."""
    schedule = {"welcome": 0, "q1": 2, "q2": 12, "q3": 22, "q4": 32, "close": 55}
    return [
        item(
            key,
            minute,
            refs={p: f"p-{key}" for p in platforms},
            threads={p: f"t-{key}" for p in platforms} if key.startswith("q") else None,
        )
        for key, minute in schedule.items()
    ]


# --------------------------------------------------------------------------- tags

TAG_CASES = [
    ("A1 great question", (1,)),
    ("A1: we use Slack", (1,)),
    ("A1) mostly Twitter", (1,)),
    ("A.1 yes", (1,)),
    ("a1 - not really", (1,)),
    ("A 1 I think so", (1,)),
    ("A 1: yes", (1,)),
    ("A1/A2 both yes", (1, 2)),
    ("A1/2 both yes", (1, 2)),
    ("A1 & A2 same answer", (1, 2)),
    ("A1&A2 same answer", (1, 2)),
    ("A1, A2 yes and yes", (1, 2)),
    ("A2 and A1 in that order", (2, 1)),
    ("A1 A1 repeated", (1,)),
    ("@jo @sam A2 yes", (2,)),
    ("@jo, @sam: A 2 yes", (2,)),
    (".@jo A3 agreed", (3,)),
    ("<@123456789> A2 agreed", (2,)),
    ("... totally agree A3", (3,)),
    ("totally agree A3.", (3,)),
    ("#NHSSM A2 we do", (2,)),
    ("#NHSSM A 2 we do", (2,)),
    ("#A4 hashtagged answer", (4,)),
    ("A1 size paper", (1,)),  # ambiguous, accepted on purpose
    ("a1 lowercase", (1,)),
    ("A12 late in a long chat", (12,)),
    ("A1's the hardest", (1,)),
]

NOT_TAG_CASES = [
    "a 10 minute break would help",
    "A 2 hour wait in A&E",
    "it took a 2 hour wait",
    "we waited a 3 way split",
    "A&E is busy",
    "Area1 was closed",
    "BA1 postcode",
    "CA1 is Carlisle",
    "Q1 is a good question",
    "my HbA1c is fine",
    "A1c results",
    "@A1fan hello",
    "@bob_A1 hello",
    "A1.5 million people",
    "A1% of staff",
    "meet at A10:30",
    "A123 is a road",
    "A0 is not a question",
    "see https://example.org/a1/page",
    "nice <:a1:123456> emoji",
    "",
]


@pytest.mark.parametrize(("text", "expected"), TAG_CASES)
def test_tag_forms(text: str, expected: tuple[int, ...]) -> None:
    assert parse_tags(text) == expected


@pytest.mark.parametrize("text", NOT_TAG_CASES)
def test_not_tags(text: str) -> None:
    assert parse_tags(text) == ()
    assert parse_tags(text, max_question=12) == ()


@pytest.mark.parametrize(
    ("text", "max_question", "expected"),
    [
        ("A10 yes", 12, (10,)),
        ("A10 yes", 6, ()),
        ("A 10 yes", 12, (10,)),
        ("A 10 yes", 6, ()),
        ("a 10 minute break", 12, ()),  # unit word after the spaced form
        ("A1/A9", 6, (1,)),
        ("A3", None, (3,)),
    ],
)
def test_max_question(text: str, max_question: int | None, expected: tuple[int, ...]) -> None:
    assert parse_tags(text, max_question=max_question) == expected


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("T1 we use huddles", "T", (1,)),
        ("T1: we use huddles", "T", (1,)),
        ("t2/t3 both", "T", (2, 3)),
        ("A1 still works in topic chats", "T", (1,)),
        ("T 2 yes", "T", (2,)),
        ("T1 we use huddles", "Q", ()),  # in a Q chat T1 is not an answer
        ("Q1 is never an answer", "T", ()),
        ("AT1 nope", "T", ()),
    ],
)
def test_tag_styles(text: str, style: str, expected: tuple[int, ...]) -> None:
    assert parse_tags(text, style) == expected


def test_unknown_tag_style_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="tag_style"):
        parse_tags("A1", "X")


# --------------------------------------------------------------------------- attribute


def only(messages: list[StoredMessage], items: list[ItemRow], **kw: str) -> dict[str, Attribution]:
    got = attribute(messages, items, **kw)
    assert set(got) == {m.key for m in messages}
    return {mid: a for (_, mid), a in got.items()}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # direct reply to a question post wins over everything, even a contradicting tag
        (msg("m", 40, "yes", reply_to="p-q1"), Attribution(1, "question", "reply", 1.0)),
        (msg("m", 40, "A3 yes", reply_to="p-q1"), Attribution(1, "question", "reply", 1.0, (3,))),
        (msg("m", 13, "A2/A3", reply_to="p-q2"), Attribution(2, "question", "reply", 1.0, (3,))),
        # tag beats thread and window
        (msg("m", 25, "A1 late but here"), Attribution(1, "question", "tag", 0.95)),
        (msg("m", 25, "A2", thread_id="t-q3"), Attribution(2, "question", "tag", 0.95)),
        (msg("m", 25, "A1/A2"), Attribution(1, "question", "tag", 0.95, (2,))),
        # a late answer after the close still goes to its question
        (msg("m", 58, "A2 sorry I'm late"), Attribution(2, "question", "tag", 0.95)),
        # a tag for a question the script doesn't have is ignored
        (msg("m", 25, "A9 what"), Attribution(3, "question", "window", 0.4)),
        # thread
        (
            msg("m", 40, "in the thread", thread_id="t-q2"),
            Attribution(2, "question", "thread", 0.9),
        ),
        # window
        (msg("m", 2, "exactly when Q1 went out"), Attribution(1, "question", "window", 0.4)),
        (msg("m", 11.9, "just before Q2"), Attribution(1, "question", "window", 0.4)),
        (msg("m", 40, "untagged"), Attribution(4, "question", "window", 0.4)),
        # welcome and wrapup sections
        (msg("m", -5, "early, hello"), Attribution(None, "welcome", "window", 0.4)),
        (msg("m", 1, "hi from Leeds"), Attribution(None, "welcome", "window", 0.4)),
        (msg("m", 56, "thanks all"), Attribution(None, "wrapup", "window", 0.4)),
        (msg("m", 56, "bye", reply_to="p-close"), Attribution(None, "wrapup", "reply", 0.8)),
        (msg("m", 20, "hello!", reply_to="p-welcome"), Attribution(None, "welcome", "reply", 0.8)),
        (msg("m", 20, "A1 too", reply_to="p-welcome"), Attribution(1, "question", "tag", 0.95)),
        # replies to something unknown fall back to the window
        (msg("m", 15, "huh", reply_to="elsewhere"), Attribution(2, "question", "window", 0.4)),
    ],
)
def test_single_message(message: StoredMessage, expected: Attribution) -> None:
    assert only([message], script())["m"] == expected


def test_host_posts() -> None:
    items = script()
    messages = [
        msg("p-welcome", 0, "Welcome to #NHSSM", is_host=True),
        msg("p-q2", 12, "Q2 How do you...", is_host=True),
        # the host's own item post is recognised by its ref even without is_host
        msg("p-q3", 22, "Q3 What about..."),
        msg("p-close", 55, "Thanks all", is_host=True),
        msg("h1", 14, "Great answers so far", is_host=True),
        msg("h2", 23, "Interesting!", is_host=True, reply_to="a1"),
        msg("a1", 13, "A1 we do"),
    ]
    got = only(messages, items)
    assert got["p-welcome"] == Attribution(None, "host", "host", 1.0)
    assert got["p-q2"] == Attribution(2, "host", "host", 1.0)
    assert got["p-q3"] == Attribution(3, "host", "host", 1.0)
    assert got["p-close"] == Attribution(None, "host", "host", 1.0)
    # other host messages are section "host" but placed under a question where possible
    assert got["h1"] == Attribution(2, "host", "host", 1.0)
    assert got["h2"] == Attribution(1, "host", "host", 1.0)


def test_reply_to_host_follow_up_inherits_its_question() -> None:
    messages = [
        msg("h", 14, "Anyone else use Teams?", is_host=True, reply_to="p-q1"),
        msg("r", 24, "we do", reply_to="h"),
    ]
    got = only(messages, script())
    assert got["h"] == Attribution(1, "host", "host", 1.0)
    assert got["r"] == Attribution(1, "question", "reply", 0.8)


def chain_of_three() -> list[StoredMessage]:
    return [
        msg("a", 13, "A2 we use WhatsApp"),
        msg("b", 23, "same here", reply_to="a"),  # posted after Q3 went out
        msg("c", 33, "really?", reply_to="b"),  # posted after Q4 went out
        msg("d", 34, "yes, really", reply_to="c"),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_reply_chain_to_an_answer_in_any_input_order(seed: int) -> None:
    messages = chain_of_three()
    random.Random(seed).shuffle(messages)
    got = only(messages, script())
    assert got["a"] == Attribution(2, "question", "tag", 0.95)
    for mid in "bcd":
        assert got[mid] == Attribution(2, "question", "reply", 0.8)


@pytest.mark.parametrize("seed", range(4))
def test_reply_chain_to_a_question_post(seed: int) -> None:
    messages = [
        msg("a", 3, "we don't", reply_to="p-q1"),
        msg("b", 15, "why not?", reply_to="a"),
        msg("c", 25, "policy", reply_to="b"),
    ]
    random.Random(seed).shuffle(messages)
    got = only(messages, script())
    assert got["a"] == Attribution(1, "question", "reply", 1.0)
    assert got["b"] == Attribution(1, "question", "reply", 0.8)
    assert got["c"] == Attribution(1, "question", "reply", 0.8)


def test_reply_keeps_the_multi_answer_of_its_parent() -> None:
    got = only([msg("a", 13, "A1/A2 yes"), msg("b", 30, "agree", reply_to="a")], script())
    assert got["b"] == Attribution(1, "question", "reply", 0.8, (2,))


def test_reply_to_a_window_guess_follows_the_conversation_at_window_confidence() -> None:
    got = only([msg("a", 13, "we do"), msg("b", 24, "me too", reply_to="a")], script())
    assert got["a"] == Attribution(2, "question", "window", 0.4)
    assert got["b"] == Attribution(2, "question", "reply", 0.4)


def test_tag_in_a_reply_beats_inheritance() -> None:
    got = only([msg("a", 13, "A2 yes"), msg("b", 24, "A3 and also", reply_to="a")], script())
    assert got["b"] == Attribution(3, "question", "tag", 0.95)


def test_thread_beats_inheritance() -> None:
    got = only(
        [msg("a", 13, "A2 yes"), msg("b", 24, "ok", reply_to="a", thread_id="t-q3")], script()
    )
    assert got["b"] == Attribution(3, "question", "thread", 0.9)


def test_welcome_chatter_keeps_its_section_in_replies() -> None:
    got = only([msg("a", 1, "hi from Leeds"), msg("b", 4, "hi!", reply_to="a")], script())
    assert got["b"] == Attribution(None, "welcome", "reply", 0.4)


def test_reply_cycle_does_not_hang() -> None:
    got = only([msg("a", 13, "x", reply_to="b"), msg("b", 24, "y", reply_to="a")], script())
    assert got["a"].method in ("window", "reply")
    assert got["b"].question in (2, 3)


def test_nothing_posted_yet_is_unplaced() -> None:
    items = [item("welcome", None), item("q1", None), item("close", None)]
    got = only([msg("m", 5, "hello"), msg("n", 6, "yes", reply_to="m")], items)
    assert got["m"] == Attribution(None, "unplaced", "none", 0.0)
    assert got["n"] == Attribution(None, "unplaced", "none", 0.0)


def test_tag_places_even_when_nothing_was_posted() -> None:
    items = [item("welcome", None), item("q1", None), item("q2", None)]
    assert only([msg("m", 5, "A2 yes")], items)["m"] == Attribution(2, "question", "tag", 0.95)


def test_skipped_question_is_not_in_the_window() -> None:
    items = script()
    items[2] = item("q2", None)  # Q2 skipped: never went out
    assert only([msg("m", 15, "untagged")], items)["m"] == Attribution(1, "question", "window", 0.4)


def test_topic_chat_tags() -> None:
    got = only([msg("a", 15, "T3 yes"), msg("b", 15, "A1 also")], script(), tag_style="T")
    assert got["a"] == Attribution(3, "question", "tag", 0.95)
    assert got["b"] == Attribution(1, "question", "tag", 0.95)


def test_same_id_on_two_platforms_does_not_collide() -> None:
    items = script(("web", "discord"))
    items = [
        ItemRow(**{**vars(it), "refs": {"web": f"p-{it.key}", "discord": f"d-{it.key}"}})
        for it in items
    ]
    messages = [
        msg("42", 13, "A1 on the web", platform="web"),
        msg("42", 14, "untagged on discord", platform="discord"),
        msg("43", 24, "reply on discord", platform="discord", reply_to="42"),
        msg("44", 24, "reply to Q4's discord post id on web", platform="web", reply_to="d-q4"),
        msg("45", 24, "reply to the Q4 post", platform="discord", reply_to="d-q4"),
    ]
    got = attribute(messages, items)
    assert got[("web", "42")] == Attribution(1, "question", "tag", 0.95)
    assert got[("discord", "42")] == Attribution(2, "question", "window", 0.4)
    assert got[("discord", "43")] == Attribution(2, "question", "reply", 0.4)
    assert got[("web", "44")] == Attribution(3, "question", "window", 0.4)
    assert got[("discord", "45")] == Attribution(4, "question", "reply", 1.0)


def test_apply_copies_attribution_onto_messages() -> None:
    messages = [msg("a", 13, "A1/A2 yes")]
    [out] = apply(messages, attribute(messages, script()))
    assert (out.question, out.section, out.method, out.confidence, out.extra_questions) == (
        1,
        "question",
        "tag",
        0.95,
        (2,),
    )
    assert messages[0].question is None  # originals untouched


# --------------------------------------------------------------------------- reply_tree


def ids(
    tree: dict[tuple[str, str] | None, list[StoredMessage]], key: tuple[str, str] | None
) -> list[str]:
    return [m.id for m in tree.get(key, [])]


def test_reply_tree_structure_and_order() -> None:
    messages = [
        msg("c", 20, reply_to="a"),
        msg("a", 10),
        msg("b", 15, reply_to="a"),
        msg("d", 25, reply_to="b"),
        msg("e", 5, reply_to="not-in-set"),
        msg("f", 30),
    ]
    tree = reply_tree(messages)
    assert ids(tree, None) == ["e", "a", "f"]
    assert ids(tree, ("web", "a")) == ["b", "c"]
    assert ids(tree, ("web", "b")) == ["d"]
    assert ("web", "d") not in tree
    assert sum(len(v) for v in tree.values()) == len(messages)


def test_reply_tree_keeps_platforms_apart() -> None:
    messages = [
        msg("1", 1, platform="web"),
        msg("1", 2, platform="discord"),
        msg("2", 3, platform="discord", reply_to="1"),
        msg("3", 4, platform="x", reply_to="1"),  # no x:1 in the set: a root
    ]
    tree = reply_tree(messages)
    assert [(m.platform, m.id) for m in tree[None]] == [("web", "1"), ("discord", "1"), ("x", "3")]
    assert ids(tree, ("discord", "1")) == ["2"]
    assert ("web", "1") not in tree


def test_reply_tree_cuts_cycles_and_self_replies() -> None:
    messages = [
        msg("a", 1, reply_to="b"),
        msg("b", 2, reply_to="a"),
        msg("s", 3, reply_to="s"),
    ]
    tree = reply_tree(messages)
    assert ids(tree, None) == ["a", "s"]
    assert ids(tree, ("web", "a")) == ["b"]
