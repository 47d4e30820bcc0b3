"""The per-leg computation is written once (logistics.pipeline.legs) and evaluated by two backends:
the polars query (files, large rounds) and NumPy (a request of a few legs). Both must give the same
results to the last bit, on any input the NumPy path takes; it declines the others (a failed check
needs the query's message), which the query then computes."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logistics
from logistics.backends import NumpyBackend, PolarsBackend
from logistics.pipeline import engine

# Descriptor sets the default pack knows, a few it does not, and padded / cased spellings.
ROAD = [{"vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"},
        {"vehicle": " Rigid_12-20T ", "energy_carrier": "diesel", "region": "eu"},
        {"vehicle": "van", "energy_carrier": "diesel", "region": "AS"},
        {"vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU", "temperature_control": "reefer"},
        {"vehicle": "no_such_truck", "region": "EU"}]
LEGS = {
    "road": ROAD,
    "rail": [{"region": "EU"}, {"region": "EU", "energy_carrier": "electricity", "load_type": "container"}],
    "sea": [{"vehicle": "bulk_carrier_35000-59999dwt", "energy_carrier": "vlsfo"}, {}],
    "inland_waterway": [{"vehicle": "container_vessel_110m"}],
    "air": [{}, {"flight_length": "short_haul"}],
    "hub": [{"hub_type": "transshipment"}, {"hub_type": "warehouse", "temperature_control": "refrigerated"}],
}
DESCRIPTORS = ("vehicle", "energy_carrier", "region", "temperature_control", "load_type", "flight_length", "hub_type")


@st.composite
def shipments(draw) -> pl.DataFrame:
    rows = []
    for s in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(1, 6))):
            mode = draw(st.sampled_from(list(LEGS)))
            row = {"shipment_id": f"S{s}", "mode": mode, **{d: None for d in DESCRIPTORS}, **draw(st.sampled_from(LEGS[mode]))}
            use_teu = mode == "sea" and draw(st.booleans())
            row["mass_kg"] = None if use_teu else draw(st.floats(0.5, 40_000, allow_nan=False))
            row["teu"] = draw(st.floats(0.5, 40, allow_nan=False)) if use_teu else None
            row["distance_km"] = None if mode == "hub" else draw(st.one_of(st.floats(0.5, 19_000), st.just(1500.0)))
            row["distance_type"] = draw(st.sampled_from([None, "actual", "gcd", "sfd"])) if mode != "hub" else None
            if draw(st.integers(0, 9)) == 0:  # now and then a leg the engine must refuse and explain
                row["mass_kg"] = -1.0
            rows.append(row)
    schema = {"shipment_id": pl.String, "mode": pl.String, **{d: pl.String for d in DESCRIPTORS}, "mass_kg": pl.Float64,
              "teu": pl.Float64, "distance_km": pl.Float64, "distance_type": pl.String}
    return pl.DataFrame(rows, schema=schema)


@pytest.fixture(scope="module")
def calculator():
    return logistics.Calculator(distance_resolver=None)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(legs=shipments())
def test_numpy_path_equals_the_query(calculator, legs):
    small = calculator.engine.plan(legs.schema, False).small(legs)
    query_engine = logistics.Calculator(distance_resolver=None).engine  # stores of its own: nothing shared
    saved, engine.SMALL_ROWS = engine.SMALL_ROWS, 0
    try:
        query = query_engine.compute(legs)
    finally:
        engine.SMALL_ROWS = saved
    if small is None:  # declined: the legs hold something only the query explains
        assert query.legs["error"].is_not_null().any() or not legs.height
        return
    assert small.legs.schema == query.legs.schema
    assert small.legs.equals(query.legs, null_equal=True)
    assert small.factors.equals(query.factors)
    by_small = logistics.pipeline.shipments.shipments(small.legs)
    by_query = logistics.pipeline.shipments.shipments(query.legs)
    assert by_small.schema == by_query.schema
    for column in by_small.columns:
        assert by_small[column].to_list() == by_query[column].to_list(), column


def test_a_refused_leg_sends_the_request_to_the_query(calculator):
    legs = pl.DataFrame({"shipment_id": ["S"] * 2, "mode": ["road"] * 2, "mass_kg": [1000.0, -5.0],
                         "distance_km": [100.0, 100.0], "vehicle": ["artic_40t"] * 2, "energy_carrier": ["diesel"] * 2,
                         "region": ["EU"] * 2})
    assert calculator.engine.plan(legs.schema, False).small(legs) is None
    result = calculator.calculate(legs)
    # 1 t × 100 km × 95 g CO2e/tkm (GLEC v3.0 p.92) = 9.5 kg; the second leg is explained
    assert result.legs["co2e_wtw_kg"].to_list() == [pytest.approx(9.5), None]
    assert result.legs["error"][1] == "mass_kg: -5.0 must be greater than 0"
    assert result.legs["error_code"][1] == "mass_kg.not_positive"


def test_backends_agree_on_their_operations():
    """The few operations arithmetic cannot express mean the same on both backends (nulls as NaN /
    None in NumPy)."""
    frame = pl.DataFrame({"x": [1.0, None, 3.0], "s": ["a", None, "c"]})
    arrays = NumpyBackend({"x": np.array([1.0, np.nan, 3.0]), "s": np.array(["a", None, "c"], object)}, 3)
    cases = [
        lambda b: b.where(b.condition(b.col("x") > 1), b.col("x"), 0.0),
        lambda b: b.coalesce(b.col("x"), 7.0),
        lambda b: b.missing(b.col("s")),
        lambda b: b.isin(b.col("s"), ["a", "z"]),
        lambda b: b.lookup(b.col("s"), {"a": 10.0, "c": 30.0}, float),
        lambda b: b.duplicated(b.col("s"), b.col("x")),
    ]
    for case in cases:
        expected = frame.select(case(PolarsBackend).alias("v"))["v"].to_list()
        got = [None if isinstance(v, float) and np.isnan(v) else v for v in np.asarray(case(arrays)).tolist()]
        assert got == expected


def test_a_typical_request_takes_the_numpy_path(calculator):
    # road 410 km, transshipment hub, road 510 km for 12 t (the service's benchmark shipment):
    # 12 × 410 × 95 + 12 × 0.6 t + 12 × 510 × 179 g = 467.4 + 7.2 + 1,095.48 kg WTW (GLEC v3.0 pp.87, 92)
    legs = pl.DataFrame({"shipment_id": ["S-1"] * 3, "mode": ["road", "hub", "road"], "mass_kg": [12_000.0] * 3,
                         "distance_km": [410.0, None, 510.0], "vehicle": ["artic_40t", None, "rigid_12-20t"],
                         "energy_carrier": ["diesel", None, "diesel"], "region": ["EU", None, "EU"],
                         "hub_type": [None, "transshipment", None]})
    small = calculator.engine.plan(legs.schema, False).small(legs)
    assert small is not None
    assert small.legs["co2e_wtw_kg"].to_list() == pytest.approx([467.4, 7.2, 1095.48])
    assert logistics.pipeline.shipments.shipments(small.legs)["co2e_wtw_kg"][0] == pytest.approx(1570.08)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(legs=shipments())
def test_numpy_shipment_totals_equal_the_query(calculator, legs):
    # failed legs included (they count in error_legs, not in the sums), and a pass-through column
    # whose first given value each shipment keeps
    legs = legs.with_columns(customer=pl.when(pl.int_range(pl.len()) % 3 == 1).then(pl.lit("ACME")))
    computed = calculator.calculate(legs).legs
    by_numpy = logistics.pipeline.shipments.shipments(computed)
    totals = logistics.pipeline.shipments
    by_query = totals.finish(totals.partials(computed).collect()).collect()
    assert by_numpy.schema == by_query.schema
    assert by_numpy.equals(by_query, null_equal=True)
