"""From engine results to exchange documents, and the functions the CLI's ``export`` and
``validate`` commands call.

Formats:
- ``pact-v2``: PACT v2.3 ProductFootprints, one per shipment (ShipmentFootprint extension), then one
  per TOC and per HOC those shipments use (iLEAP conformance TC002/TC003 expect every referenced
  TOC/HOC to be listed);
- ``pact-v3``: the same footprints as PACT v3.0;
- ``ileap``: the bare iLEAP payloads (ShipmentFootprints, TOCs, HOCs) and one TAD per transport leg
  that has times and places.

Only complete shipments are exported: one leg with an error means the totals are not the
shipment's, so it is left out and named in ``Export.problems``. The documents stand on their own:
a shipment whose TOC or HOC cannot be built is left out too (a receiver could not resolve its
``tocId``/``hocId``), and ``dangling_references`` checks any set of documents for such references.

Each footprint's reference period is its legs' date range (``date`` column, ISO 8601, else the
date of ``departure_at``; a TOC/HOC covers the shipments that use it) unless the config states
one; with neither, nothing is exported. The placeholder company is refused outside demo mode.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from .. import factors as F
from ..io import factors_path, read_table
from .config import ExchangeConfig, load_config
from .ileap import (
    BuiltCategory,
    ExchangeError,
    hoc_payload,
    measured_toc_payload,
    shipment_footprints,
    tad_payloads,
    toc_payload,
    toc_reference,
)
from .pact import FootprintWriter, category_declaration, days, shipment_declaration

FORMATS = ("pact-v2", "pact-v3", "ileap")
RESULT_COLUMNS = {  # what the exporter reads from the engine's legs table
    "shipment_id": pl.String, "leg_id": pl.String, "leg_seq": pl.Int64, "mode": pl.String, "mass_kg": pl.Float64, "mass_t": pl.Float64,
    "teu": pl.Float64, "distance_km": pl.Float64, "distance_type": pl.String, "tkm": pl.Float64, "method": pl.String,
    "data_type": pl.String, "factor_id": pl.String, "factor_pack": pl.String, "factor_source": pl.String,
    "fuel_factor_id": pl.String, "adjustment_ids": pl.String, "factor_multiplier": pl.Float64, "assumptions": pl.String,
    "energy_carrier": pl.String, "temperature_control": pl.String, "daf": pl.Float64, "co2e_ttw_kg": pl.Float64,
    "co2e_wtt_kg": pl.Float64, "co2e_wtw_kg": pl.Float64, "error": pl.String,
}
NO_PERIOD = ("no reference period: give the legs a 'date' column (ISO 8601 date of each leg, e.g. 2025-03-14) or "
             "departure_at, or set reference_period_start and reference_period_end in the exchange config")
REQUIRED = ("shipment_id", "mode", "distance_km", "distance_type", "tkm", "method", "data_type", "factor_id",
            "co2e_wtw_kg", "error")


@dataclass
class Export:
    documents: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)  # something that should be there is not
    notes: list[str] = field(default_factory=list)


# The factors table's provenance columns under the names the builders read.
PROVENANCE_NAMES = {"source": "factor_source", "source_page": "factor_source_page", "multiplier": "factor_multiplier"}


def with_factors(legs: pl.DataFrame, factors: Any = None, *, beside: str | os.PathLike | None = None) -> pl.DataFrame:
    """Lean results with their factors' provenance joined on ``factor_id``: from ``factors`` (a
    frame or path), else the factors file written beside the results file ``beside``. Results
    written with full provenance already carry it."""
    if "factor_pack" not in legs.columns and "factor_id" in legs.columns:
        if factors is None and beside is not None and factors_path(beside).exists():
            factors = factors_path(beside)
        if factors is None:
            raise ExchangeError("the results name factor_id only: give the factors table written beside them "
                                "(--factors, or calculate with --provenance full)")
        table = read_table(factors, decimal_comma=False)
        extra = [c for c in table.columns if c != "factor_id" and c not in legs.columns]
        legs = legs.join(table.select("factor_id", *extra).with_columns(pl.col(extra).cast(pl.String)),
                         on="factor_id", how="left", maintain_order="left")
    legs = legs.rename({old: new for old, new in PROVENANCE_NAMES.items() if old in legs.columns and new not in legs.columns})
    if "base_factor_id" in legs.columns:
        # the builders name a TOC/HOC by its table row and add its adjustments themselves
        legs = legs.with_columns(factor_id=pl.coalesce("base_factor_id", "factor_id"))
    return legs


def prepare_legs(legs: Any, factors: Any = None) -> pl.DataFrame:
    """The engine's legs table (frame or CSV/Parquet path) with the columns the exporter reads,
    typed (a CSV holds text), and those it can do without filled with nulls."""
    beside = legs if isinstance(legs, (str, os.PathLike)) else None
    df = with_factors(read_table(legs, decimal_comma=False), factors, beside=beside)  # our own output: decimal points
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ExchangeError(f"not an engine result table: missing column(s) {', '.join(missing)}")
    cast = []
    for name, dtype in RESULT_COLUMNS.items():
        if name not in df.columns:
            cast.append(pl.lit(None, dtype).alias(name))
        elif df.schema[name] != dtype:
            text = pl.col(name).cast(pl.String).str.strip_chars()
            cast.append(pl.when(text == "").then(None).otherwise(text).cast(dtype, strict=False).alias(name))
    df = df.with_columns(cast).with_columns(mass_t=pl.coalesce("mass_t", pl.col("mass_kg") / 1000))
    if df["leg_seq"].is_null().any():
        df = df.with_columns(leg_seq=pl.col("leg_seq").fill_null(pl.int_range(1, pl.len() + 1).over("shipment_id")))
    if df["leg_id"].is_null().any():
        df = df.with_columns(leg_id=pl.col("leg_id").fill_null(pl.col("shipment_id") + "-" + pl.col("leg_seq").cast(pl.String)))
    return df


def shipment_totals(legs: pl.DataFrame) -> pl.DataFrame:
    """Per-shipment mass (the heaviest transport leg), as the engine's shipments table has it."""
    mass_kg = pl.coalesce("mass_kg", pl.col("mass_t") * 1000)
    return legs.group_by("shipment_id", maintain_order=True).agg(mass_kg.filter(pl.col("mode") != "hub").max().alias("mass_kg"))


def incomplete_shipments(legs: pl.DataFrame) -> pl.DataFrame:
    """Shipments that cannot be exported, with the reason: a leg the engine could not compute, or
    no transport activity at all (PACT needs a declared amount above 0)."""
    return (
        legs.group_by("shipment_id", maintain_order=True)
        .agg(
            pl.col("leg_id").filter(pl.col("error").is_not_null()).first().alias("leg"),
            pl.col("error").drop_nulls().first().alias("first_error"),
            pl.col("error").is_not_null().sum().alias("errors"),
            pl.len().alias("legs"),
            pl.col("tkm").filter(pl.col("mode") != "hub").sum().alias("tkm"),
        )
        .with_columns(
            reason=pl.when(pl.col("errors") > 0)
            .then(pl.format("{} of {} legs not computed (leg {}: {})", "errors", "legs", "leg", "first_error"))
            .when(pl.col("tkm") <= 0).then(pl.lit("no transport activity (0 t·km): PACT needs a declared amount above 0"))
        )
        .filter(pl.col("reason").is_not_null())
        .select("shipment_id", "reason")
    )


def _own_table(table: Any, name: str) -> pl.DataFrame:
    df = read_table(table)
    schema = F.SCHEMAS[name]
    return df.select(
        (pl.col(c).cast(t, strict=False) if c in df.columns else pl.lit(None, t)).alias(c) for c, t in schema.items()
    )


def _factor_tables(legs: pl.DataFrame, pack: Any, tocs: Any, hocs: Any) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """The tocs, hocs and fuels rows the legs were computed with: the carrier's own tables and the
    pack(s) named in ``factor_pack`` (``name@version``), or the pack given."""
    problems: list[str] = []
    packs: list[F.Pack] = []
    if pack is not None:
        packs.append(F.load_pack(pack))
    else:
        for label in legs["factor_pack"].drop_nulls().unique().sort().to_list():
            if "@" not in label:
                continue  # the carrier's own table, passed as tocs/hocs
            name, version = label.rsplit("@", 1)
            try:
                loaded = F.load_pack(name)
            except F.PackError as exc:
                problems.append(f"pack {label}: cannot be loaded to describe its TOCs/HOCs ({exc}); pass pack=")
                continue
            if loaded.version != version:
                problems.append(f"pack {label}: the installed {name} is version {loaded.version}; its TOCs/HOCs would not match the legs")
                continue
            packs.append(loaded)
    tables = {}
    for name, own in (("tocs", tocs), ("hocs", hocs), ("fuels", None)):
        parts = ([_own_table(own, name)] if own is not None else []) + [p.table(name) for p in packs]
        frames = [p.select((pl.col(c).cast(t) for c, t in F.SCHEMAS[name].items())) for p in parts]
        key = F.KEYS[name][0]
        tables[name] = (pl.concat(frames).unique(key, keep="first", maintain_order=True) if frames
                        else pl.DataFrame(schema=F.SCHEMAS[name]))
    return tables, problems


def _categories(legs: pl.DataFrame, toc_ids: list[str], hoc_ids: list[str], tables: dict[str, pl.DataFrame],
                config: ExchangeConfig) -> tuple[list[BuiltCategory], list[str]]:
    """The TOC and HOC payloads the exported TCEs name, built once per distinct id."""
    built, problems = [], []
    refs = (
        legs.filter(pl.col("mode") != "hub")
        .with_columns(_ref=toc_reference())
        .filter(pl.col("_ref").is_in(toc_ids))
        .unique("_ref", keep="first", maintain_order=True)
    )
    used = tables["tocs"].filter(pl.col("toc_id").is_in(refs["factor_id"].drop_nulls().to_list()))
    tocs = {r["toc_id"]: r for r in used.iter_rows(named=True)}
    for leg in refs.iter_rows(named=True):
        try:
            if (leg.get("fuel_factor_id") or "").startswith("grid-") and leg["method"] != "fuel":
                raise ExchangeError(f"{leg['_ref']}: its intensity rests on the location-based grid factor "
                                    f"{leg['fuel_factor_id']}, which the exported TOCs cannot state yet")
            if leg["method"] == "fuel":
                built.append(measured_toc_payload(leg, tables["fuels"], config))
            elif leg["factor_id"] not in tocs:
                raise ExchangeError(f"{leg['_ref']}: not in the TOC tables given (pack or own tocs)")
            else:
                built.append(toc_payload(tocs[leg["factor_id"]], tables["fuels"], config,
                                         adjustment_ids=leg["adjustment_ids"], multiplier=leg["factor_multiplier"] or 1.0))
        except ExchangeError as exc:
            problems.append(f"TOC {exc}")
    hoc_rows = {r["hoc_id"]: r for r in tables["hocs"].filter(pl.col("hoc_id").is_in(hoc_ids)).iter_rows(named=True)}
    for ident in hoc_ids:
        try:
            if ident not in hoc_rows:
                raise ExchangeError(f"{ident}: not in the HOC tables given (pack or own hocs)")
            built.append(hoc_payload(hoc_rows[ident], tables["fuels"], config))
        except ExchangeError as exc:
            problems.append(f"HOC {exc}")
    return built, problems


def _periods(built: list, config: ExchangeConfig) -> tuple[list, dict[str, tuple[datetime, datetime]], list[str]]:
    """Each shipment's reference period (the config's, else its legs' dates), the shipments that
    have one, and a problem for each that has none. Raises when no shipment has one."""
    stated = config.reference_period()
    if stated is not None:
        return built, {s.shipment_id: stated for s in built}, []
    if built and all(s.first_date is None and s.date_error is None for s in built):
        raise ExchangeError(NO_PERIOD)
    problems = [f"shipment {s.shipment_id}: not exported: {s.date_error or NO_PERIOD}"
                for s in built if s.date_error or s.first_date is None]
    dated = [s for s in built if s.first_date is not None and s.date_error is None]
    return dated, {s.shipment_id: days(s.first_date, s.last_date) for s in dated}, problems


def dangling_references(documents: list[dict[str, Any]]) -> list[str]:
    """Each ``tocId`` / ``hocId`` that a ShipmentFootprint among ``documents`` (PACT v2/v3
    ProductFootprints or bare iLEAP payloads) names and no TOC / HOC among them defines: what a
    receiver of these documents could not resolve. Empty when they stand on their own."""
    payloads: list[dict[str, Any]] = []
    for document in documents:
        extensions = document.get("extensions") if isinstance(document, dict) else None
        payloads += [e.get("data") or {} for e in extensions] if extensions else [document]
    tocs = {p["tocId"] for p in payloads if "tocId" in p and "tces" not in p and "transportActivityUnit" in p}
    hocs = {p["hocId"] for p in payloads if "hocId" in p and "hubActivityUnit" in p}
    missing = []
    for p in payloads:
        for tce in p.get("tces") or []:
            for key, known in (("tocId", tocs), ("hocId", hocs)):
                if tce.get(key) and tce[key] not in known:
                    missing.append(f"shipment {p.get('shipmentId')}: TCE {tce.get('tceId')}: {key} {tce[key]} is not among the documents")
    return missing


def build_export(
    legs: Any,
    shipments: pl.DataFrame | None = None,
    fmt: str = "pact-v2",
    config: ExchangeConfig | None = None,
    *,
    pack: Any = None,
    tocs: Any = None,
    hocs: Any = None,
    factors: Any = None,
) -> Export:
    """The documents of ``fmt`` for every complete shipment of the engine's ``legs`` table (and its
    ``shipments`` table, else totals are recomputed from the legs), plus what could not be built.

    ``pack``: the factor pack the legs were computed with (a ``Pack``, name or directory; default:
    the packs named in ``factor_pack``); ``tocs`` / ``hocs``: the carrier's own tables, if used."""
    if fmt not in FORMATS:
        raise ExchangeError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    config = config or ExchangeConfig()
    notes: list[str] = []
    if config.placeholder_identity():
        if not config.demo:
            raise ExchangeError(
                f"company_name / company_ids are placeholders ({config.company_name!r}, {config.company_ids[0]}): "
                "set them in the exchange config (demo = true accepts them for a demonstration)"
            )
        notes.append("company_name / company_ids are placeholders (demo mode): not for publication")
    config = config.model_copy(update={"created": config.created_at()})  # one timestamp for the whole export
    legs = prepare_legs(legs, factors)
    shipments = shipment_totals(legs) if shipments is None else shipments
    skipped = incomplete_shipments(legs)
    problems = [f"shipment {r['shipment_id']}: not exported: {r['reason']}" for r in skipped.iter_rows(named=True)]
    complete = legs.join(skipped, on="shipment_id", how="anti", maintain_order="left")
    if not complete.height:
        return Export([], problems, notes)
    built = shipment_footprints(complete, shipments, config)
    if "addon_co2e_wtw_kg" in complete.columns:
        with_addons = complete.filter(pl.col("addon_co2e_wtw_kg") > 0)
        if with_addons.height:
            named = ", ".join(f"{r['leg_id']} ({r['addon_co2e_wtw_kg']:g} kg)" for r in with_addons.head(10).iter_rows(named=True))
            more = f" and {with_addons.height - 10} more" if with_addons.height > 10 else ""
            notes.append(f"{with_addons.height} TCE(s) include non-transport emissions (tank cleaning, tce_addons): {named}{more};"
                         " they are in co2eWTW and, having no TTW/WTT split, in co2eTTW as an upper bound")
    if fmt != "ileap":  # bare iLEAP payloads carry no reference period
        built, periods, period_problems = _periods(built, config)
        problems += period_problems
    toc_ids = list(dict.fromkeys(t for s in built for t in s.toc_ids))
    hoc_ids = list(dict.fromkeys(h for s in built for h in s.hoc_ids))
    tables, pack_problems = _factor_tables(complete, pack, tocs, hocs)
    categories, category_problems = _categories(complete, toc_ids, hoc_ids, tables, config)
    problems += pack_problems + category_problems
    # A shipment whose TOC or HOC could not be built would point to a document nobody publishes.
    made = {(c.kind, c.ident) for c in categories}
    for s in built:
        missing = [f"TOC {t}" for t in s.toc_ids if ("toc", t) not in made] + [f"HOC {h}" for h in s.hoc_ids if ("hoc", h) not in made]
        if missing:
            problems.append(f"shipment {s.shipment_id}: not exported: it references {', '.join(missing)}, "
                            "which could not be exported")
    built = [s for s in built if all(("toc", t) in made for t in s.toc_ids) and all(("hoc", h) in made for h in s.hoc_ids)]
    complete = complete.filter(pl.col("shipment_id").is_in([s.shipment_id for s in built]))
    if fmt == "ileap":
        documents = [s.payload for s in built] + [c.payload for c in categories]
        if "departure_at" in complete.columns or "arrival_at" in complete.columns:
            tads, tad_problems = tad_payloads(complete)
            documents += tads
            problems += tad_problems
        else:
            notes.append("no TAD: the results have no departure_at / arrival_at columns (a TAD requires both)")
        return Export(documents, problems, notes)
    used_by: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for s in built:
        for kind, idents in (("toc", s.toc_ids), ("hoc", s.hoc_ids)):
            for ident in idents:
                used_by.setdefault((kind, ident), []).append(periods[s.shipment_id])
    # A TOC/HOC's period covers the shipments it is published with.
    category_period = {k: (min(p[0] for p in v), max(p[1] for p in v)) for k, v in used_by.items()}
    declarations = [shipment_declaration(s, periods[s.shipment_id]) for s in built] + [
        category_declaration(c, config, category_period[(c.kind, c.ident)])
        for c in categories if (c.kind, c.ident) in category_period
    ]
    writer = FootprintWriter(config)
    wrap = writer.v2 if fmt == "pact-v2" else writer.v3
    return Export([wrap(d) for d in declarations], problems, notes)


def export_documents(
    legs: Any,
    shipments: pl.DataFrame | None = None,
    fmt: str = "pact-v2",
    config: ExchangeConfig | None = None,
    **tables: Any,
) -> list[dict[str, Any]]:
    """``build_export(...).documents``, refusing (``ExchangeError`` listing them all) when anything
    could not be exported."""
    result = build_export(legs, shipments, fmt, config, **tables)
    if result.problems:
        raise ExchangeError("; ".join(result.problems))
    return result.documents


@dataclass
class ExportReport:
    path: Path
    documents: int
    problems: list[str]
    notes: list[str]


def export_file(
    results: str | os.PathLike,
    fmt: str = "pact-v2",
    out: str | os.PathLike | None = None,
    config: str | os.PathLike | ExchangeConfig | None = None,
    *,
    pack: Any = None,
    tocs: Any = None,
    hocs: Any = None,
    factors: Any = None,
) -> ExportReport:
    """``logistics-co2 export RESULTS --format FMT``: writes ``{"data": [...]}`` (the shape of a PACT
    list response) to ``out`` (default ``<RESULTS stem>.<fmt>.json`` beside RESULTS)."""
    settings = config if isinstance(config, ExchangeConfig) else load_config(config)
    result = build_export(results, None, fmt, settings, pack=pack, tocs=tocs, hocs=hocs, factors=factors)
    path = Path(out) if out is not None else Path(results).with_name(f"{Path(results).stem}.{fmt}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"data": result.documents}, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    return ExportReport(path, len(result.documents), result.problems, result.notes)
