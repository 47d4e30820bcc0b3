"""Check a PACT / iLEAP document and list every violation, each with its JSON path.

Two layers:

1. The published schemas, shipped unmodified in ``schemas/`` (offline): the PACT OpenAPI
   ``ProductFootprint`` of the document's version (2.2, 2.3 or 3.0; JSON Schema 2020-12), and for
   iLEAP payloads the iLEAP v1.0.0 schemas (draft-07): the ``pcf-*`` wrapper for a v2 footprint, the
   bare type for a v3 footprint's extension or a bare document. The wrappers' broken
   ``#/definitions/Toc`` / ``Hoc`` references are resolved here by aliasing the names in memory.
   Formats the OpenAPI documents use are checked too (``uuid``, ``date-time``, ``uri``,
   ``decimal``), and the sign limits they write as ``x-comment: ">= 0"``.
2. Rules the schemas miss (PACT / iLEAP prose, the conformance tools' expectations):
   - no ``null`` for an absent optional field, no empty array (except a first TCE's ``prevTceIds``);
   - reference period end after start; validity period within reference end + 3 years;
     ``packagingGhgEmissions`` only with ``packagingEmissionsIncluded``; v2 date-times in UTC;
     v2 ``exemptedEmissionsPercent`` at most 5 (2.2 prose); ``otherOperatorName`` iff operator Other;
   - iLEAP footprints: exactly one extension, extension ``specVersion`` 2.0.0, https ``dataSchema``,
     CPC 83117, ``packagingEmissionsIncluded`` false, the declared unit of the type, the type's URN
     in ``productIds``, fossil emissions = the declared PCF, and for a ShipmentFootprint the
     declared amount = Σ transportActivity and PCF = Σ co2eWTW;
   - ShipmentFootprint: exactly one of ``tocId``/``hocId`` per TCE, WTW ≥ TTW ≥ 0, transportActivity =
     distance × mass / 1000 (to the written precision), each TCE's shipmentId = the footprint's,
     unique tceIds, ``prevTceIds`` naming earlier TCEs of the same footprint;
   - TOC/HOC/TAD: Σ relativeShare = 1 with each share in (0, 1], WTW ≥ TTW ≥ 0 (intensities and
     emission factors), loadFactor in (0, 1], emptyDistanceFactor in [0, 1), energyConsumption with
     its unit, Σ feedstockShare ≤ 1, truckLoadingSequence for road only, lat and lng together,
     arrival not before departure;
   - no property the iLEAP types do not define (legacy ``co2eIntensityThroughput``, ``isVerified``,
     ``feedstockPercentage`` pass the published schemas silently).

Not checked: PACT 2.x's "mandatory from reference year 2025" fields (``pCfIncludingBiogenic``, …),
which the iLEAP mapping says SHOULD be absent for logistics; the two texts conflict.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, get_args
from urllib.parse import unquote, urlparse

import jsonschema
import yaml
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .decimals import half_last_digit, parse_decimal
from .models import HOC, ILEAP_DATA_SCHEMAS, TAD, TOC, Model, ShipmentFootprint

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
PACT_OPENAPI = {"2.2": "openapi_v2_2.yaml", "2.3": "openapi_v2_3.yaml", "3.0": "openapi_v3_0.yaml"}
ILEAP_KINDS = {"ShipmentFootprint": "shipment-footprint", "TOC": "toc", "HOC": "hoc", "TAD": "tad"}
ILEAP_MODELS: dict[str, type[Model]] = {"ShipmentFootprint": ShipmentFootprint, "TOC": TOC, "HOC": HOC, "TAD": TAD}
KIND_OF_SCHEMA_URL = {url: kind.__name__ for url, kind in ILEAP_DATA_SCHEMAS.items()}
PRODUCT_URN_SEGMENT = {"ShipmentFootprint": "shipment", "TOC": "toc", "HOC": "hoc"}
DECLARED_UNIT = {"ShipmentFootprint": "ton kilometer", "TOC": "ton kilometer", "HOC": "kilogram"}
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)
SIGN_RULE = re.compile(r"^\s*(>=|>|<=|<)\s*0\s*$")
ONE = Decimal(1)


# ----------------------------------------------------------------------------------------------
# Schema layer


def _checker(decimal_pattern: str) -> FormatChecker:
    checker = FormatChecker(formats=())
    decimal = re.compile(decimal_pattern)

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not DATE_TIME.match(value):
            raise ValueError("not an RFC 3339 date-time with a time zone")
        datetime.fromisoformat(value)
        return True

    @checker.checks("uuid", raises=ValueError)
    def _uuid(value: object) -> bool:
        return not isinstance(value, str) or (uuid.UUID(value) is not None and len(value) == 36)

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlparse(value)
        return bool(parts.scheme) and bool(parts.netloc or parts.path)

    @checker.checks("decimal")
    def _decimal(value: object) -> bool:
        return not isinstance(value, str) or bool(decimal.match(value))

    return checker


def _sign_rule(validator, comment, instance, schema) -> Iterator[ValidationError]:
    """The OpenAPI documents state sign limits only as ``x-comment: ">= 0"``: enforce them."""
    match = SIGN_RULE.match(comment) if isinstance(comment, str) else None
    if match is None:
        return
    value = parse_decimal(instance)
    if value is None:
        return
    op = match.group(1)
    ok = {">=": value >= 0, ">": value > 0, "<=": value <= 0, "<": value < 0}[op]
    if not ok:
        yield ValidationError(f"{instance!r} must be {op} 0")


PactValidator = jsonschema.validators.extend(Draft202012Validator, {"x-comment": _sign_rule})


@cache
def _pact_validator(version: str) -> jsonschema.protocols.Validator:
    uri = f"urn:logistics-co2:pact-openapi:{version}"
    document = yaml.safe_load((SCHEMA_DIR / "pact" / PACT_OPENAPI[version]).read_text(encoding="utf8"))
    registry = Registry().with_resource(uri, Resource.from_contents(document, default_specification=DRAFT202012))
    pattern = r"^[+-]?\d+(\.\d+)?$" if version.startswith("3") else r"^-?\d+(\.\d+)?$"
    return PactValidator({"$ref": f"{uri}#/components/schemas/ProductFootprint"}, registry=registry, format_checker=_checker(pattern))


def _alias_dangling_definitions(schema: dict) -> dict:
    """Add ``Toc`` for ``TOC`` (etc.) where a ``$ref`` names a definition only by another case."""
    definitions = schema.get("definitions", {})
    by_folded = {name.lower(): name for name in definitions}
    for ref in set(re.findall(r'"\$ref":\s*"#/definitions/([^"]+)"', json.dumps(schema))):
        if ref not in definitions and ref.lower() in by_folded:
            definitions[ref] = {"$ref": f"#/definitions/{by_folded[ref.lower()]}"}
    return schema


@cache
def _ileap_validator(name: str) -> Draft7Validator:
    schema = json.loads((SCHEMA_DIR / "ileap-1.0" / f"{name}.json").read_text(encoding="utf8"))
    return Draft7Validator(_alias_dangling_definitions(schema), format_checker=_checker(r"^-?\d+(\.\d+)?$"))


def _describe(error: ValidationError, prefix: str = "$") -> str:
    """``<path>: <message>``; for anyOf/oneOf failures, the most relevant branch's reason (not the
    ``null`` branch the iLEAP schemas add to every optional field)."""
    if error.context:
        branches = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        error = best_match(branches or error.context)
    return f"{prefix}{error.json_path[1:]}: {error.message}"


def schema_errors(validator, document: Any, prefix: str = "$") -> list[str]:
    return [_describe(e, prefix) for e in validator.iter_errors(document)]


# ----------------------------------------------------------------------------------------------
# Document kinds


def document_kind(doc: Any) -> str | None:
    """``pact-v2``, ``pact-v3``, ``ShipmentFootprint``, ``TOC``, ``HOC``, ``TAD`` or None."""
    if not isinstance(doc, dict):
        return None
    if "pcf" in doc:
        pcf = doc["pcf"] if isinstance(doc["pcf"], dict) else {}
        v3 = str(doc.get("specVersion", "")).startswith("3") or "declaredUnitOfMeasurement" in pcf
        return "pact-v3" if v3 else "pact-v2"
    if "tces" in doc:
        return "ShipmentFootprint"
    if "tocId" in doc:
        return "TOC"
    if "hocId" in doc and "hubType" in doc:
        return "HOC"
    if "activityId" in doc:
        return "TAD"
    return None


def _ileap_extensions(doc: dict) -> list[tuple[int, str, Any]]:
    out = []
    for i, ext in enumerate(doc.get("extensions") or []):
        if isinstance(ext, dict) and ext.get("dataSchema") in KIND_OF_SCHEMA_URL:
            out.append((i, KIND_OF_SCHEMA_URL[ext["dataSchema"]], ext.get("data")))
    return out


# ----------------------------------------------------------------------------------------------
# Rules the schemas miss


def _nulls_and_empty_arrays(value: Any, path: str) -> Iterator[str]:
    if value is None:
        yield f"{path}: null; leave an absent optional field out instead"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nulls_and_empty_arrays(item, f"{path}.{key}")
    elif isinstance(value, list):
        if not value and not path.endswith(".prevTceIds"):
            yield f"{path}: empty array; leave the property out instead"
        for i, item in enumerate(value):
            yield from _nulls_and_empty_arrays(item, f"{path}[{i}]")


def _moment(text: Any) -> datetime | None:
    if isinstance(text, str) and DATE_TIME.match(text):
        return datetime.fromisoformat(text)
    return None


def _decimal(obj: dict, key: str) -> Decimal | None:
    return parse_decimal(obj.get(key)) if isinstance(obj, dict) else None


def _close(a: Decimal, b: Decimal, slack: Decimal) -> bool:
    return abs(a - b) <= slack + abs(b) * Decimal("1e-9")


def _footprint_rules(doc: dict, kind: str) -> Iterator[str]:
    pcf = doc.get("pcf")
    if not isinstance(pcf, dict):
        pcf = {}
    start, end = _moment(pcf.get("referencePeriodStart")), _moment(pcf.get("referencePeriodEnd"))
    if start and end and end <= start:
        yield "$.pcf.referencePeriodEnd: must be after referencePeriodStart (the end is exclusive)"
    valid_from, valid_to = _moment(doc.get("validityPeriodStart")), _moment(doc.get("validityPeriodEnd"))
    if valid_from and end and valid_from < end:
        yield "$.validityPeriodStart: must not be before pcf.referencePeriodEnd"
    if valid_to and valid_from and valid_to <= valid_from:
        yield "$.validityPeriodEnd: must be after validityPeriodStart"
    if valid_to and end and valid_to > end + timedelta(days=3 * 365 + 1):
        yield "$.validityPeriodEnd: must be at most 3 years after pcf.referencePeriodEnd"
    if pcf.get("packagingEmissionsIncluded") is False and "packagingGhgEmissions" in pcf:
        yield "$.pcf.packagingGhgEmissions: must be absent when packagingEmissionsIncluded is false"
    for i, rule in enumerate(pcf.get("productOrSectorSpecificRules") or []):
        if isinstance(rule, dict) and (rule.get("operator") == "Other") != ("otherOperatorName" in rule):
            yield f"$.pcf.productOrSectorSpecificRules[{i}]: otherOperatorName is required with operator Other, and only then"
    if kind == "pact-v2":
        stamps = {f"$.{k}": doc.get(k) for k in ("created", "updated", "validityPeriodStart", "validityPeriodEnd")}
        stamps.update({f"$.pcf.{k}": pcf.get(k) for k in ("referencePeriodStart", "referencePeriodEnd")})
        for path, text in stamps.items():
            moment = _moment(text)
            if moment and moment.utcoffset() != timedelta(0):
                yield f"{path}: PACT 2.x date-times are in UTC (end in Z)"
        exempted = pcf.get("exemptedEmissionsPercent")
        if isinstance(exempted, (int, float)) and exempted > 5:
            yield "$.pcf.exemptedEmissionsPercent: at most 5 in PACT 2.x"
    extensions = _ileap_extensions(doc)
    if extensions:
        yield from _ileap_footprint_rules(doc, pcf, kind, extensions)


def _ileap_footprint_rules(doc: dict, pcf: dict, kind: str, extensions: list) -> Iterator[str]:
    """The iLEAP v1.0.0 mapping onto PACT (its v2 table; for v3 the same facts under v3 names)."""
    v3 = kind == "pact-v3"
    names = ("declaredUnitOfMeasurement", "declaredUnitAmount", "pcfExcludingBiogenicUptake") if v3 else (
        "declaredUnit", "unitaryProductAmount", "pCfExcludingBiogenic")
    unit_key, amount_key, pcf_key = names
    if len(doc.get("extensions") or []) != 1:
        yield "$.extensions: an iLEAP footprint carries exactly one extension"
    if not v3 and doc.get("productCategoryCpc") != "83117":
        yield "$.productCategoryCpc: iLEAP footprints use \"83117\""
    if pcf.get("packagingEmissionsIncluded") is not False and not (v3 and "packagingEmissionsIncluded" not in pcf):
        yield "$.pcf.packagingEmissionsIncluded: must be false for iLEAP footprints"
    declared = parse_decimal(pcf.get(pcf_key))
    fossil = parse_decimal(pcf.get("fossilGhgEmissions"))
    if declared is not None and fossil is not None and declared != fossil:
        yield f"$.pcf.fossilGhgEmissions: must equal {pcf_key} ({pcf.get(pcf_key)})"
    for i, data_kind, data in extensions:
        at = f"$.extensions[{i}]"
        ext = doc["extensions"][i]
        if ext.get("specVersion") != "2.0.0":
            yield f"{at}.specVersion: must be \"2.0.0\" (the Data Model Extensions spec version)"
        for key in ("dataSchema", "documentation"):
            if key in ext and not str(ext[key]).startswith("https://"):
                yield f"{at}.{key}: must be an https URL"
        if pcf.get(unit_key) != DECLARED_UNIT[data_kind]:
            yield f"$.pcf.{unit_key}: a {data_kind} footprint declares \"{DECLARED_UNIT[data_kind]}\""
        if not isinstance(data, dict):
            continue
        ident = data.get({"ShipmentFootprint": "shipmentId", "TOC": "tocId", "HOC": "hocId"}[data_kind])
        segment = PRODUCT_URN_SEGMENT[data_kind]
        product_ids = [str(p) for p in doc.get("productIds") or []]
        if isinstance(ident, str) and not any(p.lower().startswith("urn:pathfinder:product:customcode:")
                                              and _urn_id(p, segment) == ident for p in product_ids):
            yield (f"$.productIds: must contain urn:pathfinder:product:customcode:vendor-assigned:{segment}:{ident} "
                   f"(or buyer-assigned)")
        if data_kind == "ShipmentFootprint" and isinstance(data.get("tces"), list):
            tces = [t for t in data["tces"] if isinstance(t, dict)]
            yield from _sum_rule(pcf, amount_key, [t.get("transportActivity") for t in tces], "transportActivity")
            yield from _sum_rule(pcf, pcf_key, [t.get("co2eWTW") for t in tces], "co2eWTW")
        elif data_kind in ("TOC", "HOC") and declared is not None:
            intensity = parse_decimal(data.get("co2eIntensityWTW"))
            if intensity is not None and intensity != declared:
                yield f"$.pcf.{pcf_key}: must equal the extension's co2eIntensityWTW ({data['co2eIntensityWTW']})"


def _urn_id(urn: str, segment: str) -> str | None:
    match = re.match(rf"^urn:pathfinder:product:customcode:(vendor|buyer)-assigned:{segment}:(.+)$", urn, re.IGNORECASE)
    return unquote(match.group(2)) if match else None


def _sum_rule(pcf: dict, key: str, parts: list, part_name: str) -> Iterator[str]:
    total = parse_decimal(pcf.get(key))
    values = [v for v in (parse_decimal(p) for p in parts) if v is not None]
    if total is None or len(values) != len(parts):
        return
    slack = half_last_digit(pcf[key]) + sum((half_last_digit(p) for p in parts), Decimal(0))
    if not _close(total, sum(values, Decimal(0)), slack):
        yield f"$.pcf.{key}: {pcf[key]} is not the sum of the TCEs' {part_name} ({sum(values, Decimal(0))})"


def _shipment_rules(sf: dict, path: str) -> Iterator[str]:
    tces = sf.get("tces")
    if not isinstance(tces, list):
        tces = []
    seen: set[str] = set()
    ids = {t.get("tceId") for t in tces if isinstance(t, dict)}
    for i, tce in enumerate(tces):
        if not isinstance(tce, dict):
            continue
        at = f"{path}.tces[{i}]"
        if ("tocId" in tce) == ("hocId" in tce):
            yield f"{at}: exactly one of tocId and hocId must be set"
        if "shipmentId" in tce and "shipmentId" in sf and tce["shipmentId"] != sf["shipmentId"]:
            yield f"{at}.shipmentId: {tce['shipmentId']!r} is not the footprint's shipmentId {sf['shipmentId']!r}"
        tce_id = tce.get("tceId")  # a missing one is the schema's finding
        if tce_id is not None and tce_id in seen:
            yield f"{at}.tceId: {tce_id!r} appears more than once"
        for prev in tce.get("prevTceIds") or []:
            if prev == tce_id or prev not in ids:
                yield f"{at}.prevTceIds: {prev!r} is not another TCE of this footprint"
        if tce_id is not None:
            seen.add(tce_id)
        yield from _wtw_ttw(tce, "co2eWTW", "co2eTTW", at)
        for key in ("mass", "transportActivity"):
            value = _decimal(tce, key)
            if value is not None and value < 0:
                yield f"{at}.{key}: must not be negative"
        yield from _activity_rule(tce, at)
        for side in ("origin", "destination"):
            yield from _location_rules(tce.get(side), f"{at}.{side}")


def _activity_rule(tce: dict, at: str) -> Iterator[str]:
    """transportActivity = distance_km × mass_kg / 1000 (iLEAP TCE), for any distance given."""
    activity, mass = _decimal(tce, "transportActivity"), _decimal(tce, "mass")
    distance = tce.get("distance")
    if not isinstance(distance, dict):
        distance = {}
    parsed = {k: parse_decimal(v) for k, v in distance.items()}
    given = {k: d for k, d in parsed.items() if d is not None}
    if activity is None or mass is None or not given:
        return
    slack = half_last_digit(tce["transportActivity"])
    expected = {k: d * mass / 1000 for k, d in given.items()}
    if not any(_close(activity, e, slack + half_last_digit(distance[k]) * mass / 1000) for k, e in expected.items()):
        shown = ", ".join(f"{k} {distance[k]} km × {tce['mass']} kg / 1000 = {e.normalize():f}" for k, e in expected.items())
        yield f"{at}.transportActivity: {tce['transportActivity']} is not distance × mass ({shown})"


def _wtw_ttw(obj: dict, wtw_key: str, ttw_key: str, at: str) -> Iterator[str]:
    wtw, ttw = _decimal(obj, wtw_key), _decimal(obj, ttw_key)
    for key, value in ((wtw_key, wtw), (ttw_key, ttw)):
        if value is not None and value < 0:
            yield f"{at}.{key}: must not be negative"
    if wtw is not None and ttw is not None and wtw < ttw:
        yield f"{at}.{wtw_key}: {obj[wtw_key]} is less than {ttw_key} {obj[ttw_key]} (WTW = TTW + WTT)"


def _location_rules(location: Any, at: str) -> Iterator[str]:
    if isinstance(location, dict) and ("lat" in location) != ("lng" in location):
        yield f"{at}: give lat and lng together"


def _energy_rules(carriers: Any, at: str) -> Iterator[str]:
    if not isinstance(carriers, list) or not carriers:
        return
    shares = []
    for i, carrier in enumerate(carriers):
        if not isinstance(carrier, dict):
            continue
        c_at = f"{at}[{i}]"
        share = _decimal(carrier, "relativeShare")
        if share is not None:
            shares.append((share, carrier["relativeShare"]))
            if not 0 < share <= 1:
                yield f"{c_at}.relativeShare: must be in (0, 1]"
        yield from _wtw_ttw(carrier, "emissionFactorWTW", "emissionFactorTTW", c_at)
        if "energyConsumption" in carrier and "energyConsumptionUnit" not in carrier:
            yield f"{c_at}.energyConsumptionUnit: required with energyConsumption"
        feedstock = [_decimal(f, "feedstockShare") for f in carrier.get("feedstocks") or [] if isinstance(f, dict)]
        if sum((f for f in feedstock if f is not None), Decimal(0)) > 1:
            yield f"{c_at}.feedstocks: feedstockShare values add up to more than 1"
    if shares and len(shares) == len(carriers):
        # Shares are stated fractions, not rounded measurements: only the coarsest written digit is slack.
        slack = max(half_last_digit(text) for _, text in shares)
        total = sum((s for s, _ in shares), Decimal(0))
        if not _close(total, ONE, slack):
            yield f"{at}: relativeShare values add up to {total}, not 1"


def _ratio_rules(obj: dict, at: str) -> Iterator[str]:
    load, empty = _decimal(obj, "loadFactor"), _decimal(obj, "emptyDistanceFactor")
    if load is not None and not 0 < load <= 1:
        yield f"{at}.loadFactor: must be in (0, 1]"
    if empty is not None and not 0 <= empty < 1:
        yield f"{at}.emptyDistanceFactor: must be in [0, 1)"


def _category_rules(doc: dict, kind: str, path: str) -> Iterator[str]:
    yield from _energy_rules(doc.get("energyCarriers"), f"{path}.energyCarriers")
    yield from _ratio_rules(doc, path)
    if kind in ("TOC", "HOC"):
        yield from _wtw_ttw(doc, "co2eIntensityWTW", "co2eIntensityTTW", path)
    if kind == "TOC" and "truckLoadingSequence" in doc and doc.get("mode") in ("Rail", "Air", "Sea", "InlandWaterway"):
        yield f"{path}.truckLoadingSequence: for road TOCs only"
    if kind == "HOC":
        yield from _location_rules(doc.get("hubLocation"), f"{path}.hubLocation")
    if kind == "TAD":
        for side in ("origin", "destination"):
            yield from _location_rules(doc.get(side), f"{path}.{side}")
        left, arrived = _moment(doc.get("departureAt")), _moment(doc.get("arrivalAt"))
        if left and arrived and arrived < left:
            yield f"{path}.arrivalAt: before departureAt"


def _unknown_properties(value: Any, model: type[Model], path: str) -> Iterator[str]:
    """Properties the iLEAP type does not define (its published schema lets them through)."""
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        info = model.model_fields.get(key)
        if info is None:
            yield f"{path}.{key}: not a property of iLEAP {model.__name__}"
            continue
        inner = _model_in(info.annotation)
        if inner is None:
            continue
        for i, element in enumerate(item if isinstance(item, list) else [item]):
            yield from _unknown_properties(element, inner, f"{path}.{key}[{i}]" if isinstance(item, list) else f"{path}.{key}")


def _model_in(annotation: Any) -> type[Model] | None:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _ileap_rules(data: Any, kind: str, path: str) -> Iterator[str]:
    if not isinstance(data, dict):
        return
    yield from _unknown_properties(data, ILEAP_MODELS[kind], path)
    if kind == "ShipmentFootprint":
        yield from _shipment_rules(data, path)
    else:
        yield from _category_rules(data, kind, path)


# ----------------------------------------------------------------------------------------------
# Entry points


def _validate_one(doc: Any) -> list[str]:
    kind = document_kind(doc)
    if kind is None:
        return ["$: not a PACT ProductFootprint nor an iLEAP ShipmentFootprint, TOC, HOC or TAD"]
    found = list(_nulls_and_empty_arrays(doc, "$"))
    if kind in ILEAP_KINDS:
        found += schema_errors(_ileap_validator(ILEAP_KINDS[kind]), doc)
        found += _ileap_rules(doc, kind, "$")
        return found
    spec = str(doc.get("specVersion", ""))
    version = "3.0" if kind == "pact-v3" else ("2.2" if re.match(r"^2\.[0-2]\.", spec) else "2.3")
    found += schema_errors(_pact_validator(version), doc)
    for i, data_kind, data in _ileap_extensions(doc):
        at = f"$.extensions[{i}].data"
        if kind == "pact-v2":
            found += schema_errors(_ileap_validator(f"pcf-{ILEAP_KINDS[data_kind]}"), doc)
        else:
            found += schema_errors(_ileap_validator(ILEAP_KINDS[data_kind]), data, at)
        found += _ileap_rules(data, data_kind, at)
    found += _footprint_rules(doc, kind)
    return found


def document_items(doc: Any) -> list[tuple[str, Any]]:
    """The documents inside an API envelope (``{"data": [...]}`` / ``{"data": {...}}``) or a list."""
    if isinstance(doc, list):
        return [(f"$[{i}]", item) for i, item in enumerate(doc)]
    if isinstance(doc, dict) and "data" in doc and document_kind(doc) is None:
        data = doc["data"]
        if isinstance(data, list):
            return [(f"$.data[{i}]", item) for i, item in enumerate(data)]
        return [("$.data", data)]
    return [("$", doc)]


def load_document(doc_or_path: Any) -> Any:
    if isinstance(doc_or_path, (str, os.PathLike)):
        return json.loads(Path(doc_or_path).read_text(encoding="utf8"))
    return doc_or_path


def validate_document(doc_or_path: Any) -> list[str]:
    """Every violation in a document (a ProductFootprint, an iLEAP ShipmentFootprint / TOC / HOC /
    TAD, a list of them, or an API response ``{"data": ...}``), or in a JSON file holding one, as
    ``"<JSON path>: <what is wrong>"``. An empty list means the document is valid."""
    try:
        doc = load_document(doc_or_path)
    except (OSError, ValueError) as exc:
        return [f"$: cannot read {doc_or_path}: {exc}"]
    found: list[str] = []
    for prefix, item in document_items(doc):
        for message in _validate_one(item):
            found.append(prefix + message[1:])
    return list(dict.fromkeys(found))
