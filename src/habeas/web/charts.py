"""Bar charts as SVG, drawn on the server: no script, readable by screen readers (title + desc).

Each chart is also shown as a table next to it on the page, so the figures never
depend on seeing the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

# Colour-blind-safe (Okabe–Ito), each ≥ 3:1 against white (WCAG 1.4.11 non-text contrast).
PALETTE = ("#0063a6", "#b35900", "#00735c", "#a1367a")
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    series: str
    value: int | None  # None: suppressed (drawn as an outlined stub, labelled)


@dataclass(frozen=True)
class Group:
    label: str
    bars: list[Bar]


def bar_chart(
    title: str, description: str, groups: list[Group], series: list[str], format_value: object = str,
    suppressed_label: str = "suppressed", width: int = 640,
) -> Markup:  # fmt: skip
    """Horizontal grouped bars: each group's label on its own line, then one labelled bar per series."""
    fmt = format_value if callable(format_value) else str
    chart_id = f"chart{next(_ids)}"
    label_w, bar_h, gap, group_h = 190, 22, 12, 24
    plot_w = width - label_w - 80
    largest = max((b.value or 0 for g in groups for b in g.bars), default=0) or 1
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    parts: list[str] = []
    y = 0
    for g in groups:
        parts.append(f'<text x="0" y="{y + 17}" font-weight="bold">{escape(g.label)}</text>')
        y += group_h
        for b in g.bars:
            parts.append(f'<text x="8" y="{y + 15}">{escape(b.series)}</text>')
            if b.value is None:
                parts.append(
                    f'<rect x="{label_w}" y="{y + 2}" width="6" height="{bar_h - 6}" fill="none" '
                    f'stroke="{colour[b.series]}" stroke-width="2"/><text x="{label_w + 14}" y="{y + 15}" '
                    f'font-style="italic">{escape(suppressed_label)}</text>'
                )
            else:
                w = max(2, round(plot_w * b.value / largest)) if b.value else 0
                parts.append(
                    f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{bar_h - 6}" fill="{colour[b.series]}"/>'
                    f'<text x="{label_w + w + 6}" y="{y + 15}">{escape(fmt(b.value))}</text>'
                )
            y += bar_h
        y += gap
    height = y + 4
    return Markup(  # noqa: S704 - every text above went through escape(); the rest are numbers
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" font-size="13" fill="#1a1a1a">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>'
        + "".join(parts)
        + "</svg>"
    )
