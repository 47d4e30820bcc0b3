"""Reading exchanged documents back: a shipper receiving a carrier's footprints.

``parse_footprints`` gives typed ProductFootprints (v2 or v3, with iLEAP extension data typed);
``parse_ileap`` gives bare iLEAP documents; ``tce_table`` and ``footprint_table`` turn either into
polars frames whose columns match the engine's (``co2e_wtw_kg``, ``tkm``, …) for comparison and
aggregation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from pydantic import BaseModel, ValidationError

from ..schema import DType
from .models import HOC, TAD, TOC, ProductFootprint, ProductFootprintV2, ProductFootprintV3, ShipmentFootprint
from .validate import document_items, document_kind, load_document

_ILEAP: dict[str, type[BaseModel]] = {"ShipmentFootprint": ShipmentFootprint, "TOC": TOC, "HOC": HOC, "TAD": TAD}


class ParseError(ValueError):
    """A document that does not fit its type; the message starts with its JSON path."""


def _parse(doc_or_path: Any, kinds: Mapping[str, type[BaseModel]]) -> list:
    parsed = []
    for path, item in document_items(load_document(doc_or_path)):
        kind = document_kind(item)
        model = kinds.get(kind or "")
        if model is None:
            raise ParseError(f"{path}: expected {' or '.join(kinds)}, found {kind or 'an unknown document'}")
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
            raise ParseError(f"{path}{where}: {first['msg']} ({exc.error_count()} problem(s) in all)") from exc
    return parsed


def parse_footprints(doc_or_path: Any) -> list[ProductFootprint]:
    """Typed ProductFootprints from a footprint, a list of them, an API response
    ``{"data": ...}`` or a JSON file holding one of these."""
    return _parse(doc_or_path, {"pact-v2": ProductFootprintV2, "pact-v3": ProductFootprintV3})


def parse_ileap(doc_or_path: Any) -> list[ShipmentFootprint | TOC | HOC | TAD]:
    """Typed bare iLEAP documents (ShipmentFootprint, TOC, HOC, TAD), e.g. a ``/2/ileap/tad`` response."""
    return _parse(doc_or_path, _ILEAP)


def _shipments(items: list) -> list[tuple[str | None, ShipmentFootprint]]:
    out: list[tuple[str | None, ShipmentFootprint]] = []
    for item in items:
        if isinstance(item, ShipmentFootprint):
            out.append((None, item))
        for ext in getattr(item, "extensions", None) or []:
            if isinstance(ext.data, ShipmentFootprint):
                out.append((item.id, ext.data))
    return out


def tce_table(items: list) -> pl.DataFrame:
    """One row per TCE of every ShipmentFootprint in ``items`` (footprints or bare documents)."""
    rows = []
    for footprint_id, sf in _shipments(items):
        for seq, tce in enumerate(sf.tces, start=1):
            kind, distance = next((k, getattr(tce.distance, k)) for k in ("actual", "sfd", "gcd")
                                   if getattr(tce.distance, k) is not None)
            rows.append({
                "footprint_id": footprint_id,
                "shipment_id": sf.shipmentId,
                "tce_id": tce.tceId,
                "leg_seq": seq,
                "prev_tce_ids": tce.prevTceIds or [],
                "toc_id": tce.tocId,
                "hoc_id": tce.hocId,
                "mass_kg": float(tce.mass),
                "distance_km": float(distance),
                "distance_type": kind,
                "tkm": float(tce.transportActivity),
                "co2e_wtw_kg": float(tce.co2eWTW),
                "co2e_ttw_kg": float(tce.co2eTTW),
            })
    schema: dict[str, DType] = {"footprint_id": pl.String, "shipment_id": pl.String, "tce_id": pl.String, "leg_seq": pl.Int64,
              "prev_tce_ids": pl.List(pl.String), "toc_id": pl.String, "hoc_id": pl.String,
              "mass_kg": pl.Float64, "distance_km": pl.Float64, "distance_type": pl.String, "tkm": pl.Float64,
              "co2e_wtw_kg": pl.Float64, "co2e_ttw_kg": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def footprint_table(footprints: list[ProductFootprint]) -> pl.DataFrame:
    """One row per ProductFootprint: what it declares, in either PACT version."""
    rows = []
    for pf in footprints:
        pcf = pf.pcf
        if isinstance(pf, ProductFootprintV2):
            unit, amount, co2e = pf.pcf.declaredUnit, pf.pcf.unitaryProductAmount, pf.pcf.pCfExcludingBiogenic
        else:
            unit, amount, co2e = pf.pcf.declaredUnitOfMeasurement, pf.pcf.declaredUnitAmount, pf.pcf.pcfExcludingBiogenicUptake
        data = pf.extensions[0].data if pf.extensions else None
        rows.append({
            "id": pf.id,
            "spec_version": pf.specVersion,
            "kind": type(data).__name__ if data is not None and not isinstance(data, dict) else None,
            "product_id": pf.productIds[0],
            "declared_unit": unit,
            "declared_amount": float(amount),
            "co2e_kg": float(co2e),
            "primary_data_share_percent": None if pcf.primaryDataShare is None else float(pcf.primaryDataShare),
        })
    schema = {"id": pl.String, "spec_version": pl.String, "kind": pl.String, "product_id": pl.String,
              "declared_unit": pl.String, "declared_amount": pl.Float64, "co2e_kg": pl.Float64,
              "primary_data_share_percent": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
