"""The coverage report's charts, drawn on the server as SVG: no script, no CDN, they print.

Only presentation attributes (no style attributes: the dashboard's CSP forbids inline style),
and every text is escaped. Each chart carries a <title> and the table next to it has the same
figures, for screen readers.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from dispatch.coverage_report import DAYS, Report

BAR_COLOUR, GRID, INK = "#2b5797", "#d0d4da", "#1d2733"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def vendor_minutes_bars(report: Report, top: int = 12) -> Markup:
    """Vendor minutes per language (city-wide), the most first."""
    minutes: dict[str, float] = {}
    names: dict[str, str] = {}
    for row in report.rows:
        minutes[row.language] = minutes.get(row.language, 0.0) + row.vendor_minutes
        names[row.language] = row.language_name
    shown = [k for k in sorted(minutes, key=lambda k: (-minutes[k], k)) if minutes[k] > 0][:top]
    title = "Vendor minutes by language"
    if not shown:
        return _svg(600, 40, title, [f'<text x="8" y="24" fill="{INK}" font-size="14">No vendor minutes.</text>'])
    width, label_w, bar_h, gap = 600, 170, 18, 6
    most = max(minutes[k] for k in shown)
    body = []
    for i, lang in enumerate(shown):
        y = 10 + i * (bar_h + gap)
        w = max(1.0, (width - label_w - 90) * minutes[lang] / most)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" font-size="13" fill="{INK}">'
            f"{escape(names[lang][:24])}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BAR_COLOUR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" font-size="12" fill="{INK}">{minutes[lang]:,.0f}</text>'
        )
    return _svg(width, 20 + len(shown) * (bar_h + gap), title, body)


def unmet_heatmap(report: Report) -> Markup:
    """Unmet requests per hour of the week: a 7 × 24 grid, darker where more went unmet."""
    cell, left, topm = 22, 40, 22
    most = max(report.unmet_by_hour) or 1
    body = [
        f'<text x="{left + h * cell + cell / 2}" y="15" text-anchor="middle" font-size="10" fill="{INK}">{h:02d}</text>'
        for h in range(0, 24, 3)
    ]
    for d, day in enumerate(DAYS):
        y = topm + d * cell
        body.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="{INK}">{day}</text>')
        for h in range(24):
            n = report.unmet_by_hour[d * 24 + h]
            shade = 0.08 + 0.92 * n / most if n else 0.0
            fill = f'fill="{BAR_COLOUR}" fill-opacity="{shade:.2f}"' if n else 'fill="#ffffff"'
            body.append(
                f'<rect x="{left + h * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" {fill} '
                f'stroke="{GRID}"><title>{day} {h:02d}:00: {n} unmet</title></rect>'
            )
    return _svg(left + 24 * cell + 4, topm + 7 * cell + 4, "Unmet requests by hour of the week", body)
