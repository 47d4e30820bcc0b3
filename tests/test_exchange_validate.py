"""logistics.exchange.validate: the published schemas (shipped unmodified) plus the rules they miss.

Test vectors TV1-TV4 (tests/fixtures/exchange/tv*.json) are footprints of the iLEAP demo data set as
published with way-platform/ileap-go (handlers/ileapdemo/data, MIT), with null properties, empty
productOrSectorSpecificRules and pre-1.0 fields removed; each mutation below breaks exactly one rule.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

import pytest

from logistics.exchange import document_kind, validate_document
from logistics.exchange.validate import SCHEMA_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "exchange"


def vector(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


TV1, TV2, TV3, TV4 = (vector(n) for n in ("tv1-shipment-footprint.json", "tv2-toc.json", "tv3-hoc-payload.json", "tv4-tad.json"))


def test_shipped_schemas_are_the_published_files_unmodified():
    listed = dict(
        (path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", (SCHEMA_DIR / "README.md").read_text(), re.M)
    )
    shipped = {str(p.relative_to(SCHEMA_DIR)) for p in SCHEMA_DIR.rglob("*") if p.suffix in (".json", ".yaml")}
    assert set(listed) == shipped and len(shipped) == 10
    for path, digest in listed.items():
        assert hashlib.sha256((SCHEMA_DIR / path).read_bytes()).hexdigest() == digest, path


@pytest.mark.parametrize("doc, kind", [(TV1, "pact-v2"), (TV2, "pact-v2"), (TV3, "HOC"), (TV4, "TAD")])
def test_cleaned_published_examples_validate(doc, kind):
    assert document_kind(doc) == kind
    assert validate_document(doc) == []


def test_envelopes_lists_and_files(tmp_path):
    bad_toc = copy.deepcopy(TV2)
    bad_toc["extensions"][0]["data"]["mode"] = "Truck"
    assert validate_document({"data": [TV1, bad_toc]}) == [
        "$.data[1].extensions[0].data.mode: 'Truck' is not one of ['Road', 'Rail', 'Air', 'Sea', 'InlandWaterway']"
    ]  # reported through pcf-toc.json, whose dangling #/definitions/Toc is resolved in code
    assert validate_document([TV3, TV4]) == []
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    [message] = validate_document(path)
    assert message.startswith("$: cannot read")
    assert validate_document({"hello": 1}) == ["$: not a PACT ProductFootprint nor an iLEAP ShipmentFootprint, TOC, HOC or TAD"]


def tce(doc: dict, i: int) -> dict:
    return doc["extensions"][0]["data"]["tces"][i]


def toc(doc: dict) -> dict:
    return doc["extensions"][0]["data"]


# (name, base document, mutation, expected violation)
CASES = [
    ("null optional", TV1, lambda d: d.update(statusComment=None),
     "$.statusComment: null; leave an absent optional field out instead"),
    ("empty rules array (PACT TC4)", TV1, lambda d: d["pcf"].update(productOrSectorSpecificRules=[]),
     "$.pcf.productOrSectorSpecificRules: empty array; leave the property out instead"),
    ("comma decimal (spec Appendix B)", TV1, lambda d: d["pcf"].update(pCfExcludingBiogenic="8,42769"),
     "$.pcf.pCfExcludingBiogenic: '8,42769' is not a 'decimal'"),
    ("x-comment sign limit", TV1, lambda d: d["pcf"].update(fossilGhgEmissions="-1"),
     "$.pcf.fossilGhgEmissions: '-1' must be >= 0"),
    ("date-time without zone", TV1, lambda d: d.update(created="2022-05-22T21:47:32"),
     "$.created: '2022-05-22T21:47:32' is not a 'date-time'"),
    ("id not a uuid", TV1, lambda d: d.update(id="pf-1"), "$.id: 'pf-1' is not a 'uuid'"),
    ("v2 date-time not UTC", TV1, lambda d: d.update(created="2022-05-22T23:47:32+02:00"),
     "$.created: PACT 2.x date-times are in UTC (end in Z)"),
    ("packaging included (spec Appendix B)", TV1, lambda d: d["pcf"].update(packagingEmissionsIncluded=True),
     "$.pcf.packagingEmissionsIncluded: must be false for iLEAP footprints"),
    ("productId without shipment segment (spec Appendix B)", TV1,
     lambda d: d.update(productIds=["urn:pathfinder:product:customcode:vendor-assigned:pre-and-post-legs-1"]),
     "$.productIds: must contain urn:pathfinder:product:customcode:vendor-assigned:shipment:pre-and-post-legs-1 (or buyer-assigned)"),
    ("wrong CPC", TV1, lambda d: d.update(productCategoryCpc="3342"), '$.productCategoryCpc: iLEAP footprints use "83117"'),
    ("two extensions", TV1, lambda d: d["extensions"].append(copy.deepcopy(d["extensions"][0])),
     "$.extensions: an iLEAP footprint carries exactly one extension"),
    ("extension spec version", TV1, lambda d: d["extensions"][0].update(specVersion="1.0.0"),
     '$.extensions[0].specVersion: must be "2.0.0" (the Data Model Extensions spec version)'),
    ("declared amount is not the t·km", TV1, lambda d: d["pcf"].update(unitaryProductAmount="330"),
     "$.pcf.unitaryProductAmount: 330 is not the sum of the TCEs' transportActivity (320)"),
    ("declared PCF is not the WTW", TV1, lambda d: d["pcf"].update(pCfExcludingBiogenic="300", fossilGhgEmissions="300"),
     "$.pcf.pCfExcludingBiogenic: 300 is not the sum of the TCEs' co2eWTW (385.76)"),
    ("fossil emissions differ", TV1, lambda d: d["pcf"].update(fossilGhgEmissions="385"),
     "$.pcf.fossilGhgEmissions: must equal pCfExcludingBiogenic (385.76)"),
    ("unit of a hub", TV1, lambda d: d["pcf"].update(declaredUnit="kilogram"),
     '$.pcf.declaredUnit: a ShipmentFootprint footprint declares "ton kilometer"'),
    ("tocId and hocId", TV1, lambda d: tce(d, 1).update(tocId="toc-small-truck-1"),
     "$.extensions[0].data.tces[1]: exactly one of tocId and hocId must be set"),
    ("neither tocId nor hocId", TV1, lambda d: tce(d, 0).pop("tocId"),
     "$.extensions[0].data.tces[0]: exactly one of tocId and hocId must be set"),
    ("WTW below TTW", TV1, lambda d: tce(d, 2).update(co2eTTW="160"),
     "$.extensions[0].data.tces[2].co2eWTW: 158.6 is less than co2eTTW 160 (WTW = TTW + WTT)"),
    # spec End-to-End example: 423 km x 87 kg / 1000 = 36.801, printed as 3.6801
    ("tkm is not distance x mass (spec End-to-End)", TV1,
     lambda d: tce(d, 0).update(distance={"actual": "423"}, mass="87", transportActivity="3.6801"),
     "$.extensions[0].data.tces[0].transportActivity: 3.6801 is not distance × mass (actual 423 km × 87 kg / 1000 = 36.801)"),
    ("TCE of another shipment (demo vector d9be4477)", TV1, lambda d: tce(d, 0).update(shipmentId="shipment-1"),
     "$.extensions[0].data.tces[0].shipmentId: 'shipment-1' is not the footprint's shipmentId 'pre-and-post-legs-1'"),
    ("unknown previous TCE", TV1, lambda d: tce(d, 2).update(prevTceIds=["tce-9"]),
     "$.extensions[0].data.tces[2].prevTceIds: 'tce-9' is not another TCE of this footprint"),
    ("duplicate TCE id", TV1, lambda d: tce(d, 2).update(tceId="tce-1-pre-leg-1"),
     "$.extensions[0].data.tces[2].tceId: 'tce-1-pre-leg-1' appears more than once"),
    # two TCEs without an id: the schema says so for each, and the other rules still run
    ("two TCEs without an id", TV1, lambda d: tce(d, 0).pop("tceId") and tce(d, 1).pop("tceId"),
     "$.extensions[0].data.tces[1]: 'tceId' is a required property"),
    ("legacy v0.2 field", TV2, lambda d: toc(d).update(co2eIntensityThroughput="TKM"),
     "$.extensions[0].data.co2eIntensityThroughput: not a property of iLEAP TOC"),
    ("legacy feedstock field", TV2, lambda d: toc(d)["energyCarriers"][0]["feedstocks"][0].update(feedstockPercentage="1"),
     "$.extensions[0].data.energyCarriers[0].feedstocks[0].feedstockPercentage: not a property of iLEAP Feedstock"),
    ("shares do not add up", TV2, lambda d: toc(d)["energyCarriers"][0].update(relativeShare="0.9"),
     "$.extensions[0].data.energyCarriers: relativeShare values add up to 0.9, not 1"),
    ("load factor above 1", TV2, lambda d: toc(d).update(loadFactor="1.2"), "$.extensions[0].data.loadFactor: must be in (0, 1]"),
    ("empty distance factor of 1", TV2, lambda d: toc(d).update(emptyDistanceFactor="1"),
     "$.extensions[0].data.emptyDistanceFactor: must be in [0, 1)"),
    ("intensity TTW above WTW", TV2, lambda d: toc(d).update(co2eIntensityTTW="0.8"),
     "$.extensions[0].data.co2eIntensityWTW: 0.793 is less than co2eIntensityTTW 0.8 (WTW = TTW + WTT)"),
    ("declared PCF is not the intensity", TV2, lambda d: d["pcf"].update(pCfExcludingBiogenic="0.8", fossilGhgEmissions="0.8"),
     "$.pcf.pCfExcludingBiogenic: must equal the extension's co2eIntensityWTW (0.793)"),
    ("truck sequence on rail", TV2, lambda d: toc(d).update(mode="Rail"),
     "$.extensions[0].data.truckLoadingSequence: for road TOCs only"),
    ("HOC shares", TV3, lambda d: d["energyCarriers"][1].update(relativeShare="0.6"),
     "$.energyCarriers: relativeShare values add up to 1.1, not 1"),
    ("consumption without unit", TV3,
     lambda d: d["energyCarriers"][0].update(energyConsumption="2") or d["energyCarriers"][0].pop("energyConsumptionUnit"),
     "$.energyCarriers[0].energyConsumptionUnit: required with energyConsumption"),
    ("TAD lat without lng", TV4, lambda d: d["origin"].pop("lng"), "$.origin: give lat and lng together"),
    ("TAD arrives before it leaves", TV4, lambda d: d.update(arrivalAt="2025-06-01T00:00:00Z"), "$.arrivalAt: before departureAt"),
    ("TAD mixed temperature", TV4, lambda d: d.update(temperatureControl="mixed"),
     "$.temperatureControl: 'mixed' is not one of ['ambient', 'refrigerated']"),
]


@pytest.mark.parametrize("name, base, mutate, expected", CASES, ids=[c[0] for c in CASES])
def test_each_rule_reports_its_violation(name, base, mutate, expected):
    doc = copy.deepcopy(base)
    mutate(doc)
    assert expected in validate_document(doc)


def test_values_rounded_to_their_written_precision_are_accepted():
    doc = copy.deepcopy(TV1)
    tce(doc, 0).update(co2eWTW="95.2", co2eTTW="73.1")  # 95.16 and 73.08 written to one decimal
    # 95.2 + 132 + 158.6 = 385.8 against the declared 385.76: within the half digits written
    assert validate_document(doc) == []


def test_pact_v3_documents_are_checked_against_the_v3_schema():
    from test_exchange import export

    [pf] = [d for d in export("pact-v3").documents if d["productIds"][0].endswith(":shipment:SHP-1")]
    assert validate_document(pf) == []
    broken = copy.deepcopy(pf)
    broken["pcf"]["primaryDataShare"] = 27.9  # a number: v3 writes percentages as decimal strings
    del broken["pcf"]["productMassPerDeclaredUnit"]
    broken["pcf"]["pcfIncludingBiogenicUptake"] = "+1697.9"  # a sign is allowed by the v3 pattern
    broken["extensions"][0]["data"]["tces"][0]["co2eWTW"] = "-475"
    assert validate_document(broken) == [
        "$.pcf: 'productMassPerDeclaredUnit' is a required property",
        "$.pcf.primaryDataShare: 27.9 is not of type 'string'",
        "$.extensions[0].data.tces[0].co2eWTW: must not be negative",
        "$.extensions[0].data.tces[0].co2eWTW: -475 is less than co2eTTW 365 (WTW = TTW + WTT)",
        "$.pcf.pcfExcludingBiogenicUptake: 1697.9 is not the sum of the TCEs' co2eWTW (747.9)",  # -475 + 175 + 1047.9
    ]
