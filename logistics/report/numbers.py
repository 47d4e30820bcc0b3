"""Figures for people: each kind of figure rounded to one stated precision, the same on every page,
report and sheet (full precision stays in the data: a page carries it in ``data-value``).

An empty figure (no leg gave one) is shown as a dash, never as 0.
"""

from __future__ import annotations

import math

DASH = "—"
PRECISION = {  # decimals shown
    "t_co2e": 3,  # t CO2e: to the kg
    "kg_co2e": 1,
    "tkm": 0,
    "g_per_tkm": 1,
    "kg_per_t": 2,
    "t": 1,
    "km": 1,
    "share": 1,  # percent
    "daf": 4,
}


def _empty(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fixed(value, decimals: int) -> str:
    """``value`` with ``decimals`` decimals and thousands separators; a dash when empty."""
    if _empty(value):
        return DASH
    return f"{value:,.{decimals}f}"


def t_co2e(kg) -> str:
    """kg CO2e shown in t to the kg: 4634.9277 -> 4.635."""
    return DASH if _empty(kg) else fixed(kg / 1000, PRECISION["t_co2e"])


def kg_co2e(kg) -> str:
    return fixed(kg, PRECISION["kg_co2e"])


def tkm(value) -> str:
    return fixed(value, PRECISION["tkm"] if _empty(value) or abs(value) >= 100 else 2)


def g_per_tkm(value) -> str:
    return fixed(value, PRECISION["g_per_tkm"])


def kg_per_t(value) -> str:
    return fixed(value, PRECISION["kg_per_t"])


def share(fraction) -> str:
    """A fraction as a percentage: 0.04792 -> 4.8 %."""
    return DASH if _empty(fraction) else f"{fraction * 100:.{PRECISION['share']}f} %"


def count(value) -> str:
    return DASH if _empty(value) else f"{int(value):,}"


def exact(value, digits: int = 10) -> str:
    """A number in a formula: up to ``digits`` significant digits, no trailing zeros, no
    thousands separators (so that it can be typed back into a calculator)."""
    if _empty(value):
        return DASH
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}×10^{int(exponent)}"
    return text


FILTERS = {"t_co2e": t_co2e, "kg_co2e": kg_co2e, "tkm": tkm, "g_per_tkm": g_per_tkm, "kg_per_t": kg_per_t,
           "share": share, "count": count, "exact": exact, "fixed": fixed}
