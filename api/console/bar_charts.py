"""Horizontal bar charts as inline SVG for the console's pages: drawn with
presentation attributes only (no style element or attribute, no script), so
the console's strict CSP lets them show; each bar is a link to the queue that
lists its complaints, and its value is written beside it as text."""

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH = 22, 8, 260, 320, 110
COLOUR = "#35618f"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # the bar's length, against the chart's largest
    shown: str  # the value as people read it
    href: str  # the queue listing its complaints


def bar_chart(title: str, bars: list[Bar], colour: str = COLOUR) -> Markup:
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP)
    largest = max((bar.value for bar in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, bar in enumerate(bars):
        y = index * (BAR_HEIGHT + GAP)
        length = max(0.0, bar.value) / largest * BAR_WIDTH
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<a href="{escape(bar.href)}"><g>'
            f'<text x="0" y="{text_y:.1f}" font-size="13" fill="#222">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{colour}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{text_y:.1f}" font-size="13" fill="#222">'
            f"{escape(bar.shown)}</text></g></a>"
        )
    if not bars:
        parts.append('<text x="0" y="18" font-size="13" fill="#555">Aucune donnée sur la période</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
