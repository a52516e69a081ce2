"""Inline SVG charts (no JavaScript, no external files): grouped bars with min-max whiskers, and
lines by deployment count. Plain strings; every text is escaped."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from pare.experiment.results import Summary

PALETTE = ("#c0392b", "#e67e22", "#2980b9", "#27ae60", "#8e44ad", "#16a085", "#7f8c8d", "#d35400")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart(title: str, groups: list[tuple[str, list[tuple[str, Summary | None]]]],
              fmt: Callable[[float], str], series_colors: dict[str, str]) -> str:
    """Groups of bars (e.g. one group per app and profile, one bar per variant) with whiskers."""
    bar_w, gap, group_gap, left, top, height = 26, 4, 28, 70, 34, 220
    n_bars = sum(len(bars) for _, bars in groups)
    width = max(280, left + n_bars * (bar_w + gap) + len(groups) * group_gap + 20)
    peak = max((s.max for _, bars in groups for _, s in bars if s is not None), default=1.0)
    ymax = _nice_max(peak)
    out = [f'<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{top + height + 40 + 18 * len(series_colors)}" role="img" '
           f'aria-label="{escape(title)}">',
           f'<text x="{left}" y="20" class="chart-title">{escape(title)}</text>']
    for i in range(5):
        value = ymax * i / 4
        y = top + height - height * i / 4
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
                   f'{escape(fmt(value))}</text>')
    x = left + 10
    for group, bars in groups:
        gx = x
        for series, s in bars:
            color = series_colors.get(series, PALETTE[0])
            if s is not None:
                h = height * s.median / ymax
                y = top + height - h
                out.append(f'<rect class="bar" x="{x}" y="{y:.1f}" width="{bar_w}" '
                           f'height="{max(h, 0.5):.1f}" fill="{color}">'
                           f'<title>{escape(series)}: {escape(fmt(s.median))} '
                           f'(min {escape(fmt(s.min))}, max {escape(fmt(s.max))}, n={s.n})</title></rect>')
                if s.n > 1 and s.max > s.min:
                    cx = x + bar_w / 2
                    y1, y2 = top + height - height * s.min / ymax, top + height - height * s.max / ymax
                    out.append(f'<line class="whisker" x1="{cx}" x2="{cx}" y1="{y1:.1f}" y2="{y2:.1f}"/>')
                out.append(f'<text x="{x + bar_w / 2}" y="{y - 4:.1f}" class="value" text-anchor="middle">'
                           f'{escape(fmt(s.median))}</text>')
            x += bar_w + gap
        mid = (gx + x - gap) / 2
        out.append(f'<text x="{mid:.1f}" y="{top + height + 16}" class="group" text-anchor="middle">'
                   f'{escape(group)}</text>')
        x += group_gap
    out.append(_legend(list(series_colors.items()), left, top + height + 40))
    out.append("</svg>")
    return "\n".join(out)


def line_chart(title: str, series: list[tuple[str, str, list[tuple[int, Summary]]]],
               fmt: Callable[[float], str], xlabel: str) -> str:
    """Lines of (x, summary) points: one per series name, colour given."""
    left, top, width, height = 70, 34, 460, 220
    xs = sorted({x for _, _, pts in series for x, _ in pts}) or [1]
    ymax = _nice_max(max((s.max for _, _, pts in series for _, s in pts), default=1.0))
    xmin, xmax = min(xs), max(xs)

    def px(x: int) -> float:
        return left + 20 + (width - 40) * ((x - xmin) / (xmax - xmin) if xmax > xmin else 0.5)

    def py(v: float) -> float:
        return top + height - height * v / ymax

    out = [f'<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" '
           f'height="{top + height + 50 + 18 * len(series)}" role="img" aria-label="{escape(title)}">',
           f'<text x="{left}" y="20" class="chart-title">{escape(title)}</text>']
    for i in range(5):
        v = ymax * i / 4
        out.append(f'<line x1="{left}" x2="{left + width}" y1="{py(v):.1f}" y2="{py(v):.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" class="axis" text-anchor="end">'
                   f'{escape(fmt(v))}</text>')
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{top + height + 16}" class="axis" '
                   f'text-anchor="middle">{x}</text>')
    out.append(f'<text x="{left + width / 2}" y="{top + height + 32}" class="axis" text-anchor="middle">'
               f'{escape(xlabel)}</text>')
    for name, color, pts in series:
        pts = sorted(pts)
        path = " ".join(f"{px(x):.1f},{py(s.median):.1f}" for x, s in pts)
        out.append(f'<polyline class="series" points="{path}" fill="none" stroke="{color}" '
                   'stroke-width="2"/>')
        for x, s in pts:
            out.append(f'<circle class="point" cx="{px(x):.1f}" cy="{py(s.median):.1f}" r="4" fill="{color}">'
                       f'<title>{escape(name)}, {x}: {escape(fmt(s.median))} (n={s.n})</title></circle>')
    out.append(_legend([(name, color) for name, color, _ in series], left, top + height + 50))
    out.append("</svg>")
    return "\n".join(out)


def _legend(items: list[tuple[str, str]], x: int, y: int) -> str:
    parts = []
    for i, (name, color) in enumerate(items):
        yy = y + 18 * i
        parts.append(f'<rect x="{x}" y="{yy - 10}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 18}" y="{yy}" class="legend">{escape(name)}</text>')
    return "\n".join(parts)
