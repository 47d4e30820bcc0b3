"""Reports and calculation sheets as one HTML document each (styles and charts inside: it opens
offline, from a file or a mail) and the same document as PDF.

The PDF is WeasyPrint's rendering of the same HTML (the ``[pdf]`` extra): it runs in-process, needs
no browser, and draws the inline SVG charts and the page margins (page numbers) from the same CSS.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..io import InputError
from . import charts, numbers
from .terms import check_lang, column_label, term, unit, value_label


def _template(name: str):
    return resources.files("logistics.report").joinpath("templates", name)


def _template_source(name: str):
    text = _template(name).read_text(encoding="utf8")
    return text, None, lambda: True


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FunctionLoader(_template_source), autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(numbers.FILTERS)
    return env


def stylesheet() -> str:
    return _template("report.css").read_text(encoding="utf8")


def _context(lang: str) -> dict[str, Any]:
    return {
        "lang": lang, "version": __version__, "css": stylesheet(), "charts": charts, "numbers": numbers,
        "T": lambda key, **values: term(key, lang, **values),
        "V": lambda column, value: value_label(column, value, lang),
        "U": lambda key: unit(key, lang),
        "H": lambda column: column_label(column, lang),
    }


def render(template: str, lang: str = "en", **values) -> str:
    """A template of ``logistics/report/templates`` in ``lang``, with the shared words and filters."""
    check_lang(lang)
    from markupsafe import Markup

    return environment().get_template(template).render(**_context(lang), Markup=Markup, **values)


def report_html(f, lang: str = "en", *, sheet_href: Callable[[str], str | None] | None = None, back_href: str | None = None,
                shipments_shown: int = 200) -> str:
    """The report of figures ``f`` (``figures.figures``) as a standalone HTML document.
    ``sheet_href``: the link of a shipment's calculation sheet (none: no links)."""
    return render("report.html", lang, f=f, sheet_href=sheet_href, back_href=back_href, shipments_shown=shipments_shown)


def sheet_html(sheet, lang: str = "en", *, back_href: str | None = None) -> str:
    """A shipment's calculation sheet (``sheet.Sheet``) as a standalone HTML document."""
    return render("sheet.html", lang, s=sheet, back_href=back_href)


def write_pdf(html: str, out: str | os.PathLike) -> Path:
    """The HTML document as PDF (WeasyPrint; ``pip install 'logistics-co2[pdf]'``)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # the package, or its system libraries (Pango)
        raise InputError(f"PDF output needs WeasyPrint: pip install 'logistics-co2[pdf]' ({exc})") from exc
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html).write_pdf(out)
    return out


def write_document(html: str, out: str | os.PathLike) -> Path:
    """``html`` to ``out``: .html as it is, .pdf rendered."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        return write_pdf(html, out)
    if suffix not in (".html", ".htm"):
        raise InputError(f"{out}: unknown report type {out.suffix!r} (expected .html or .pdf)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf8")
    return out
