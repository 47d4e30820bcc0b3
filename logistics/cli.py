"""``logistics-co2``: the command line for carriers' batch work."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import polars as pl
import typer

from . import factors as F
from .io import DEFAULT_PRECISION, InputError, format_for_people, round_figure

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from .calculator import Provenance

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"

app = typer.Typer(
    name="logistics-co2",
    help="GLEC Framework v3 / ISO 14083 logistics emissions: calculate legs files, derive TOC/HOC "
    "intensities, manage factor packs, export PACT/iLEAP footprints.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
packs_app = typer.Typer(help="List, inspect and build factor packs.", no_args_is_help=True)
tocs_app = typer.Typer(help="Transport operation categories (TOCs) from your own records.", no_args_is_help=True)
hocs_app = typer.Typer(help="Hub operation categories (HOCs) from your own records.", no_args_is_help=True)
jp_app = typer.Typer(help="Japanese methods (燃料法, 燃費法, 改良トンキロ法, 従来トンキロ法): CO2 TTW, reported apart from GLEC CO2e.",
                     no_args_is_help=True)
app.add_typer(packs_app, name="packs")
app.add_typer(tocs_app, name="tocs")
app.add_typer(hocs_app, name="hocs")
app.add_typer(jp_app, name="jp")
allocate_app = typer.Typer(help="Share a vehicle operation's emissions: collection/delivery rounds, Ro-Pax voyages.",
                           no_args_is_help=True)
app.add_typer(allocate_app, name="allocate")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _pairs(values: list[str] | None, option: str, cast=str) -> dict:
    out = {}
    for v in values or []:
        key, sep, val = v.partition("=")
        if not sep or not key or not val:
            _fail(f"{option} takes KEY=VALUE, got {v!r}")
        try:
            out[key.strip()] = cast(val.strip())
        except ValueError:
            _fail(f"{option} {key}: {val!r} is not a number")
    return out


class _Progress:
    """A rich progress bar on a terminal; a plain line every few seconds otherwise (logs, CI)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last = 0.0

    def __enter__(self):
        if self.enabled and self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("legs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TimeRemainingColumn(), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("legs", total=None)
        return self

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)
        elif time.monotonic() - self._last > 5 or (total and done >= total):
            self._last = time.monotonic()
            share = f" ({done / total:.0%})" if total else ""
            typer.echo(f"{done:,} of {total:,} legs{share}" if total else f"{done:,} legs", err=True)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)


@app.command(epilog="Examples:\n\n"
             "    logistics-co2 calculate legs.csv --out results.parquet --shipments-out shipments.csv --errors-out errors.csv\n\n"
             "    logistics-co2 calculate legs.csv --out r.csv --pack desnz-2025 --default region=UK\n\n"
             "    logistics-co2 calculate legs.csv --out r.csv --tocs our_tocs.csv --encoding cp932")
def calculate(
    # text, not Path: with --engine spark these may be URIs (s3a://...), which Path would mangle
    legs: str = typer.Argument(..., help="Legs file (.csv or .parquet), one row per transport leg or hub."),
    out: str = typer.Option(..., "--out", "-o", help="Per-leg results (.csv or .parquet)."),
    shipments_out: str | None = typer.Option(None, help="Per-shipment totals (.csv or .parquet)."),
    errors_out: str | None = typer.Option(None, help="Rejected rows with line number and reason."),
    factors_out: Path | None = typer.Option(None, help="The factors behind the results, one row per factor_id "
                                               "(default: beside --out, e.g. results.factors.csv)."),
    provenance: str = typer.Option("lean", help="lean: results name their factor_id; full: also the input as read and "
                                   "each factor's pack, source, page, licence and adjustments on every row."),
    pack: str = typer.Option(F.DEFAULT_PACK, help="Factor pack: a shipped name or a directory."),
    tocs: Path | None = typer.Option(None, help="Your own TOC table (pack schema), used by toc_id."),
    hocs: Path | None = typer.Option(None, help="Your own HOC table (pack schema), used by hoc_id."),
    default: list[str] | None = typer.Option(None, help="Descriptor for legs that give none, e.g. region=EU (repeatable)."),
    daf: list[str] | None = typer.Option(None, help="Distance adjustment factor per mode for non-actual distances, e.g. road=1.1."),
    jp_pack: str = typer.Option("jp-guideline", help="Edition of the Japanese methods for legs whose method is jp_*: "
                                "jp-guideline or jp-moe-2007."),
    encoding: str | None = typer.Option(None, help="Input encoding: utf8, cp932 (Shift_JIS), cp1252 (Windows Latin-1), ... "
                                           "(default: detect UTF-8, Shift_JIS or Windows-1252, or ask)."),
    separator: str | None = typer.Option(None, help="CSV separator (default: detect , ; tab or |)."),
    decimal_comma: bool | None = typer.Option(
        None, "--decimal-comma/--decimal-point",
        help="Decimal mark of the numbers: 8500,5 and 12.000 (= 12000) as German Excel writes them, or 8500.5 and "
             "12,000 (default: detect; a file where nothing tells and numbers such as 12.000 read both ways is refused)."),
    batch_rows: int = typer.Option(250_000, min=1_000, help="Legs per batch; memory grows with it, not with the file."),
    progress: bool = typer.Option(True, help="Show progress (a bar on a terminal, plain lines otherwise)."),
    summary_json: Path | None = typer.Option(None, help="Also write the run summary as JSON."),
    precision: int = typer.Option(DEFAULT_PRECISION, min=1, max=17,
                                  help="Significant digits of the figures in CSV outputs and the summary (Parquet keeps full precision)."),
    columns: Path | None = typer.Option(None, help="Your file's own column names and units (TOML), e.g. "
                                           "\"Weight (t)\" = { to = \"mass_kg\", unit = \"t\" }; "
                                           "`logistics-co2 map-columns LEGS` writes a first one."),
    engine: str = typer.Option("batch", help="batch: this machine, streaming the file in batches; spark: Apache Spark "
                               "(`pip install 'logistics-co2[spark]'`), a Parquet file or directory in, Parquet directories out."),
    master: str | None = typer.Option(None, help="With --engine spark: the Spark master, e.g. local[2] or yarn "
                                         "(default: spark-submit's, else local[*])."),
):
    """Calculate per-leg and per-shipment emissions (TTW, WTT, WTW) of a legs file of any size.

    Rejected rows never stop the run: they are counted, listed with their reason and (with
    --errors-out) written with their line number. The exit code is 2 for fatal errors (unreadable
    file, missing columns, bad pack, a failed run), which leave no output behind.
    """
    from .batch import RunFailed, run
    from .factors import PackError
    from .io import factors_path as default_factors_path

    if provenance not in ("lean", "full"):
        _fail(f"--provenance: {provenance!r} is not one of lean, full")
    if engine not in ("batch", "spark"):
        _fail(f"--engine: {engine!r} is not one of batch, spark")
    if engine == "spark":
        _calculate_on_spark(legs, out, shipments_out, errors_out, factors_out, provenance, pack, tocs, hocs,
                            _pairs(default, "--default"), _pairs(daf, "--daf", float), jp_pack, encoding, separator,
                            decimal_comma, batch_rows, summary_json, precision, columns, master)
        return
    factors_out = factors_out or default_factors_path(out)
    try:
        with _Progress(progress) as bar:
            report = run(legs, out, shipments_out=shipments_out, errors_out=errors_out, factors_out=factors_out, pack=pack,
                         tocs=tocs, hocs=hocs, defaults=_pairs(default, "--default"), daf=_pairs(daf, "--daf", float),
                         jp_pack=jp_pack, provenance=cast("Provenance", provenance), encoding=encoding, separator=separator,
                         decimal_comma=decimal_comma, batch_rows=batch_rows, progress=bar, precision=precision,
                         columns=columns)
    except (InputError, PackError, RunFailed) as exc:
        _fail(str(exc))
    summary = format_for_people(report.as_dict(), precision=precision)
    _print_summary(summary, out, shipments_out, errors_out, factors_out, precision)
    if summary_json:
        summary_json.write_text(json.dumps(summary, indent=2))


def _calculate_on_spark(legs, out, shipments_out, errors_out, factors_out, provenance, pack, tocs, hocs, defaults, daf,
                        jp_pack, encoding, separator, decimal_comma, batch_rows, summary_json, precision, columns,
                        master) -> None:
    """``calculate --engine spark``: the same engine on each partition (``logistics.spark``)."""
    from .factors import PackError

    if encoding or separator or columns:
        _fail("--encoding, --separator and --columns are for CSV files; --engine spark reads Parquet")
    try:
        from .spark import run
    except ImportError as exc:
        _fail(str(exc))
    factors_out = str(factors_out) if factors_out else f"{out.rstrip('/')}.factors"
    try:
        report = run(legs, out, shipments_out=shipments_out, errors_out=errors_out, factors_out=factors_out, pack=pack,
                     tocs=tocs, hocs=hocs, defaults=defaults, daf=daf, jp_pack=jp_pack, provenance=provenance,
                     decimal_comma=decimal_comma, master=master, batch_rows=batch_rows)
    except (InputError, PackError) as exc:
        _fail(str(exc))
    summary = format_for_people(report.as_dict(), precision=precision)
    _print_summary(summary, out, shipments_out, errors_out, factors_out, precision)
    if summary_json:
        summary_json.write_text(json.dumps(summary, indent=2))


def _figure(x: float | None, precision: int, unit: str = "") -> str:
    """A figure for people: ``precision`` significant digits, thousands grouped, no exponent and
    no trailing zeros (7,854,020 t; 0.95 t); an empty total says so instead of showing 0."""
    if x is None:
        return "none"
    x = round_figure(float(x), precision)
    unit = f" {unit}" if unit else ""
    if not x:
        return f"0{unit}"
    decimals = max(precision - 1 - math.floor(math.log10(abs(x))), 0)
    text = f"{x:,.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{x:,.0f}"
    return text + unit


def _print_summary(s: dict, out: str | Path, shipments_out: str | Path | None, errors_out: str | Path | None,
                   factors_out: str | Path | None, precision: int = DEFAULT_PRECISION) -> None:
    share = "n/a" if s["primary_data_share"] is None else f"{s['primary_data_share']:.1%}"
    fig = lambda x, unit: _figure(x, precision, unit)
    lines = [
        f"rows read      {s['rows_read']:,}",
        f"computed       {s['computed']:,}",
        f"rejected       {s['rejected']:,}" + (
            "  (" + ", ".join(f"{k}: {v:,}" for k, v in s["rejected_by_reason"].items()) + ")" if s["rejected"] else ""),
        f"total WTW      {fig(s['co2e_wtw_t'], 't CO2e')}   (TTW {fig(s['co2e_ttw_t'], 't')}, WTT {fig(s['co2e_wtt_t'], 't')}"
        + (f", no split {fig(s['co2e_wtw_unsplit_t'], 't')}" if s["co2e_wtw_unsplit_t"] else "") + ")",
        f"transport      {fig(s['tkm'], 'tkm')}",
        f"primary data   {share} of WTW",
        f"results        {out}" + (f"\nshipments      {shipments_out} ({s['shipments']:,})" if shipments_out else "")
        + (f"\nerrors         {errors_out}" if errors_out else "") + (f"\nfactors        {factors_out}" if factors_out else ""),
        f"time           {s['seconds']:.1f} s",
    ]
    if s["unread_columns"]:
        named = ", ".join(c + (f" ({meant}?)" if meant else "") for c, meant in s["unread_columns"].items())
        lines.insert(3, f"not read       {named}: not legs columns; name them with --columns, or tag_<name> to keep them")
    typer.echo("\n".join(lines))


@app.command("map-columns", epilog="Example:\n\n    logistics-co2 map-columns tms_export.csv --out columns.toml\n\n"
             "    logistics-co2 calculate tms_export.csv --columns columns.toml --out results.csv")
def map_columns(
    legs: Path = typer.Argument(..., help="A legs file with your own headers (.csv or .parquet)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the mapping here (TOML) instead of printing it."),
    encoding: str | None = typer.Option(None, help="Input encoding (default: detected)."),
):
    """A first column mapping for a file's header: our own names, common TMS names, and units read
    from the headers (e.g. `Weight (t)`). Check it, then give it to `calculate --columns`."""
    from .mapping import read_header, suggest, targets

    try:
        header = read_header(legs, encoding=encoding)
    except InputError as exc:
        _fail(str(exc))
    mapping = suggest(header)
    unmapped = [h for h in header if h not in mapping.columns and h not in targets()]
    text = mapping.to_toml() + "".join(f"# {h!r} is not mapped\n" for h in unmapped)
    if out:
        out.write_text(text, encoding="utf8")
        typer.echo(f"{len(mapping.columns)} of {len(header)} column(s) mapped -> {out}")
    else:
        typer.echo(text, nl=False)


@app.command(epilog="Examples:\n\n"
             "    logistics-co2 report results.csv --out report.html --by customer --by lane --by month\n\n"
             "    logistics-co2 report results.parquet --out report.pdf --lang ja --entity \"Example Logistics\" --sheets")
def report(
    results: Path = typer.Argument(..., help="Per-leg results of `logistics-co2 calculate` (.csv or .parquet)."),
    out: Path = typer.Option(..., "--out", "-o", help="The report: .html (one file, opens offline) or .pdf."),
    by: list[str] | None = typer.Option(None, help="Breakdowns, repeatable: customer, lane, month, mode, order_id, "
                                           "tag_<name>, ... (default: customer, lane and month where the results have them)."),
    lang: str = typer.Option("en", help="en or ja."),
    entity: str | None = typer.Option(None, help="The reporting entity, e.g. your company's name."),
    period: str | None = typer.Option(None, help="The reporting period START..END (default: the dates of the legs)."),
    iso_14083: bool = typer.Option(False, "--iso-14083", help="You declare the results conform to ISO 14083:2023; the "
                                   "report then says so in the standard's words."),
    factors: Path | None = typer.Option(None, help="The factors table (default: the one beside RESULTS)."),
    shipments: Path | None = typer.Option(None, help="The shipments table (default: totalled from RESULTS)."),
    legs: Path | None = typer.Option(None, help="The legs file RESULTS were calculated from: its hash is stamped on "
                                        "the report, and the sheets show its cells as read."),
    columns: Path | None = typer.Option(None, help="The column mapping the legs file was calculated with."),
    sheets: bool = typer.Option(False, help="Also write a calculation sheet per shipment listed (beside --out, in "
                                "<name>.sheets/) and link the report to them."),
):
    """An emissions report as ISO 14083 and the GLEC Framework ask a reporting party to disclose:
    totals WTW/TTW/WTT, per mode and per kind of TCE with activity and intensity, data-quality
    shares, methodology (packs, distances and DAFs, allocation, assumptions, rows not computed),
    breakdowns per customer, lane or month, and charts."""
    from .mapping import read_mapping
    from .report import figures, load_results, numbers, parse_period, report_html, sheet_html
    from .report.render import write_document
    from .report.sheet import calculation_sheet

    if lang not in ("en", "ja"):
        _fail(f"--lang: {lang!r} is not one of en, ja")
    try:
        r = load_results(results, factors, shipments, legs_file=legs)
        chosen = by if by else [b for b in ("customer", "lane", "month") if b != "customer" or "customer" in r.legs.columns]
        f = figures(r, by=chosen, entity=entity, period=parse_period(period), iso_statement=iso_14083)
        href = None
        if sheets:
            folder = out.with_name(f"{out.stem}.sheets")
            names = sheet_names(f.shipments.sort("co2e_wtw_kg", descending=True, nulls_last=True).head(200)["shipment_id"])
            mapping = read_mapping(columns)
            suffix = out.suffix.lower() if out.suffix.lower() in (".html", ".pdf") else ".html"
            for shipment_id, name in names.items():
                write_document(sheet_html(calculation_sheet(r, shipment_id, mapping=mapping), lang), folder / f"{name}{suffix}")
            href = lambda sid: f"{folder.name}/{names[sid]}{suffix}" if sid in names else None
        write_document(report_html(f, lang, sheet_href=href), out)
    except (InputError, F.PackError) as exc:
        _fail(str(exc))
    t = f.totals
    typer.echo(f"report of {t['shipments']:,} shipments, {numbers.t_co2e(t['co2e_wtw_kg'])} t CO2e WTW -> {out}")


def sheet_names(shipment_ids) -> dict[str, str]:
    """A file name per shipment id: the id where it is safe, else the id made safe plus a short hash."""
    import hashlib
    import re

    names = {}
    for sid in shipment_ids:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", sid)[:80]
        names[sid] = safe if safe == sid else f"{safe}-{hashlib.sha256(sid.encode()).hexdigest()[:8]}"
    return names


@app.command(epilog="Example:\n\n    logistics-co2 sheet results.csv SHP-001 --legs legs.csv --out SHP-001.html")
def sheet(
    results: Path = typer.Argument(..., help="Per-leg results of `logistics-co2 calculate` (.csv or .parquet)."),
    shipment_id: str = typer.Argument(..., help="The shipment."),
    out: Path = typer.Option(..., "--out", "-o", help="The sheet: .html or .pdf."),
    lang: str = typer.Option("en", help="en or ja."),
    factors: Path | None = typer.Option(None, help="The factors table (default: the one beside RESULTS)."),
    legs: Path | None = typer.Option(None, help="The legs file RESULTS were calculated from (cells as read, hash)."),
    columns: Path | None = typer.Option(None, help="The column mapping the legs file was calculated with."),
):
    """A shipment's calculation sheet for verification: every TCE with its inputs as read, how its
    distance was found, its factor row (source, edition, page), the formula with its numbers and
    the result, stamped with the version, the pack's hash and the input's hash."""
    from .mapping import read_mapping
    from .report import load_results, sheet_html
    from .report.render import write_document
    from .report.sheet import calculation_sheet

    if lang not in ("en", "ja"):
        _fail(f"--lang: {lang!r} is not one of en, ja")
    try:
        r = load_results(results, factors, legs_file=legs)
        s = calculation_sheet(r, shipment_id, mapping=read_mapping(columns))
        write_document(sheet_html(s, lang), out)
    except (InputError, F.PackError) as exc:
        _fail(str(exc))
    verdict = {True: "every figure agrees with its formula", False: "A FIGURE DIFFERS FROM ITS FORMULA", None: "nothing to check"}
    typer.echo(f"{len(s.elements)} TCE(s), {verdict[s.agrees]} -> {out}")


@packs_app.command("list")
def packs_list():
    """The shipped factor packs."""
    for d in sorted(F.PACKS_DIR.iterdir()):
        if (d / "pack.json").exists():
            meta = json.loads((d / "pack.json").read_text())
            typer.echo(f"{meta['name']:<14} {meta['version']:<12} {meta['licence']:<20} {meta.get('edition', '')}")


@packs_app.command("show")
def packs_show(pack: str = typer.Argument(F.DEFAULT_PACK, help="Pack name or directory.")):
    """Tables and row counts of a pack, and its licence."""
    try:
        p = F.load_pack(pack)
    except F.PackError as exc:
        _fail(str(exc))
    typer.echo(f"{p.name} {p.version} ({p.path})\nlicence: {p.meta.get('licence_text') or p.meta['licence']}")
    for name, df in p.tables.items():
        typer.echo(f"  {name:<13} {df.height:>5} rows")


@packs_app.command("build")
def packs_build(packs: list[Path] | None = typer.Argument(None, help="Pack directories (default: every shipped pack).")):
    """Rebuild each table's Parquet from its CSV (the CSV is the source of truth)."""
    targets = packs or sorted(d for d in F.PACKS_DIR.iterdir() if (d / "pack.json").exists())
    try:
        for t in targets:
            for out in F.build_pack(t):
                typer.echo(f"wrote {out}")
    except F.PackError as exc:
        _fail(str(exc))


@app.command(epilog="Examples:\n\n    logistics-co2 export out/legs.parquet --format pact-v2 --config exchange.toml\n\n"
             "    logistics-co2 export out/legs.csv --format ileap --out footprints.json")
def export(
    results: Path = typer.Argument(..., help="Per-leg results of `logistics-co2 calculate` (.csv or .parquet)."),
    format: str = typer.Option("pact-v2", "--format", "-f", help="pact-v2 (PACT v2.3 + iLEAP), pact-v3 (PACT v3.0) or ileap (bare iLEAP)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="JSON file (default: <RESULTS stem>.<format>.json)."),
    config: Path | None = typer.Option(None, help="Company and product metadata (TOML or JSON): company name and ids, "
                                       "reference period, ..."),
    pack: str = typer.Option(F.DEFAULT_PACK, help="Pack the results were calculated with (for TOC/HOC documents)."),
    tocs: Path | None = typer.Option(None, help="Your own TOC table the results used."),
    hocs: Path | None = typer.Option(None, help="Your own HOC table the results used."),
):
    """Write shipment footprints (with their TOCs and HOCs) as PACT ProductFootprints carrying iLEAP
    data, or as bare iLEAP documents. Shipments that cannot be exported complete are listed, not
    silently dropped; the exit code is 1 when there were any."""
    from .exchange import FORMATS, export_file

    if format not in FORMATS:
        _fail(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    try:
        report = export_file(results, format, out, config, pack=pack, tocs=tocs, hocs=hocs)
    except (InputError, F.PackError, ValueError, OSError) as exc:
        _fail(str(exc))
    for line in report.notes:
        typer.echo(f"note: {line}", err=True)
    for line in report.problems:
        typer.echo(f"not exported: {line}", err=True)
    typer.echo(f"{report.documents} document(s) written to {report.path}")
    if report.problems:
        raise typer.Exit(1)


@app.command()
def validate(document: Path = typer.Argument(..., help="A JSON document: PACT ProductFootprint(s), iLEAP payloads, "
                                                      "or a {\"data\": [...]} response.")):
    """Check a PACT / iLEAP document against the published schemas and the rules they miss; list
    every violation with its JSON path (exit code 1 when there is any)."""
    from .exchange import validate_document

    problems = validate_document(document)
    for line in problems:
        typer.echo(line)
    typer.echo(f"{document}: " + (f"{len(problems)} violation(s)" if problems else "valid"))
    if problems:
        raise typer.Exit(1)


def _write_derived(kind: str, derived, errors, out: Path, errors_out: Path | None) -> None:
    """Write the derived table and the records not used; nothing derived is a failure (exit 2),
    with no table written."""
    from .io import write_table

    if derived.height:
        write_table(derived, out)
        typer.echo(f"{derived.height} {kind} written to {out}")
    if errors.height:
        if errors_out:
            write_table(errors, errors_out)
        typer.echo(f"{errors.height} record(s) not used" + (f", listed in {errors_out}" if errors_out else ":"), err=True)
        if not errors_out:
            for row in errors.head(20).iter_rows(named=True):
                typer.echo(f"  record {row['row']}: {row['error']}", err=True)
    if not derived.height:
        _fail(f"no {kind} derived: " + (f"every record ({errors.height}) was rejected" if errors.height else "no records")
              + f"; {out} not written")


@tocs_app.command("derive", epilog="Example:\n\n    logistics-co2 tocs derive fuel_and_trips.csv --out our_tocs.csv --default mode=road\n\n"
                  "    logistics-co2 calculate legs.csv --out results.csv --tocs our_tocs.csv")
def tocs_derive(
    activity: Path = typer.Argument(..., help="Fuel/energy, transport (tkm or mass + distance, empty legs too) "
                                              "and refrigerant records per toc_id."),
    out: Path = typer.Option(..., "--out", "-o", help="TOC table (.csv or .parquet), usable as --tocs."),
    errors_out: Path | None = typer.Option(None, help="Records that could not be used, with the reason."),
    pack: str = typer.Option(F.DEFAULT_PACK, help="Pack whose fuel factors and GWPs are used."),
    period: str | None = typer.Option(None, help="Only records of this period (e.g. 2025)."),
    default: list[str] | None = typer.Option(None, help="Value for records that give none, e.g. mode=road."),
    freight_units: str | None = typer.Option(None, help="Ro-Pax records: the unit types that are this TOC's freight, "
                                                "comma-separated (default: rigid_truck,articulated_truck,unaccompanied_trailer)."),
):
    """TOC intensities (TTW/WTT/WTW per tkm or TEU-km, round trips incl. empty running, refrigerant
    leakage) from your fuel and transport records, per GLEC Framework v3.0 §1.5. Rounds
    (`base_distance_km` on each drop) count notional point-to-point tkm; passenger flights
    (`vehicle` belly with `passengers`, or `seats` and `seat_load_factor`) and Ro-Pax voyages
    (`units_<type>` counts) keep only their freight's share of the fuel."""
    from .allocation import FREIGHT_UNITS
    from .derive import derive_tocs

    units = tuple(u.strip() for u in freight_units.split(",") if u.strip()) if freight_units is not None else FREIGHT_UNITS
    try:
        d = derive_tocs(activity, pack, period=period, defaults=_pairs(default, "--default"), freight_units=units)
    except (InputError, F.PackError, ValueError) as exc:
        _fail(str(exc))
    _write_derived("TOCs", d.tocs, d.errors, out, errors_out)


@hocs_app.command("derive")
def hocs_derive(
    energy: Path = typer.Argument(..., help="Energy and refrigerant records per hoc_id, and outbound_t (or outbound_teu)."),
    out: Path = typer.Option(..., "--out", "-o", help="HOC table (.csv or .parquet), usable as --hocs."),
    errors_out: Path | None = typer.Option(None, help="Records that could not be used, with the reason."),
    pack: str = typer.Option(F.DEFAULT_PACK, help="Pack whose fuel factors and GWPs are used."),
    period: str | None = typer.Option(None, help="Only records of this period."),
    default: list[str] | None = typer.Option(None, help="Value for records that give none, e.g. hub_type=warehouse."),
):
    """HOC intensities (kg CO2e per outbound tonne or TEU) from a site's energy records. A site with
    ambient and refrigerated freight marks its energy records `energy_use` shared or refrigeration
    (or `--default energy_use=shared`): shared energy is spread over all outbound freight,
    refrigeration over the refrigerated freight only (GLEC Framework v3.0 p.123)."""
    from .derive import derive_hocs

    try:
        d = derive_hocs(energy, pack, period=period, defaults=_pairs(default, "--default"))
    except (InputError, F.PackError, ValueError) as exc:
        _fail(str(exc))
    _write_derived("HOCs", d.hocs, d.errors, out, errors_out)


@allocate_app.command("rounds", epilog="Example:\n\n    logistics-co2 allocate rounds drops.csv --rounds rounds.csv --out shares.csv")
def allocate_rounds(
    drops: Path = typer.Argument(..., help="One row per drop or collection: round_id, mass_kg, sfd_km (base to the stop)."),
    out: Path = typer.Option(..., "--out", "-o", help="The drops with notional_tkm, share and their emissions (.csv or .parquet)."),
    rounds: Path | None = typer.Option(None, help="The rounds' emissions: round_id and co2e_ttw_kg / co2e_wtt_kg / co2e_wtw_kg."),
):
    """A collection or delivery round's emissions shared among its drops by notional point-to-point
    tkm, mass × shortest feasible distance from the base (GLEC Framework v3.0 pp.48, 107)."""
    from .allocation import EMISSION_COLUMNS, milk_run_shares
    from .io import read_table, write_table

    try:
        d = read_table(drops)
        missing = [c for c in ("round_id", "mass_kg", "sfd_km") if c not in d.columns]
        if missing:
            raise InputError(f"{drops}: missing column(s) {', '.join(missing)}")
        d = d.with_columns(pl.col("round_id").cast(pl.String), *(pl.col(c).cast(pl.Float64, strict=False) for c in ("mass_kg", "sfd_km")))
        bad = d.filter(pl.col("mass_kg").is_null() | pl.col("sfd_km").is_null() | (pl.col("mass_kg") < 0) | (pl.col("sfd_km") < 0))
        if bad.height:
            raise InputError(f"{drops}: row {bad.row(0, named=True)} needs mass_kg and sfd_km of 0 or more")
        shares = milk_run_shares(d, round_id="round_id")
        if rounds is not None:
            r = read_table(rounds)
            cols = [c for c in EMISSION_COLUMNS if c in r.columns]
            if "round_id" not in r.columns or not cols:
                raise InputError(f"{rounds}: needs round_id and one of {', '.join(EMISSION_COLUMNS)}")
            r = r.select(pl.col("round_id").cast(pl.String), *(pl.col(c).cast(pl.Float64, strict=False).alias(f"_round_{c}") for c in cols))
            unknown = shares.join(r, on="round_id", how="anti")["round_id"].unique().to_list()
            if unknown:
                raise InputError(f"{rounds}: no emissions for round_id {', '.join(map(str, unknown[:5]))}")
            shares = shares.join(r, on="round_id", how="left").with_columns(
                (pl.col("share") * pl.col(f"_round_{c}")).alias(c) for c in cols).drop(f"_round_{c}" for c in cols)
    except (InputError, ValueError) as exc:
        _fail(str(exc))
    write_table(shares, out)
    typer.echo(f"{shares.height} drops of {shares['round_id'].n_unique()} round(s) -> {out}")


@allocate_app.command("ropax", epilog="Example:\n\n"
                      "    logistics-co2 allocate ropax voyage_units.csv --total co2e_wtw_kg=15160000 --out shares.csv")
def allocate_ropax(
    units: Path = typer.Argument(..., help="One row per unit type carried: unit (passenger, car, articulated_truck, ...) and count."),
    out: Path = typer.Option(..., "--out", "-o", help="The units with peq, share and their emissions (.csv or .parquet)."),
    total: list[str] | None = typer.Option(None, help="The voyage's emissions to share, e.g. co2e_wtw_kg=15160000 (repeatable)."),
):
    """A Ro-Pax voyage's emissions shared among passengers, vehicles and freight units by passenger
    equivalents (GLEC Framework v3.0 p.51, from ISO 14083)."""
    from .allocation import EMISSION_COLUMNS, allocate, peq_shares
    from .io import read_table, write_table

    totals = _pairs(total, "--total", float)
    unknown = sorted(set(totals) - set(EMISSION_COLUMNS))
    if unknown:
        _fail(f"--total: {', '.join(unknown)} is not one of {', '.join(EMISSION_COLUMNS)}")
    try:
        u = read_table(units)
        if not {"unit", "count"} <= set(u.columns):
            raise InputError(f"{units}: needs columns unit and count")
        shares = allocate(peq_shares(u.with_columns(pl.col("unit").cast(pl.String).str.strip_chars(),
                                                    pl.col("count").cast(pl.Float64, strict=False))), totals)
    except (InputError, ValueError) as exc:
        _fail(str(exc))
    write_table(shares, out)
    typer.echo(f"{shares.height} unit types, {shares['peq'].sum():,.1f} passenger equivalents -> {out}")


@jp_app.command("calculate", epilog="Example:\n\n"
                "    logistics-co2 jp calculate 輸送実績.csv --out jp.csv --glec-out side_by_side.csv"
                " --default vehicle=rigid_7.5-12t --default region=AS")
def jp_calculate(
    legs: Path = typer.Argument(..., help="A shipper's CSV with Japanese headers (UTF-8 or Shift_JIS), 算定方法 per row or --method."),
    out: Path = typer.Option(..., "--out", "-o", help="Per-leg CO2 TTW by the Japanese method (.csv or .parquet)."),
    method: str | None = typer.Option(None, help="Method for rows that name none: jp_fuel, jp_fuel_economy, "
                                                 "jp_improved_tonkm, jp_conventional_tonkm."),
    glec_out: Path | None = typer.Option(None, help="Also calculate GLEC CO2e and write both side by side, per leg."),
    pack: str = typer.Option(F.DEFAULT_PACK, help="Pack for the GLEC figures."),
    jp_pack: str = typer.Option("jp-guideline", help="Edition of the Japanese factors: jp-guideline (heat values before FY2023), "
                                                     "jp-moe-2007, or a directory."),
    default: list[str] | None = typer.Option(None, help="GLEC descriptors for legs that give none, e.g. vehicle=rigid_7.5-12t "
                                                        "(only for the modes that have that vehicle)."),
    encoding: str | None = typer.Option(None, help="Input encoding (default: detect UTF-8 or Shift_JIS)."),
):
    """The Japanese methods' CO2 (TTW, labelled so) and, with --glec-out, GLEC CO2e next to it.
    The two are never added together. GLEC figures use a 燃費法 leg's own fuel (distance / km per l)
    and otherwise the GLEC defaults for the leg's descriptors."""
    from . import calculate as run_engine
    from .io import write_table
    from .japan import glec_inputs, read_japanese_csv, side_by_side

    try:
        legs_df = read_japanese_csv(legs, encoding, pack=jp_pack)
        if "shipment_id" not in legs_df.columns:
            legs_df = legs_df.with_columns(shipment_id=pl.int_range(1, pl.len() + 1).cast(pl.String))
        jp = run_engine(legs_df, pack, defaults={"method": method} if method else None, jp_pack=jp_pack, provenance="full")
        write_table(jp.legs, out)
        editions = ", ".join(sorted(jp.legs["factor_pack"].drop_nulls().unique().to_list())) or jp_pack
        typer.echo(f"{jp.legs.height} legs, CO2 TTW (Japanese method, {editions}) "
                   f"{(jp.legs['jp_co2_ttw_kg'].sum() or 0) / 1000:,.3f} t -> {out}")
        if glec_out:
            if method:
                legs_df = legs_df.with_columns(method=pl.col("method").fill_null(method) if "method" in legs_df.columns else pl.lit(method))
            glec_df, defaults = glec_inputs(legs_df, pack, _pairs(default, "--default"))
            glec = run_engine(glec_df, pack, defaults=defaults)
            write_table(side_by_side(jp.legs, glec.legs, on="leg_id"), glec_out)
            done = glec.legs["co2e_wtw_kg"].is_not_null().sum()
            typer.echo(f"GLEC CO2e WTW {(glec.legs['co2e_wtw_kg'].sum() or 0) / 1000:,.3f} t for {done} of {glec.legs.height} legs"
                       f" (pack {pack}) -> {glec_out}")
    except (InputError, F.PackError, ValueError) as exc:
        _fail(str(exc))


@jp_app.command("summary")
def jp_summary(
    results: Path = typer.Argument(..., help="Output of `logistics-co2 jp calculate`."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the summary (.csv or .parquet)."),
    period: str = typer.Option("fiscal_year", help="fiscal_year (April–March), calendar_year or month."),
    jp_pack: str = typer.Option("jp-guideline", help="Pack whose crude-oil conversion (kL per GJ) is used."),
):
    """Total t·km (on the distance the CO2 rests on), t-CO2, GJ and crude-oil-equivalent kL (原油換算)
    per method and mode for the annual shipper report (特定荷主定期報告), printed whole."""
    from .io import write_table
    from .japan import annual_summary

    if not results.exists():
        _fail(f"{results}: no such file")
    # results are our own output: their types can be inferred
    df = pl.read_parquet(results) if results.suffix.lower() == ".parquet" else pl.read_csv(results, infer_schema_length=None)
    try:
        summary = annual_summary(df, period=period, pack=jp_pack)
    except (ValueError, F.PackError) as exc:
        _fail(str(exc))
    if out:
        write_table(summary, out)
    # for people: every row and column, figures rounded (the file keeps full precision)
    shown = summary.with_columns(pl.col("tkm").round(1), pl.col("co2_ttw_t").round(3), pl.col("energy_gj").round(2),
                                 pl.col("crude_oil_kl").round(3))
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=10_000, fmt_str_lengths=100, tbl_formatting="MARKDOWN",
                   tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True, thousands_separator=","):
        typer.echo(shown)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
