"""Small charts drawn on the server as inline SVG (no script, readable without styles)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from mutoscope.rights.insights import Day

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 34, 22, 10


def matches_chart(days: Sequence[Day], *, title: str = "Matches per day") -> Markup:
    """Stacked daily bars: blocked (bottom) and allowed (top), with a y scale and dates."""
    peak = max((d.blocked + d.allowed for d in days), default=0)
    top = _nice(peak)
    inner_w, inner_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = inner_w / max(1, len(days))
    bar = max(1.0, step * 0.72)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_describe(days))}</desc>',
    ]
    for frac in (0, 0.5, 1) if top % 2 == 0 else (0, 1):
        y = PAD_TOP + inner_h * (1 - frac)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{round(top * frac)}</text>"
        )
    for i, d in enumerate(days):
        x = PAD_LEFT + i * step + (step - bar) / 2
        base: float = PAD_TOP + inner_h
        for count, cls in ((d.blocked, "blocked"), (d.allowed, "allowed")):
            if not count:
                continue
            h = inner_h * count / top
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'class="{cls}"><title>{d.day.isoformat()}: {count} {cls}</title></rect>'
            )
    last = len(days) - 1
    for i in sorted({0, last // 2, last}) if days else []:
        x = PAD_LEFT + i * step + step / 2
        anchor = "start" if i == 0 and last else "end" if i == last and last else "middle"
        x = PAD_LEFT if anchor == "start" else WIDTH - 4 if anchor == "end" else x
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}" class="axis">'
            f"{days[i].day.strftime('%b %d')}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice(peak: int) -> int:
    """A round top for the y axis (at least 1)."""
    for top in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if peak <= top:
            return top
    magnitude = 10 ** (len(str(peak)) - 1)
    return -(-peak // magnitude) * magnitude


def _describe(days: Sequence[Day]) -> str:
    blocked = sum(d.blocked for d in days)
    allowed = sum(d.allowed for d in days)
    span = f"{days[0].day.isoformat()} to {days[-1].day.isoformat()}" if days else "no days"
    return f"{blocked} blocked and {allowed} allowed prompts matched, {span}."
