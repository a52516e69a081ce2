"""Inline SVG charts (no JavaScript, no external files): grouped bars with min-max whiskers, and
lines by deployment count. Plain strings; every text is escaped."""

from __future__ import annotations

import math
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


# The report's text is 11 px system-ui: about 6.5 px a character is a safe upper bound for the
# digits, units and names it prints, so layouts computed from it never let two labels touch.
CHAR_W = 6.5
LOG_SPREAD = 30.0  # above this max/min ratio a linear axis flattens the small bars to nothing


TITLE_CHAR_W = 8.5  # the 14 px bold title


def text_width(text: str) -> float:
    return CHAR_W * len(text)


def title_width(text: str) -> float:
    return TITLE_CHAR_W * len(text)


class _Axis:
    """Maps a value to a bar height: linear from 0, or log10 between two decades."""

    def __init__(self, values: list[float], height: float, scale: str) -> None:
        positive = [v for v in values if v > 0]
        peak = max(positive, default=1.0)
        floor = min(positive, default=1.0)
        self.log = scale == "log" or (scale == "auto" and peak / floor > LOG_SPREAD)
        self.height = height
        if self.log:
            self.lo = math.floor(math.log10(floor))
            self.hi = max(math.ceil(math.log10(peak)), self.lo + 1)
            if math.log10(floor) - self.lo < 0.1 * (self.hi - self.lo):
                self.lo -= 1  # the smallest bar keeps a visible height
        else:
            self.ymax = _nice_max(peak)

    def y(self, value: float) -> float:
        """Height above the baseline."""
        if self.log:
            if value <= 0:
                return 0.0
            frac = (math.log10(value) - self.lo) / (self.hi - self.lo)
        else:
            frac = value / self.ymax
        return self.height * min(max(frac, 0.0), 1.0)

    def ticks(self) -> list[float]:
        if self.log:
            return [10.0 ** e for e in range(self.lo, self.hi + 1)]
        return [self.ymax * i / 4 for i in range(5)]


def bar_chart(title: str, groups: list[tuple[str, list[tuple[str, Summary | None]]]],
              fmt: Callable[[float], str], series_colors: dict[str, str], scale: str = "auto") -> str:
    """Groups of bars (e.g. one group per app and profile, one bar per variant) with whiskers.

    `scale` is "linear", "log" or "auto" (log when the bars span more than LOG_SPREAD). Value labels
    stand upright above their bars, so neighbours never overlap however close their values are, and
    each group is at least as wide as its label.
    """
    bar_w, gap, group_gap, left, height = 26, 4, 16, 70, 220
    values = [v for _, bars in groups for _, s in bars if s is not None for v in (s.min, s.median, s.max)]
    axis = _Axis(values, height, scale)
    labels = [fmt(s.median) for _, bars in groups for _, s in bars if s is not None]
    top = 34 + max((text_width(t) for t in labels), default=0) + 6
    spans = [max(len(bars) * (bar_w + gap) - gap, text_width(group)) for group, bars in groups]
    shown = title + (" (log scale)" if axis.log else "")
    width = int(max(280, left + 10 + sum(spans) + group_gap * len(groups) + 10,
                    left + title_width(shown) + 10))
    out = [f'<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{int(top + height + 40 + 18 * len(series_colors))}" role="img" '
           f'aria-label="{escape(shown)}">',
           f'<text x="{left}" y="20" class="chart-title">{escape(shown)}</text>']
    base = top + height
    for value in axis.ticks():
        y = base - axis.y(value)
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
                   f'{escape(fmt(value))}</text>')
    x = float(left + 10)
    for (group, bars), span in zip(groups, spans, strict=True):
        gx = x
        x += (span - (len(bars) * (bar_w + gap) - gap)) / 2
        for series, s in bars:
            color = series_colors.get(series, PALETTE[0])
            if s is not None:
                h = axis.y(s.median)
                y = base - h
                out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w}" '
                           f'height="{max(h, 0.5):.1f}" fill="{color}">'
                           f'<title>{escape(series)}: {escape(fmt(s.median))} '
                           f'(min {escape(fmt(s.min))}, max {escape(fmt(s.max))}, n={s.n})</title></rect>')
                if s.n > 1 and s.max > s.min:
                    cx = x + bar_w / 2
                    y1, y2 = base - axis.y(s.min), base - axis.y(s.max)
                    out.append(f'<line class="whisker" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y1:.1f}" '
                               f'y2="{y2:.1f}"/>')
                lx, ly = x + bar_w / 2 + 4, min(y, base - axis.y(s.max)) - 4
                out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" class="value" '
                           f'transform="rotate(-90 {lx:.1f} {ly:.1f})">{escape(fmt(s.median))}</text>')
            x += bar_w + gap
        out.append(f'<text x="{gx + span / 2:.1f}" y="{base + 16}" class="group" text-anchor="middle">'
                   f'{escape(group)}</text>')
        x = gx + span + group_gap
    out.append(_legend(list(series_colors.items()), left, int(base + 40)))
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

    width = max(width, int(title_width(title)) - 10)
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
