"""Transcripts: the model of a finished session, its summary and its renderers.

t = build_transcript(session, items, messages, previous_participants=seen)
write_transcript(t, Path("transcripts/nhssm/2026-01-07"))
"""

from bot.transcript.build import build_transcript
from bot.transcript.model import Block, Entry, Participant, QuestionStats, Summary, Transcript
from bot.transcript.render_csv import render_csv
from bot.transcript.render_html import render_html
from bot.transcript.render_json import SCHEMA, render_json
from bot.transcript.render_md import render_markdown
from bot.transcript.series import SeriesEntry, render_series_index
from bot.transcript.write import FORMATS, write_transcript

__all__ = [
    "FORMATS",
    "SCHEMA",
    "Block",
    "Entry",
    "Participant",
    "QuestionStats",
    "SeriesEntry",
    "Summary",
    "Transcript",
    "build_transcript",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "render_series_index",
    "write_transcript",
]
