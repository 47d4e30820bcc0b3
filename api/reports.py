"""Reports and calculation sheets of the service's jobs (``logistics.report`` over a job's files).

- A carrier's report covers one of its jobs; a shipper's covers the shipments shared with it,
  gathered from the jobs behind its footprints (only those shipments' legs are read).
- A calculation sheet is one shipment of one job: its owner, and the clients its footprint is
  shared with, may read it (pages, and ``GET /v1/jobs/{job}/shipments/{shipment}/sheet``).
- A job's files never change once it is done (a re-run starts from an empty folder), so a job's
  rendered report is kept beside them and served again.

Everything here reads files and renders: call it off the event loop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

import polars as pl

from logistics.mapping import read_mapping
from logistics.pipeline.shipments import shipments as total_shipments
from logistics.report import calculation_sheet, figures, load_results, report_html, sheet_html
from logistics.report.figures import Results, group_columns, with_groups
from logistics.report.render import write_pdf

from .errors import ApiError

DEFAULT_BY = ("customer", "lane", "month")


def job_dir(data_dir: Path, job: dict) -> Path:
    return data_dir / "jobs" / job["id"]


def sheet_path(job_id: str, shipment_id: str) -> str:
    """The path of a shipment's calculation sheet in the API."""
    return f"/v1/jobs/{quote(job_id, safe='')}/shipments/{quote(shipment_id, safe='')}/sheet"


def job_results(data_dir: Path, job: dict) -> Results:
    if job["status"] != "done":
        raise ApiError(409, "Conflict", f"job {job['id']} is {job['status']}: its report exists once it is done")
    folder = job_dir(data_dir, job)
    return load_results(folder / "legs.parquet", folder / "factors.parquet", folder / "shipments.parquet",
                        legs_file=job["path"])


def chosen_groups(results: Results, by: Sequence[str]) -> list[str]:
    """The breakdowns asked for that these results have; by default customer, lane and month."""
    known = group_columns(with_groups(results.legs.head(0)))
    wanted = list(by) or [b for b in DEFAULT_BY if b != "customer" or "customer" in results.legs.columns]
    return [b for b in wanted if b in known]


def _cached(folder: Path, key: str, suffix: str, build: Callable[[Path], None]) -> Path:
    """A rendered document kept in ``folder`` under a name from ``key``, built once."""
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = folder / "rendered" / f"{name}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        build(tmp)
        tmp.replace(path)
    return path


def job_report(data_dir: Path, job: dict, *, lang: str, by: Sequence[str], entity: str | None, pdf: bool,
               sheet_href: Callable[[str], str], back_href: str | None) -> Path:
    """A job's report (HTML or PDF), rendered once per language and breakdowns."""
    def build(target: Path) -> None:
        results = job_results(data_dir, job)
        f = figures(results, by=chosen_groups(results, by), entity=entity)
        html = report_html(f, lang, sheet_href=sheet_href, back_href=None if pdf else back_href)
        if pdf:
            write_pdf(html, target)
        else:
            target.write_text(html, encoding="utf8")

    key = json.dumps([lang, list(by), entity, pdf, back_href, sheet_href("x")])
    return _cached(job_dir(data_dir, job), key, ".pdf" if pdf else ".html", build)


def job_sheet(data_dir: Path, job: dict, shipment_id: str, *, lang: str, pdf: bool, back_href: str | None) -> Path:
    """A shipment's calculation sheet of a job (HTML or PDF)."""
    def build(target: Path) -> None:
        results = job_results(data_dir, job)
        if not results.legs.filter(pl.col("shipment_id") == shipment_id).height:
            raise ApiError(404, "NotFound", f"no shipment {shipment_id!r} in job {job['id']}")
        sheet = calculation_sheet(results, shipment_id, mapping=read_mapping(job.get("column_mapping")))
        html = sheet_html(sheet, lang, back_href=None if pdf else back_href)
        if pdf:
            write_pdf(html, target)
        else:
            target.write_text(html, encoding="utf8")

    key = json.dumps(["sheet", shipment_id, lang, pdf, back_href])
    return _cached(job_dir(data_dir, job), key, ".pdf" if pdf else ".html", build)


def recipient_results(data_dir: Path, jobs: dict[str, dict], shared: list[dict]) -> Results:
    """The results of the shipments shared with a client (``Store.shared_shipments``), read from
    the jobs behind them (``jobs``: job id -> job): only those shipments' legs."""
    legs, factors = [], []
    wanted: dict[str, set[str]] = {}
    for item in shared:
        if item["job_id"] in jobs:
            wanted.setdefault(item["job_id"], set()).add(item["shipment_id"])
    for job_id, ids in sorted(wanted.items()):
        job = jobs[job_id]
        if job["status"] != "done":
            continue
        folder = job_dir(data_dir, job)
        mine = pl.scan_parquet(folder / "legs.parquet").filter(pl.col("shipment_id").is_in(sorted(ids))).collect()
        part = load_results(mine, folder / "factors.parquet")
        legs.append(part.legs)
        factors.append(part.factors)
    if not legs:
        raise ApiError(404, "NotFound", "no shipment footprint is shared with you yet")
    all_legs = pl.concat(legs, how="diagonal_relaxed")
    all_factors = pl.concat(factors, how="diagonal_relaxed").unique("factor_id", keep="first").sort("factor_id")
    return load_results(all_legs, all_factors, total_shipments(all_legs))


def recipient_report(data_dir: Path, jobs: dict[str, dict], shared: list[dict], *, lang: str, by: Sequence[str],
                     entity: str | None, pdf: bool, sheet_href: Callable[[str], str], back_href: str | None) -> bytes:
    """The report on a shipper's shipments (rendered each time: what is shared changes)."""
    results = recipient_results(data_dir, jobs, shared)
    f = figures(results, by=chosen_groups(results, by), entity=entity)
    html = report_html(f, lang, sheet_href=sheet_href, back_href=None if pdf else back_href)
    if not pdf:
        return html.encode()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return write_pdf(html, Path(tmp) / "report.pdf").read_bytes()
