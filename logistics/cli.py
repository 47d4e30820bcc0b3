"""``logistics-co2``: the command line for carriers' batch work."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from . import factors as F
from .io import InputError

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
app.add_typer(packs_app, name="packs")


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
        self._bar = self._task = None
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
        if self._bar is not None:
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
    legs: Path = typer.Argument(..., help="Legs file (.csv or .parquet), one row per transport leg or hub."),
    out: Path = typer.Option(..., "--out", "-o", help="Per-leg results (.csv or .parquet)."),
    shipments_out: Optional[Path] = typer.Option(None, help="Per-shipment totals (.csv or .parquet)."),
    errors_out: Optional[Path] = typer.Option(None, help="Rejected rows with line number and reason."),
    pack: str = typer.Option(F.DEFAULT_PACK, help="Factor pack: a shipped name or a directory."),
    tocs: Optional[Path] = typer.Option(None, help="Your own TOC table (pack schema), used by toc_id."),
    hocs: Optional[Path] = typer.Option(None, help="Your own HOC table (pack schema), used by hoc_id."),
    default: Optional[list[str]] = typer.Option(None, help="Descriptor for legs that give none, e.g. region=EU (repeatable)."),
    daf: Optional[list[str]] = typer.Option(None, help="Distance adjustment factor per mode for non-actual distances, e.g. road=1.1."),
    encoding: Optional[str] = typer.Option(None, help="Input encoding (default: detect UTF-8 or Shift_JIS/cp932)."),
    separator: Optional[str] = typer.Option(None, help="CSV separator (default: detect , or ;)."),
    batch_rows: int = typer.Option(500_000, min=1_000, help="Legs per batch; memory grows with it, not with the file."),
    progress: bool = typer.Option(True, help="Show progress (a bar on a terminal, plain lines otherwise)."),
    summary_json: Optional[Path] = typer.Option(None, help="Also write the run summary as JSON."),
):
    """Calculate per-leg and per-shipment emissions (TTW, WTT, WTW) of a legs file of any size.

    Rejected rows never stop the run: they are counted, listed with their reason and (with
    --errors-out) written with their line number. The exit code is non-zero only for fatal errors
    (unreadable file, missing columns, bad pack).
    """
    from .batch import run
    from .factors import PackError

    try:
        with _Progress(progress) as bar:
            report = run(legs, out, shipments_out=shipments_out, errors_out=errors_out, pack=pack, tocs=tocs, hocs=hocs,
                         defaults=_pairs(default, "--default"), daf=_pairs(daf, "--daf", float), encoding=encoding,
                         separator=separator, batch_rows=batch_rows, progress=bar)
    except (InputError, PackError) as exc:
        _fail(str(exc))
    summary = report.as_dict()
    _print_summary(summary, out, shipments_out, errors_out)
    if summary_json:
        summary_json.write_text(json.dumps(summary, indent=2))


def _print_summary(s: dict, out: Path, shipments_out: Path | None, errors_out: Path | None) -> None:
    share = "n/a" if s["primary_data_share"] is None else f"{s['primary_data_share']:.1%}"
    lines = [
        f"rows read      {s['rows_read']:,}",
        f"computed       {s['computed']:,}",
        f"rejected       {s['rejected']:,}" + (
            "  (" + ", ".join(f"{k}: {v:,}" for k, v in s["rejected_by_column"].items()) + ")" if s["rejected"] else ""),
        f"total WTW      {s['co2e_wtw_t']:,.3f} t CO2e   (TTW {s['co2e_ttw_t']:,.3f} t, WTT {s['co2e_wtt_t']:,.3f} t)",
        f"transport      {s['tkm']:,.1f} tkm",
        f"primary data   {share} of WTW",
        f"results        {out}" + (f"\nshipments      {shipments_out} ({s['shipments']:,})" if shipments_out else "")
        + (f"\nerrors         {errors_out}" if errors_out else ""),
        f"time           {s['seconds']:.1f} s",
    ]
    typer.echo("\n".join(lines))


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
def packs_build(packs: Optional[list[Path]] = typer.Argument(None, help="Pack directories (default: every shipped pack).")):
    """Rebuild each table's Parquet from its CSV (the CSV is the source of truth)."""
    targets = packs or sorted(d for d in F.PACKS_DIR.iterdir() if (d / "pack.json").exists())
    try:
        for t in targets:
            for out in F.build_pack(t):
                typer.echo(f"wrote {out}")
    except F.PackError as exc:
        _fail(str(exc))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
