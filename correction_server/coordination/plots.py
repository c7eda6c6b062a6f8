"""Charts drawn on the server as small SVG documents: no plotting library, no JavaScript.

Each function takes plain numbers and returns SVG markup, safe to put in a page with Jinja's
`|safe` (every text is escaped here). Colours keep WCAG AA contrast on white, and each chart
has a <title> and <desc> for screen readers; the page also shows the same numbers in a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

INK = "#1a1a1a"
MUTED = "#555555"
BAND = "#d9e4ef"
POOL = "#0b4f8a"
FLAG = "#a4000f"
DOT = "#1a1a1a"


@dataclass(frozen=True)
class MeanRow:
    label: str
    n: int
    mean: float
    band_low: float
    band_high: float
    flagged: bool


def _fmt(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def means_chart(rows: list[MeanRow], pool_mean: float, title: str, desc: str) -> str:
    """One line per corrector: the band where a fair corrector's average falls by chance for a lot
    of his size (grey), his average (dot; red and larger when flagged), the pool's average (line).
    """
    label_w, right_pad, row_h, top, bottom = 220, 60, 26, 34, 34
    plot_w = 520
    width = label_w + plot_w + right_pad
    height = top + bottom + row_h * max(len(rows), 1)
    values = [pool_mean] + [v for r in rows for v in (r.mean, r.band_low, r.band_high) if not math.isnan(v)]
    lo = max(0.0, math.floor(min(values) - 1)) if rows else 0.0
    hi = min(20.0, math.ceil(max(values) + 1)) if rows else 20.0
    if hi - lo < 4:
        lo, hi = max(0.0, lo - 2), min(20.0, hi + 2)

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="means-title means-desc" class="chart">',
        f'<title id="means-title">{escape(title)}</title><desc id="means-desc">{escape(desc)}</desc>',
        "<style>text{font:13px system-ui,sans-serif;fill:" + INK + "}.tick{fill:" + MUTED + "}</style>",
    ]
    step = 1 if hi - lo <= 10 else 2
    tick = math.ceil(lo)
    while tick <= hi:
        tx = x(tick)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - bottom + 4}" stroke="#e6e6e6"/>'
            f'<text class="tick" x="{tx:.1f}" y="{height - bottom + 20}" text-anchor="middle">{tick}</text>'
        )
        tick += step
    px = x(pool_mean)
    parts.append(
        f'<line x1="{px:.1f}" y1="{top - 10}" x2="{px:.1f}" y2="{height - bottom + 4}" stroke="{POOL}" '
        f'stroke-width="2" stroke-dasharray="5 3"/>'
        f'<text x="{px:.1f}" y="{top - 16}" text-anchor="middle" fill="{POOL}">{_fmt(pool_mean)}</text>'
    )
    for i, r in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        parts.append(
            f'<text x="{label_w - 10}" y="{cy + 4:.1f}" text-anchor="end">{escape(r.label)} ({r.n})</text>'
        )
        if not math.isnan(r.band_low):
            bx, bw = x(r.band_low), max(x(r.band_high) - x(r.band_low), 1)
            parts.append(
                f'<rect x="{bx:.1f}" y="{cy - 7:.1f}" width="{bw:.1f}" height="14" fill="{BAND}" rx="3"/>'
            )
        if not math.isnan(r.mean):
            colour, radius = (FLAG, 7) if r.flagged else (DOT, 5)
            mark = "⚠ " if r.flagged else ""
            parts.append(
                f'<circle cx="{x(r.mean):.1f}" cy="{cy:.1f}" r="{radius}" fill="{colour}">'
                f"<title>{escape(r.label)}: {_fmt(r.mean)}</title></circle>"
            )
            if r.flagged:
                parts.append(
                    f'<text x="{label_w + plot_w + 8}" y="{cy + 4:.1f}" fill="{FLAG}">'
                    f"{mark}{_fmt(r.mean)}</text>"
                )
    parts.append("</svg>")
    return "".join(parts)


def histogram(marks: list[float], pool: list[float], label: str, flagged: bool = False) -> str:
    """A small histogram of a corrector's marks (outline) over the pool's (grey bars), per point."""
    width, height, pad = 168, 44, 2
    bins = 21  # 0, 1, …, 20 (a half point goes with the whole point below it)
    own = _shares(marks, bins)
    everyone = _shares(pool, bins)
    top = max(own + everyone + [1e-9])
    bw = (width - 2 * pad) / bins

    def h(share: float) -> float:
        return share / top * (height - 2 * pad)

    colour = FLAG if flagged else POOL
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" class="spark">'
    ]
    for i, share in enumerate(everyone):
        if share:
            parts.append(
                f'<rect x="{pad + i * bw:.1f}" y="{height - pad - h(share):.1f}" width="{bw - 1:.1f}" '
                f'height="{h(share):.1f}" fill="#c8c8c8"/>'
            )
    points = []
    for i, share in enumerate(own):
        y = height - pad - h(share)
        points.append(f"{pad + i * bw:.1f},{y:.1f} {pad + (i + 1) * bw:.1f},{y:.1f}")
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="{MUTED}"/>'
        "</svg>"
    )
    return "".join(parts)


def _shares(values: list[float], bins: int) -> list[float]:
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(math.floor(v))))] += 1
    total = len(values) or 1
    return [c / total for c in counts]
