"""logistics.small gives engine.calculate's results for the shipments it takes, to the last bit
(distances from places included), and leaves to the engine only shipments it rejects a leg of (or
whose identifiers it must trim)."""

import dataclasses
import os

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logistics
from logistics import Shipment
from logistics.io import LINE_COLUMN, LINE_ERROR
from logistics.model import leg_schema
from logistics.small import SmallCalculator

PACK = logistics.load_pack()

# Values a TMS sends, spelt as they come: most select a default, some in other case or with
# spaces, some unknown.
VALUES = {
    "vehicle": [None, "artic_40t", "rigid_12-20t", "van", " Artic_40t ", "hgv", "container_ship", "freighter", "belly",
                "bulk_carrier_10000-34999dwt", "motor_vessel_85-110m", "spaceship"],
    "energy_carrier": [None, "diesel", "Diesel", "electricity", "hfo", "lng", "hvo", "plutonium"],
    "region": [None, "EU", "eu", "NA", "EU|SA", "XX"],
    "temperature_control": [None, "ambient", "reefer", "refrigerated", "Frozen", "tepid"],
    "load_type": [None, "average", "container", "heavy", "cars"],
    "distance_type": [None, "actual", "sfd", "gcd"],
    "flight_length": [None, "short_haul", "long_haul"],
    "hub_type": [None, "transshipment", "warehouse", "maritime_container_terminal", "moon_base"],
    "toc_id": [None, None, None, "glec3-road-eu-hgv-level1", "glec3-road-eu-van-diesel", "no-such-toc"],
}
# Places per mode (UN/LOCODE, IATA, lat,lon), and some that cannot be found.
PLACES = {
    "road": [("DEHAM", "DEDUS"), ("DEDUS", "FRPAR"), ("53.55,9.99", "48.86,2.35"), ("DEHAM", "XXZZZ")],
    "rail": [("DEHAM", "PLWAW"), ("DEDUS", "ITMIL")],
    "sea": [("NLRTM", "CNSHA"), ("NLRTM", "SGSIN"), ("DEHAM", "NLRTM")],
    "inland_waterway": [("NLRTM", "DEDUS")],
    "air": [("NRT", "FRA"), ("FRA", "MUC"), ("CDG", "JFK"), ("NRT", "ZZZ")],
}
FUELS = [(None, None), (None, None), (250.0, "l"), (1200.0, "kWh"), (3.5, "kl"), (80.0, "kg"), (10.0, "barrel")]


# Legs the pack has a default for, in the spellings a TMS sends.
COMMON = [
    {"mode": "road", "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"},
    {"mode": "road", "vehicle": " Rigid_12-20t", "energy_carrier": "Diesel", "region": "eu", "temperature_control": "reefer"},
    {"mode": "road", "vehicle": "van", "energy_carrier": "electricity", "region": "EU"},
    {"mode": "road", "toc_id": "glec3-road-eu-hgv-level1"},
    {"mode": "road", "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU", "fuel_amount": 250.0, "fuel_unit": "l"},
    {"mode": "rail", "energy_carrier": "electricity", "region": "EU"},
    {"mode": "rail", "energy_carrier": "diesel", "region": "NA", "load_type": "container"},
    {"mode": "sea", "vehicle": "container_ship", "trade_lane": None},
    {"mode": "sea", "vehicle": "bulk_carrier_10000-34999dwt", "energy_carrier": "hfo"},
    {"mode": "inland_waterway", "vehicle": "motor_vessel_85-110m"},
    {"mode": "air", "vehicle": "freighter"},
    {"mode": "air", "vehicle": "belly", "flight_length": "long_haul"},
    {"mode": "hub", "hub_type": "transshipment"},
    {"mode": "hub", "hub_type": "warehouse", "temperature_control": "mixed"},
    {"mode": "hub", "hub_type": "maritime_container_terminal"},
]


@st.composite
def legs(draw):
    if draw(st.integers(0, 7)):
        leg = dict(draw(st.sampled_from(COMMON)))
    else:
        leg = {k: draw(st.sampled_from(v)) for k, v in VALUES.items()}
        leg["mode"] = draw(st.sampled_from(["road", "rail", "sea", "inland_waterway", "air", "hub"]))
        amount, unit = draw(st.sampled_from(FUELS))
        if amount is not None and leg["energy_carrier"]:
            leg.update(fuel_amount=amount, fuel_unit=unit)
    if leg["mode"] != "hub":
        leg["distance_km"] = draw(st.one_of(st.none(), *[st.floats(0.5, 20_000)] * 3))
        leg["distance_type"] = draw(st.sampled_from(VALUES["distance_type"]))
        if leg["distance_km"] is None and draw(st.integers(0, 3)):
            leg["origin"], leg["destination"] = draw(st.sampled_from(PLACES[leg["mode"]]))
    if draw(st.booleans()):
        leg["mass_kg"] = draw(st.floats(1.0, 30_000_000.0))
    if draw(st.integers(0, 4)) == 0:
        leg["teu"] = draw(st.floats(0.5, 400.0))
    if draw(st.integers(0, 6)) == 0:
        leg["daf"] = draw(st.floats(1.0, 2.0))
    if draw(st.integers(0, 4)) == 0:
        leg["leg_id"] = draw(st.sampled_from(["A", "B", "S0-2", " A"]))  # S0-2 may equal a generated id
    if leg["mode"] == "hub" and draw(st.integers(0, 4)) == 0:
        leg["distance_km"] = draw(st.sampled_from([0.5, 12.0]))
    if leg["mode"] == "air" and draw(st.integers(0, 4)) == 0:
        leg["distance_km"] = 1500.0  # the short/long haul boundary
    if leg.get("origin") and draw(st.integers(0, 5)) == 0:
        leg["origin"] = f" {leg['origin']}"
    return leg


@st.composite
def shipments(draw):
    count = draw(st.integers(1, 6))
    out = []
    for n in range(count):
        body = {"shipment_id": f"S{n}", "legs": draw(st.lists(legs(), min_size=1, max_size=draw(st.sampled_from([5, 5, 12]))))}
        weight = draw(st.integers(0, 6))
        if weight:  # else the legs' own masses only: a leg without one is rejected
            body["mass_kg" if weight > 2 else "teu"] = draw(st.floats(1.0, 40_000.0) if weight > 2 else st.floats(0.5, 4.0))
        out.append(Shipment.model_validate(body))
    return out


# The engine runs on its own copy of the pack: the two must not share the factors they resolve.
ENGINE_PACK = dataclasses.replace(PACK, cache={})


def engine(shipment_list, **kw):
    """The engine's result, without the reader's columns (the row number and line error of a
    frame's rows), which the small path has no use for."""
    rows = [row for s in shipment_list for row in s.rows()]
    result = logistics.calculate(pl.DataFrame(rows, schema=leg_schema(rows[0])), ENGINE_PACK, **kw)
    return dataclasses.replace(result, legs=result.legs.drop(LINE_COLUMN, LINE_ERROR))


SMALL = SmallCalculator(PACK)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shipments())
def test_same_results_as_the_engine(shipment_list):
    got = SMALL.calculate(shipment_list)
    assert SMALL.calculate(shipment_list, learn=False) == got  # what it learnt serves it alone
    result = engine(shipment_list)
    legs_by = result.legs.partition_by("shipment_id", as_dict=True, maintain_order=True)
    totals_by = {row["shipment_id"]: row for row in result.shipments.to_dicts()}
    for shipment, small in zip(shipment_list, got):
        expected = legs_by[(shipment.shipment_id,)].to_dicts()
        if small is None:  # only shipments the engine rejects a leg of, or with cells it must trim
            padded = any(v != v.strip() for leg in shipment.legs for v in (leg.leg_id, leg.origin, leg.destination) if v)
            assert padded or any(leg["error"] for leg in expected)
            continue
        small_legs, small_totals = small
        for small_leg, engine_leg in zip(small_legs, expected):  # every column, exactly: no tolerance
            assert small_leg == engine_leg, {k: (v, engine_leg.get(k)) for k, v in small_leg.items() if v != engine_leg.get(k)}
        assert len(small_legs) == len(expected)
        assert list(small_legs[0]) == list(expected[0])  # in the engine's column order
        assert small_totals == totals_by[shipment.shipment_id]
        assert list(small_totals) == list(totals_by[shipment.shipment_id])


BENCH = {"shipment_id": "BENCH-1", "mass_kg": 12000, "legs": [
    {"mode": "road", "distance_km": 410, "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"},
    {"mode": "hub", "hub_type": "transshipment"},
    {"mode": "road", "distance_km": 510, "vehicle": "rigid_12-20t", "energy_carrier": "diesel", "region": "EU"},
]}


def test_takes_the_common_shipment_and_learns_keys_once():
    calculator = SmallCalculator(PACK)
    shipment = Shipment.model_validate(BENCH)
    assert calculator.calculate([shipment], learn=False) == [None]  # keys not seen yet: for the engine
    (legs, totals), = calculator.calculate([shipment])
    # GLEC v3.0 defaults: artic 40 t diesel EU 95 g/tkm WTW (pp.91-92), transshipment hub 0.6 kg/t
    # (p.87), rigid 12-20 t diesel EU 179 g/tkm: 12 t × 410 km × 0.095 + 12 t × 0.6 + 12 t × 510 km × 0.179
    assert [leg["co2e_wtw_kg"] for leg in legs] == pytest.approx([467.4, 7.2, 1095.48])
    assert totals["co2e_wtw_kg"] == pytest.approx(1570.08)
    assert totals["tkm"] == 11040.0 and totals["complete"] is True
    assert legs == engine([shipment]).legs.to_dicts()
    assert calculator.calculate([shipment], learn=False) == [(legs, totals)]  # now without polars


def test_leaves_rejected_and_unresolved_shipments_to_the_engine():
    calculator = SmallCalculator(PACK)
    good = Shipment.model_validate(BENCH)
    unknown = Shipment.model_validate({**BENCH, "shipment_id": "U", "legs": [{**BENCH["legs"][0], "vehicle": "spaceship"}]})
    nowhere = Shipment.model_validate({**BENCH, "shipment_id": "P", "legs": [
        {**BENCH["legs"][0], "distance_km": None, "origin": "DEHAM", "destination": "XXZZZ"}]})
    twice = Shipment.model_validate({**BENCH, "shipment_id": "D", "legs": [{**BENCH["legs"][0], "leg_id": "L"}] * 2})
    got = calculator.calculate([good, unknown, nowhere, twice, good])
    assert got[1:4] == [None, None, None]
    assert got[0] is not None and got[0] == got[4]  # each shipment on its own
    assert got[0][1]["co2e_wtw_kg"] == pytest.approx(1570.08)


def test_a_changed_own_toc_file_is_read_again(tmp_path):
    """The carrier's own TOC table, given as a file, is kept by its path and modification time."""
    row = PACK.table("tocs").filter(pl.col("toc_id") == "glec3-road-eu-artic_40t-diesel-average")
    tocs = tmp_path / "tocs.csv"

    def write(wtw_g_per_tkm: float, mtime: int) -> None:
        row.with_columns(toc_id=pl.lit("our-road"), ttw_g_co2e_per_tkm=pl.lit(None, pl.Float64),
                         wtt_g_co2e_per_tkm=pl.lit(None, pl.Float64), wtw_g_co2e_per_tkm=pl.lit(wtw_g_per_tkm),
                         data_type=pl.lit("primary")).write_csv(tocs)
        os.utime(tocs, (mtime, mtime))

    write(100.0, 1_700_000_000)
    calculator = SmallCalculator(PACK, tocs=str(tocs))
    shipment = Shipment.model_validate({"shipment_id": "OWN", "mass_kg": 1000, "legs": [
        {"mode": "road", "distance_km": 100, "toc_id": "our-road"}]})
    (legs, _), = calculator.calculate([shipment])
    assert legs[0]["co2e_wtw_kg"] == pytest.approx(10.0)  # 1 t × 100 km × 100 g/tkm
    assert legs[0]["data_type"] == "primary" and legs[0]["factor_id"] == "our-road"
    write(200.0, 1_700_000_100)
    assert calculator.calculate([shipment], learn=False) == [None]  # not learnt for the new file yet
    (legs, _), = calculator.calculate([shipment])
    assert legs[0]["co2e_wtw_kg"] == pytest.approx(20.0)
    assert legs == engine([shipment], tocs=str(tocs)).legs.to_dicts()


def test_the_engine_rules_small_repeats_are_unchanged():
    """SmallCalculator._computable repeats the conditions of the engine's row checks (its key checks
    and assumption flags it takes from the engine per key). A rule added to the engine must be added
    there too; this count is the reminder."""
    from logistics import engine

    assert len(engine._row_checks(leg_ids_given=True)) == 11
    assert len(engine._key_checks()) == 12 and len(engine.key_assumptions()[0]) == 3
