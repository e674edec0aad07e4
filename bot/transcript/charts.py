"""Charts without chart libraries: inline SVG for the pages, a PNG bar chart for sharing.

The PNG is written with zlib + struct (the PNG format is a signature and three chunks), so
sharing an image of the hour needs no Pillow. It has bars and gridlines only: no text, so
no font; the page carries the words.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

BAR = (0x1F, 0x5F, 0x8B)  # the page's accent colour
GRID = (0xD0, 0xD7, 0xDE)
AXIS = (0x44, 0x4D, 0x56)
WHITE = (0xFF, 0xFF, 0xFF)


def activity_svg(counts: Sequence[int], origin: datetime, zone: ZoneInfo, *, title: str) -> Markup:
    """Messages per minute as an accessible inline SVG bar chart (scales with the page)."""
    n = max(1, len(counts))
    peak = max(counts, default=0) or 1
    width, height, pad_l, pad_b, pad_t = 600, 170, 34, 24, 10
    plot_w, plot_h = width - pad_l - 4, height - pad_b - pad_t
    bw = plot_w / n
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            'aria-labelledby="activity-title" preserveAspectRatio="xMidYMid meet">'
        ),
        f'<title id="activity-title">{escape(title)}</title>',
        (
            f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 4}" y2="{pad_t + plot_h}" '
            'class="axis"/>'
        ),
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="lbl">{peak}</text>',
        f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" text-anchor="end" class="lbl">0</text>',
    ]
    for i, c in enumerate(counts):
        if c:
            h = plot_h * c / peak
            parts.append(
                f'<rect x="{pad_l + i * bw:.1f}" y="{pad_t + plot_h - h:.1f}" '
                f'width="{max(bw - 1, 0.6):.1f}" height="{h:.1f}"/>'
            )
    # A tick and a time every 5, 10, 15... minutes, and at the end, so the axis reads as
    # a clock: "20:00 20:10 20:20 ... 21:00" (centred on its tick, kept inside the frame).
    step = _tick_step(n)
    ticks = list(range(0, n + 1, step))
    if n - ticks[-1] >= step / 2:
        ticks.append(n)
    for i in ticks:
        x = pad_l + i * bw
        local = (origin + timedelta(minutes=i)).astimezone(zone)
        anchor = "start" if i == 0 else "end" if x > width - 20 else "middle"
        parts.append(
            f'<line x1="{x:.1f}" y1="{pad_t + plot_h}" x2="{x:.1f}" y2="{pad_t + plot_h + 4}" '
            'class="axis"/>'
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="{anchor}" class="lbl">'
            f"{local:%H:%M}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _tick_step(n: int) -> int:
    for step in (5, 10, 15, 30, 60, 120, 240):
        if n / step <= 8:
            return step
    return max(1, n // 8)


def trend_svg(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], *, title: str
) -> Markup:
    """Line chart of one or more series (name, css class, values) over sessions."""
    n = len(labels)
    width, height, pad_l, pad_b, pad_t, pad_r = 600, 180, 40, 24, 10, 30
    plot_w, plot_h = width - pad_l - pad_r, height - pad_b - pad_t
    peak = max((v for _, _, vals in series for v in vals), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        (
            f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - pad_r}" '
            f'y2="{pad_t + plot_h}" class="axis"/>'
        ),
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="lbl">{peak}</text>',
        f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" text-anchor="end" class="lbl">0</text>',
    ]

    def x(i: int) -> float:
        return pad_l + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    for name, css, values in series:
        pts = " ".join(
            f"{x(i):.1f},{pad_t + plot_h - plot_h * v / peak:.1f}" for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline class="{escape(css)}" points="{pts}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        for i, v in enumerate(values):
            parts.append(
                f'<circle class="{escape(css)}" cx="{x(i):.1f}" '
                f'cy="{pad_t + plot_h - plot_h * v / peak:.1f}" r="3"/>'
            )
    step = max(1, n // 6)
    for i in range(0, n, step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="middle" class="lbl">'
            f"{escape(labels[i])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart_png(counts: Sequence[int], *, width: int = 800, height: int = 300) -> bytes:
    """A plain bar chart as PNG bytes (8-bit RGB)."""
    n = max(1, len(counts))
    peak = max(counts, default=0) or 1
    margin = 20
    plot_w, plot_h = width - 2 * margin, height - 2 * margin
    base = height - margin
    # Column colours for one row pattern, then each image row picks bar or background.
    heights = [0] * plot_w
    is_bar = [False] * plot_w
    for i, c in enumerate(counts):
        x0 = int(plot_w * i / n)
        x1 = max(x0 + 1, int(plot_w * (i + 1) / n) - (1 if plot_w / n >= 3 else 0))
        h = round(plot_h * c / peak)
        for x in range(x0, min(x1, plot_w)):
            heights[x] = h
            is_bar[x] = c > 0
    white = bytes(WHITE)
    grid_rows = {base - round(plot_h * f) for f in (0.25, 0.5, 0.75, 1.0)}
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type: none
        background = bytes(AXIS) if y == base else bytes(GRID) if y in grid_rows else white
        row += white * margin
        for x in range(plot_w):
            if is_bar[x] and base - heights[x] <= y < base:
                row += bytes(BAR)
            else:
                row += background
        row += white * margin
        rows.append(bytes(row))
    raw = b"".join(rows)
    return _png(width, height, raw)


def _png(width: int, height: int, raw_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, truecolour
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rows, 6))
        + chunk(b"IEND", b"")
    )
