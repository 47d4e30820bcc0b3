"""Reports and calculation sheets: what a carrier or a shipper reads, and what an assurer checks.

    import logistics
    from logistics.report import write_report, write_sheet

    result = logistics.calculate("legs.csv")
    write_report(result, "report.html", by=["customer", "lane", "month"], entity="Example Logistics")
    write_report("results.csv", "report.pdf", lang="ja")          # a results file, its factors beside it
    write_sheet(result, "SHP-001", "SHP-001.html", legs_file="legs.csv")

A report discloses what ISO 14083:2023 §13 and the GLEC Framework v3.0 (pp.57–61) ask of a
reporting party (see ``figures``); a calculation sheet shows, for every TCE of one shipment, the
inputs as read, the distance, the factor row, the formula with its numbers and the result, stamped
with what makes it reproducible (see ``sheet``). Both are one HTML document (offline) or PDF, in
English or Japanese.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from . import charts, numbers
from .figures import Figures, Results, figures, load_results, parse_period
from .render import report_html, sheet_html, write_document
from .sheet import Sheet, calculation_sheet
from .terms import LANGUAGES, negotiate

__all__ = [
    "LANGUAGES",
    "Figures",
    "Results",
    "Sheet",
    "calculation_sheet",
    "charts",
    "figures",
    "load_results",
    "negotiate",
    "numbers",
    "parse_period",
    "report_html",
    "sheet_html",
    "write_report",
    "write_sheet",
]


def _results(results, factors=None, shipments=None, legs_file=None) -> Results:
    return results if isinstance(results, Results) else load_results(results, factors, shipments, legs_file=legs_file)


def write_report(results, out: str | os.PathLike, *, by: Sequence[str] = ("customer", "lane", "month"),
                 lang: str = "en", entity: str | None = None, period: tuple[str | None, str | None] | None = None,
                 iso_statement: bool = False, factors=None, shipments=None, legs_file: str | os.PathLike | None = None,
                 sheet_href: Callable[[str], str | None] | None = None) -> Path:
    """Write the report of ``results`` (a ``Result`` or a results file) to ``out`` (.html or
    .pdf). ``iso_statement``: the reporting party declares conformity with ISO 14083:2023, and the
    report says so in the standard's words."""
    r = _results(results, factors, shipments, legs_file)
    f = figures(r, by=by, entity=entity, period=period, iso_statement=iso_statement)
    return write_document(report_html(f, lang, sheet_href=sheet_href), out)


def write_sheet(results, shipment_id: str, out: str | os.PathLike, *, lang: str = "en", factors=None,
                legs_file: str | os.PathLike | None = None) -> Path:
    """Write the calculation sheet of one shipment to ``out`` (.html or .pdf)."""
    r = _results(results, factors, None, legs_file)
    return write_document(sheet_html(calculation_sheet(r, shipment_id), lang), out)
