"""From exchange documents (built by ``logistics.exchange``) to stored rows with the fields they are
listed, filtered and shared by."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .storage import StoredDocument

VALIDITY_YEARS = 3  # PACT: without a validity period a footprint is valid 3 years from referencePeriodEnd


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 date-time as UTC; ``None`` for ``None``. Raises ValueError when malformed.
    A ``+00:00`` offset that arrived URL-decoded as `` 00:00`` is accepted."""
    if text is None:
        return None
    text = text.strip()
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        text = text[:-6] + "+" + text[-5:]
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_us(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1_000_000)


def _plus_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def ileap_subject(doc: dict) -> tuple[str, str]:
    """(kind, id) of the iLEAP payload a ProductFootprint carries: shipment, toc or hoc."""
    for extension in doc.get("extensions") or []:
        data = extension.get("data") or {}
        if "shipmentId" in data and "tces" in data:
            return "shipment", str(data["shipmentId"])
        if "tocId" in data:
            return "toc", str(data["tocId"])
        if "hocId" in data:
            return "hoc", str(data["hocId"])
    return "product", str((doc.get("productIds") or [doc["id"]])[0])


def _payload(doc: dict) -> dict:
    """The iLEAP payload of a document: a ProductFootprint's extension data, or the payload itself."""
    if "shipmentId" in doc or "tocId" in doc or "hocId" in doc:
        return doc
    for extension in doc.get("extensions") or []:
        data = extension.get("data") or {}
        if "shipmentId" in data or "tocId" in data or "hocId" in data:
            return data
    return {}


def publishable(documents: list[dict]) -> tuple[list[dict], list[str]]:
    """The documents to publish, and why the others are not: a shipment footprint whose TCEs name
    a TOC or HOC (``tocId``/``hocId``) that has no document among ``documents`` would send its
    receiver to a footprint the host does not serve (iLEAP conformance TC002/TC003), so it is left
    out with the reason. Works on PACT footprints and on bare iLEAP payloads."""
    served = {("tocId", p["tocId"]) for p in map(_payload, documents) if "tocId" in p and "tces" not in p}
    served |= {("hocId", p["hocId"]) for p in map(_payload, documents) if "hocId" in p and "tces" not in p}
    kept, problems = [], []
    for doc in documents:
        payload = _payload(doc)
        missing = [f"{'TOC' if key == 'tocId' else 'HOC'} {tce[key]!r}" for tce in payload.get("tces") or []
                   for key in ("tocId", "hocId") if tce.get(key) and (key, tce[key]) not in served]
        if missing:
            problems.append(f"shipment {payload.get('shipmentId')}: not published: it names "
                            f"{', '.join(dict.fromkeys(missing))}, which has no footprint (the problem about it says why)")
        else:
            kept.append(doc)
    return kept, problems


def footprint_row(doc: dict, family: str) -> StoredDocument:
    pcf = doc["pcf"]
    kind, ident = ileap_subject(doc)
    ref_start, ref_end = parse_time(pcf.get("referencePeriodStart")), parse_time(pcf.get("referencePeriodEnd"))
    valid_from = parse_time(doc.get("validityPeriodStart")) or ref_end
    valid_until = parse_time(doc.get("validityPeriodEnd")) or (_plus_years(ref_end, VALIDITY_YEARS) if ref_end else None)
    geography = [pcf.get(k) for k in ("geographyCountry", "geographyCountrySubdivision", "geographyRegionOrSubregion")]
    classifications = list(doc.get("productClassifications") or [])
    if doc.get("productCategoryCpc"):
        classifications.append(f"urn:cpc:{doc['productCategoryCpc']}")
    terms = (
        [("productid", v.lower()) for v in doc.get("productIds", [])]
        + [("companyid", v.lower()) for v in doc.get("companyIds", [])]
        + [("geography", g.lower()) for g in geography if g]
        + [("classification", c.lower()) for c in dict.fromkeys(classifications)]
    )
    return StoredDocument(
        family=family,
        doc_id=doc["id"],
        kind=kind,
        product_key=f"{kind}:{ident}",
        status=doc.get("status", "Active"),
        body=json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        created_us=to_us(parse_time(doc.get("created"))),
        updated_us=to_us(parse_time(doc.get("updated"))),
        ref_start_us=to_us(ref_start),
        ref_end_us=to_us(ref_end),
        valid_from_us=to_us(valid_from),
        valid_until_us=to_us(valid_until),
        cpc=doc.get("productCategoryCpc"),
        geography_country=pcf.get("geographyCountry"),
        terms=terms,
    )


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif value is not None:
        yield path, str(value)


def tad_row(tad: dict, shipment_id: str) -> StoredDocument:
    """A TAD, searchable by every property: by its full path (``origin.city``) and by its last
    name (``city``), values lower-cased, as the iLEAP TAD filter is case-insensitive."""
    terms: dict[tuple[str, str], None] = {}
    for path, value in _leaves(tad):
        terms[(path, value.lower())] = None
        terms[(path.rsplit(".", 1)[-1], value.lower())] = None
    return StoredDocument(
        family="tad",
        doc_id=str(tad["activityId"]),
        kind="tad",
        product_key=f"shipment:{shipment_id}",  # shared with whoever receives the shipment
        status="Active",
        body=json.dumps(tad, ensure_ascii=False, separators=(",", ":")),
        created_us=to_us(parse_time(tad.get("departureAt"))),
        terms=list(terms),
    )
