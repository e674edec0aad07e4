"""The CLI knows user mistakes from deeper modules without importing them at start-up."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _USER_ERRORS, _is_user_error

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("module_name", "class_name"), _USER_ERRORS)
def test_each_listed_error_exists_and_counts_as_a_user_mistake(module_name: str,
                                                               class_name: str) -> None:
    error = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(error, Exception)
    assert _is_user_error(error("bad"))


def test_a_bug_is_not_a_user_mistake() -> None:
    assert not _is_user_error(ValueError("bug"))


def test_an_import_does_not_load_the_scheduler_the_bot_or_the_x_client() -> None:
    """`tweetchat import x` starts in a third of the time without them."""
    code = ("import sys; import bot.cli; import bot.platforms.x.importer; "
            "print(sorted(m for m in ('apscheduler', 'bot.core', 'bot.app', 'aiohttp', 'tweepy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
