"""Moderation for confidentiality and conduct: the canteen rule.

detectors/conduct/spam are pure functions; policy reads config/moderation.toml; the
engine turns verdicts into archive state and platform actions; review, erasure and scan
are what the console and the CLI call.
"""

from bot.moderation.detectors import Finding
from bot.moderation.engine import ModerationEngine, Notice, ScreenReport, Verdict
from bot.moderation.erasure import ErasureReport, forget
from bot.moderation.policy import Policy, PolicyError, load_policy, parse_policy
from bot.moderation.review import (
    Decision,
    ReviewError,
    ReviewItem,
    decide,
    decide_sync,
    review_queue,
)
from bot.moderation.scan import scan_lines

__all__ = [
    "Decision", "ErasureReport", "Finding", "ModerationEngine", "Notice", "Policy",
    "PolicyError", "ReviewError", "ReviewItem", "ScreenReport", "Verdict", "decide",
    "decide_sync", "forget", "load_policy", "parse_policy", "review_queue", "scan_lines",
]
