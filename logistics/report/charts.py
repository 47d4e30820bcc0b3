"""Charts a person reads at a glance, as SVG text: inline in the HTML report (no script, no
network), rendered the same in its PDF, and shown by the notebooks (``IPython.display.SVG``).

    from logistics.report import charts, figures, load_results
    f = figures(load_results(result))
    charts.emissions_by_mode(f)                 # stacked bars: TTW, WTT and WTW without a split
    charts.intensity_by(f.groups["lane"], "lane")
    charts.data_type_share_by_month(f)

Colours are the Okabe-Ito palette, told apart with the common colour-vision deficiencies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import polars as pl

from ..vocabulary import DATA_TYPES
from .terms import term, unit, value_label

COLOURS = {
    "co2e_ttw_kg": "#0072B2", "co2e_wtt_kg": "#E69F00", "co2e_wtw_unsplit_kg": "#999999",
    "primary": "#009E73", "modelled": "#56B4E9", "default": "#D55E00", "intensity": "#0072B2",
}
FONT = "system-ui, 'Noto Sans CJK JP', 'Noto Sans JP', 'Noto Sans', 'DejaVu Sans', sans-serif"
TEXT = "#1f2933"
GRID = "#d9dee3"


def _nice_max(value: float) -> float:
    """A round axis end at or above ``value`` (1, 2, 2.5, 5 or 10 × a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value * (1 - 1e-12))


def _ticks(top: float, count: int = 4) -> list[float]:
    return [top * i / count for i in range(count + 1)]


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(title)}" font-family="{escape(FONT)}" font-size="12" fill="{TEXT}" class="chart">'
            f'<title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out, at = [], x
    for label, colour in items:
        out.append(f'<rect x="{at:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{at + 16:.1f}" y="{y:.1f}">{escape(label)}</text>')
        at += 16 + 7.5 * len(label) + 18 if label.isascii() else 16 + 13 * len(label) + 18
    return out


def stacked_columns(categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]], *,
                    title: str, axis_label: str, width: int = 640, height: int = 300, percent: bool = False) -> str:
    """Vertical stacked columns: one per category, one segment per series (label, colour, values)."""
    left, right, top, bottom = 64, 16, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum((s[2][i] or 0.0) for s in series) for i in range(len(categories))]
    end = 1.0 if percent else _nice_max(max(totals, default=0.0))
    body = [f'<text x="{left}" y="16" font-weight="600">{escape(title)}</text>']
    body += _legend([(label, colour) for label, colour, _ in series], left, 32)
    for tick in _ticks(end):
        y = top + plot_h - plot_h * tick / end
        text = f"{tick:.0%}" if percent else _number(tick)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    body.append(f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">{escape(axis_label)}</text>')
    n = max(len(categories), 1)
    slot = plot_w / n
    bar = min(56.0, slot * 0.6)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        base: float = top + plot_h
        for label, colour, values in series:
            v = values[i] or 0.0
            if v <= 0:
                continue
            h = plot_h * v / end
            base -= h
            shown = f"{v:.0%}" if percent else _number(v)
            body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                        f'<title>{escape(category)}: {escape(label)} {shown}</title></rect>')
        if not percent and totals[i] > 0:
            body.append(f'<text x="{x + bar / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle">{_number(totals[i])}</text>')
        body.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle">{escape(category)}</text>')
    return _svg(width, height, title, body)


def horizontal_bars(labels: Sequence[str], values: Sequence[float | None], *, title: str, axis_label: str,
                    colour: str = COLOURS["intensity"], width: int = 640) -> str:
    """One bar per label, longest on top as given."""
    widest = max((sum(13 if ord(c) > 0x2E7F else 7.4 for c in s) for s in labels), default=30)
    label_w = int(min(320, 24 + widest))
    left, right, top, row = label_w, 64, 40, 24
    height = top + row * max(len(labels), 1) + 36
    plot_w = width - left - right
    end = _nice_max(max((v or 0.0 for v in values), default=0.0))
    body = [f'<text x="8" y="16" font-weight="600">{escape(title)}</text>']
    for tick in _ticks(end):
        x = left + plot_w * tick / end
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{top + row * len(labels)}" stroke="{GRID}"/>'
                    f'<text x="{x:.1f}" y="{top + row * len(labels) + 16}" text-anchor="middle">{_number(tick)}</text>')
    body.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">{escape(axis_label)}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * i
        body.append(f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        if value:
            w = plot_w * value / end
            body.append(f'<rect x="{left}" y="{y + 4:.1f}" width="{w:.1f}" height="{row - 8}" fill="{colour}">'
                        f'<title>{escape(label)}: {_number(value)}</title></rect>'
                        f'<text x="{left + w + 4:.1f}" y="{y + row / 2 + 4:.1f}">{_number(value)}</text>')
    return _svg(width, height, title, body)


# ---------------------------------------------------------------------- the report's charts

def emissions_by_mode(f, lang: str = "en") -> str:
    """t CO2e per mode, TTW, WTT and the WTW that has no split, stacked."""
    table = f.by_mode.filter(pl.col("co2e_wtw_kg").is_not_null())
    categories = [value_label("mode", m, lang) for m in table["mode"]]
    series = [(term(key, lang), COLOURS[col], [None if v is None else v / 1000 for v in table[col]])
              for key, col in (("ttw", "co2e_ttw_kg"), ("wtt", "co2e_wtt_kg"), ("unsplit", "co2e_wtw_unsplit_kg"))
              if table[col].drop_nulls().len()]
    return stacked_columns(categories, series, title=term("by_mode", lang), axis_label=unit("t_co2e", lang))


def intensity_by(table: pl.DataFrame, column: str, lang: str = "en", top: int = 12) -> str:
    """g CO2e (WTW) per tkm of the ``top`` groups with the most emissions (e.g. lanes)."""
    rows = table.filter(pl.col("intensity_wtw_g_per_tkm").is_not_null()).sort("co2e_wtw_kg", descending=True).head(top)
    title = term("intensity_by_lane", lang) if column == "lane" else f"{term('intensity', lang)}: {column}"
    return horizontal_bars([str(v) for v in rows[column]], rows["intensity_wtw_g_per_tkm"].to_list(),
                           title=title, axis_label=unit("g_per_tkm", lang))


def data_type_share_by_month(f, lang: str = "en") -> str:
    """Per month, the share of WTW from primary, modelled and default data (100 % stacked)."""
    table = f.data_types_by_month
    series = [(value_label("data_type", d, lang), COLOURS[d], table[d].to_list()) for d in DATA_TYPES]
    return stacked_columns(table["month"].to_list(), series, title=term("data_type_by_month", lang),
                           axis_label=term("share_of_wtw", lang), percent=True)
