"""Engine behaviour: row errors never stop good rows, inputs of every kind, factor selection rules."""

import shutil

import polars as pl
import pytest

import logistics
from logistics import InputError, Shipment
from logistics.factors import PACKS_DIR

ROAD = {"mode": "road", "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"}


def calc(rows, **kw):
    """Results with full provenance: the input as read and each factor's provenance on every row."""
    kw.setdefault("distance_resolver", None)
    kw.setdefault("provenance", "full")
    return logistics.calculate(pl.DataFrame(rows) if not isinstance(rows, pl.DataFrame) else rows, **kw)


def test_bad_rows_are_reported_and_good_rows_intact():
    rows = pl.DataFrame({
        "shipment_id": ["ok", "m", "neg", "miss", "unit", "nan", "ok2"],
        "mode": ["road", "truck", "road", "road", "road", "road", "road"],
        "vehicle": ["artic_40t"] * 7, "energy_carrier": ["diesel"] * 7, "region": ["EU"] * 7,
        "mass_kg": ["10000", "1000", "-5", "", "1000", "abc", "20000"],
        "distance_km": ["500"] * 7,
        "fuel_amount": [None, None, None, None, "10", None, None],
        "fuel_unit": [None, None, None, None, "barrel", None, None],
    })
    r = calc(rows)
    err = dict(zip(r.legs["shipment_id"], r.legs["error"], strict=True))
    assert err["ok"] is None and err["ok2"] is None
    assert err["m"].startswith("mode: 'truck' is not one of road, rail")
    assert err["neg"] == "mass_kg: -5.0 must be greater than 0"
    assert err["miss"] == "mass_kg: missing (give mass_kg or teu)"
    assert "fuel_unit: 'barrel' is not one of" in err["unit"]
    assert err["nan"].startswith("mass_kg: 'abc' is not a number")
    # good rows: 10 t × 500 km × 95 g/tkm = 475 kg; 20 t → 950 kg (GLEC v3.0 p.92)
    assert r.legs.filter(pl.col("error").is_null())["co2e_wtw_kg"].to_list() == pytest.approx([475.0, 950.0])
    assert r.legs.height == rows.height  # nothing dropped
    assert r.legs.filter(pl.col("error").is_not_null())["co2e_wtw_kg"].null_count() == 5
    s = r.summary()
    assert (s["rows_read"], s["computed"], s["rejected"]) == (7, 2, 5)
    assert s["rejected_by_column"] == {"mass_kg": 3, "mode": 1, "fuel_unit": 1}
    assert s["co2e_wtw_t"] == pytest.approx(1.425)


def test_missing_required_columns_is_fatal_with_expected_header():
    with pytest.raises(InputError, match=r"missing required column\(s\): mode, mass_kg \(or teu\)\. Expected header"):
        calc({"shipment_id": ["a"], "distance_km": [1.0]})


def test_shipment_with_a_bad_leg_is_flagged_incomplete():
    r = calc([{**ROAD, "shipment_id": "s", "mass_kg": 10_000, "distance_km": 500},
              {**ROAD, "shipment_id": "s", "mass_kg": 10_000, "distance_km": -1}])
    s = r.shipments.row(0, named=True)
    assert (s["legs"], s["error_legs"], s["complete"]) == (2, 1, False)
    assert s["co2e_wtw_kg"] == pytest.approx(475.0)
    assert r.legs["error"][1] == "distance_km: -1.0 must be greater than 0"


def test_duplicate_leg_ids_within_a_shipment():
    r = calc([{**ROAD, "shipment_id": "s", "leg_id": "a", "mass_kg": 1000, "distance_km": 10},
              {**ROAD, "shipment_id": "s", "leg_id": "a", "mass_kg": 1000, "distance_km": 10},
              {**ROAD, "shipment_id": "t", "leg_id": "a", "mass_kg": 1000, "distance_km": 10}])
    assert r.legs["error"].to_list()[:2] == ["leg_id: 'a' appears more than once in shipment 's'"] * 2
    assert r.legs["error"][2] is None


def test_leg_ids_and_sequence_are_generated():
    r = calc([{**ROAD, "shipment_id": "s", "mass_kg": 1000, "distance_km": 10}] * 2
             + [{**ROAD, "shipment_id": "t", "mass_kg": 1000, "distance_km": 10}])
    assert r.legs["leg_id"].to_list() == ["s-1", "s-2", "t-1"]


def test_distance_missing_without_resolver_is_a_row_error():
    r = calc([{**ROAD, "shipment_id": "s", "mass_kg": 1000, "origin": "DEHAM", "destination": "DEMUC"}])
    assert r.legs["error"][0] == "distance_km: missing, and origin/destination could not give one"


def test_pandas_csv_parquet_inputs_agree(tmp_path):
    pd = pytest.importorskip("pandas")
    rows = [{**ROAD, "shipment_id": f"s{i}", "mass_kg": 1000.0 * (i + 1), "distance_km": 100.0 + i} for i in range(5)]
    expected = calc(rows).legs["co2e_wtw_kg"]
    assert logistics.calculate(pd.DataFrame(rows), distance_resolver=None).legs["co2e_wtw_kg"].equals(expected)
    pl.DataFrame(rows).write_csv(tmp_path / "legs.csv", separator=";")
    pl.DataFrame(rows).write_parquet(tmp_path / "legs.parquet")
    for path in ("legs.csv", "legs.parquet"):
        assert logistics.calculate(tmp_path / path, distance_resolver=None).legs["co2e_wtw_kg"].equals(expected)


def test_unknown_vehicle_says_which_values_exist():
    r = calc([{**ROAD, "vehicle": "artic40", "shipment_id": "s", "mass_kg": 1000, "distance_km": 10}])
    assert "vehicle 'artic40' has no row (known: " in r.legs["error"][0]
    assert "artic_40t" in r.legs["error"][0]


def test_missing_descriptor_is_named():
    # EU rail average load: diesel 30.2 and electric 7.0 both match equally without traction? No: the
    # traction-unknown row (16 g/tkm, p.88) has an empty energy_carrier, so it is chosen.
    r = calc([{"shipment_id": "r", "mode": "rail", "region": "EU", "mass_kg": 1000, "distance_km": 100}])
    assert r.legs["factor_id"][0] is not None
    assert r.legs["co2e_wtw_kg"][0] == pytest.approx(1.6)
    # a road leg in a region the pack has no table for
    r = calc([{**ROAD, "region": "OC", "shipment_id": "s", "mass_kg": 1000, "distance_km": 10}])
    assert "region 'OC' has no row" in r.legs["error"][0]


def test_ambiguous_rows_are_an_error_not_a_guess(tmp_path):
    pack = tmp_path / "p"
    shutil.copytree(PACKS_DIR / "glec-v3.0", pack)
    tocs = pl.read_csv(pack / "tocs.csv", infer_schema=False)
    twin = tocs.filter(pl.col("toc_id") == "glec3-road-eu-artic_40t-diesel-average").with_columns(toc_id=pl.lit("twin"))
    assert twin.height == 1
    pl.concat([tocs, twin]).write_csv(pack / "tocs.csv")
    (pack / "tocs.parquet").unlink()
    r = calc([{**ROAD, "shipment_id": "s", "mass_kg": 1000, "distance_km": 10}], pack=str(pack))
    assert r.legs["error"][0].startswith("factor: ambiguous: rows glec3-road-eu-artic_40t-diesel-average, twin match equally")


def test_fuel_region_rules():
    # GLEC v3.0 p.76: with no regional factor, the higher of the EU and NA values. Diesel per kg:
    # EU WTW 4.13, NA 3.89 → 1,000 kg in Asia gives 4,130 kg WTW.
    base = {"shipment_id": "f", "mode": "road", "mass_kg": 1000, "distance_km": 10, "fuel_amount": 1000,
            "fuel_unit": "kg", "energy_carrier": "diesel"}
    r = calc([{**base, "region": "AS"}, {**base, "region": "NA"}, {**base, "fuel_region": "JP"}])
    assert r.legs["co2e_wtw_kg"][0] == pytest.approx(4130.0)
    assert "p.76" in r.legs["adjustment_ids"][0]
    assert r.legs["co2e_wtw_kg"][1] == pytest.approx(3890.0)
    assert r.legs["error"][2] == "fuel_region: no factor for diesel in region JP"


def test_fuel_unit_conversion():
    # 2 kl = 2,000 l of EU diesel at 3.44 kg/l (GLEC v3.0 p.122) = 6,880 kg WTW
    r = calc([{"shipment_id": "f", "mode": "road", "mass_kg": 1000, "distance_km": 10, "fuel_amount": 2,
               "fuel_unit": "kl", "energy_carrier": "diesel", "region": "EU"}])
    assert r.legs["co2e_wtw_kg"][0] == pytest.approx(6880.0)


def test_unknown_toc_id_and_hoc_id():
    r = calc([{"shipment_id": "s", "mode": "road", "mass_kg": 1000, "distance_km": 10, "toc_id": "nope"},
              {"shipment_id": "s", "mode": "hub", "mass_kg": 1000, "hoc_id": "nowhere"}])
    assert r.legs["error"].to_list() == ["toc_id: 'nope' is not in the TOC table", "hoc_id: 'nowhere' is not in the HOC table"]


def test_typed_shipment_model():
    # 10 t: road 500 km (475 kg) + transshipment hub 0.6 kg/t (6 kg) = 481 kg WTW
    s = Shipment(shipment_id="X1", mass_kg=10_000, legs=[
        {"mode": "road", "distance_km": 500, "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"},
        {"mode": "hub", "hub_type": "transshipment"},
    ])
    r = logistics.calculate(s.to_frame(), distance_resolver=None)
    assert r.shipments["co2e_wtw_kg"][0] == pytest.approx(481.0)
    assert r.legs["leg_seq"].to_list() == [1, 2]


def test_input_in_several_chunks():
    # frames glued with pl.concat (as the batch runner does) keep their chunks
    one = pl.DataFrame([{**ROAD, "shipment_id": "a", "mass_kg": "-1", "distance_km": "10"}])
    two = pl.concat([one, one.with_columns(shipment_id=pl.lit("b"), mass_kg=pl.lit("10000"))], rechunk=False)
    assert two.n_chunks() == 2
    r = calc(two)
    assert r.legs["error"][0] == "mass_kg: -1.0 must be greater than 0"
    assert r.legs["co2e_wtw_kg"][1] == pytest.approx(9.5)  # 10 t × 10 km × 95 g/tkm


def test_an_empty_frame_of_typed_columns_gives_the_result_columns():
    # a typed Parquet file's header: batch runs and Spark take the results' columns from it, on a
    # calculator that has resolved nothing yet
    schema = {"shipment_id": pl.String, "mode": pl.String, "mass_kg": pl.Float64, "distance_km": pl.Float64, **{
        c: pl.String for c in ROAD if c != "mode"}}
    empty = logistics.Calculator(distance_resolver=None).calculate(pl.DataFrame(schema=schema)).legs
    one = logistics.Calculator(distance_resolver=None).calculate(pl.DataFrame(
        [{**ROAD, "shipment_id": "a", "mass_kg": 10_000.0, "distance_km": 10.0}], schema=schema)).legs
    assert empty.height == 0 and empty.schema == one.schema
    assert one["co2e_wtw_kg"][0] == pytest.approx(9.5)  # 10 t × 10 km × 95 g/tkm (GLEC v3.0 p.92)


def test_vocabulary_read_once_per_key_but_never_across_defaults():
    """Vocabulary keys are cached on the pack per input schema and defaults: the same raw legs with
    another default region must get that region's factor, not the one cached for the first call."""
    pack = logistics.load_pack("glec-v3.0")
    legs = pl.DataFrame({"shipment_id": ["a", "b"], "mode": [" Road ", "road"], "vehicle": ["artic_40t", "ARTIC_40T"],
                         "energy_carrier": ["diesel", "diesel"], "mass_kg": ["10000", " 20000 "], "distance_km": ["500", "500"]})
    eu = calc(legs, pack=pack, defaults={"region": "eu"})  # defaults are read like cells: eu -> EU
    # 10 t × 500 km × 95 g/tkm = 475 kg; 20 t (cell with spaces) → 950 kg (GLEC v3.0 p.92)
    assert eu.legs["co2e_wtw_kg"].to_list() == pytest.approx([475.0, 950.0])
    assert eu.legs["region"].to_list() == ["EU", "EU"] and eu.legs["mode"].to_list() == ["road", "road"]
    none = calc(legs, pack=pack)  # same cells, no default region: no match, not EU's factor
    assert none.legs["co2e_wtw_kg"].null_count() == 2
    assert none.legs["error"][0].startswith("factor: no default in pack glec-v3.0")
    again = calc(legs, pack=pack, defaults={"region": "EU"})
    assert again.legs["factor_id"].to_list() == eu.legs["factor_id"].to_list()


def test_leg_positions_when_a_shipments_rows_are_scattered():
    rows = pl.DataFrame({"shipment_id": ["A", "B", "A", "B", "C"], "mass_kg": [1000.0] * 5,
                         "distance_km": [100.0] * 5, **{k: [v] * 5 for k, v in ROAD.items()}})
    r = calc(rows)
    assert r.legs["leg_seq"].to_list() == [1, 1, 2, 2, 1]
    assert r.legs["leg_id"].to_list() == ["A-1", "B-1", "A-2", "B-2", "C-1"]
    grouped = calc(rows.sort("shipment_id", maintain_order=True))  # counted along runs instead
    assert grouped.legs["leg_id"].to_list() == ["A-1", "A-2", "B-1", "B-2", "C-1"]


def test_rows_without_a_shipment_id_are_counted_alike_scattered_or_grouped():
    # rejected, but numbered like every row, whatever the order of the file (or of a Spark partition)
    rows = pl.DataFrame({"shipment_id": ["A", " ", "A", None, " "], "mass_kg": ["1000"] * 5, "distance_km": ["100"] * 5,
                         **{k: [v] * 5 for k, v in ROAD.items()}})
    scattered = calc(rows).legs
    assert scattered["leg_seq"].to_list() == [1, 1, 2, 2, 3]
    assert scattered["error_code"].to_list() == [None, "shipment_id.missing", None, "shipment_id.missing", "shipment_id.missing"]
    grouped = calc(rows[[1, 4, 3, 0, 2]]).legs  # counted along runs
    assert grouped["leg_seq"].to_list() == [1, 2, 3, 1, 2]


def test_modes_in_any_case_get_their_distance_and_hub_factor():
    # Places are resolved per distinct key of the mode as read: "Road", "ROAD" and "HUB" are road
    # and hub. Hamburg -> Munich by coordinates: a GCD with the road DAF, like the lower-case legs.
    places = {"origin_lat": 53.5, "origin_lon": 10.0, "destination_lat": 48.15, "destination_lon": 11.58}
    def legs(road, hub):
        return [{**ROAD, **places, "shipment_id": "S", "mass_kg": 10_000, "mode": road},
                {"shipment_id": "S", "mass_kg": 10_000, "mode": hub, "hub_type": "transshipment"}]
    written = logistics.calculate(pl.DataFrame(legs(" ROAD", "HUB"))).legs
    lower = logistics.calculate(pl.DataFrame(legs("road", "hub"))).legs
    assert written["error"].to_list() == [None, None]
    assert written["mode"].to_list() == ["road", "hub"]
    assert written["distance_type"][0] == "gcd"
    assert written["co2e_wtw_kg"].to_list() == lower["co2e_wtw_kg"].to_list()
    assert written["co2e_wtw_kg"][1] == pytest.approx(6.0)  # 10 t × 0.6 kg/t (GLEC v3.0 transshipment default)


def test_columns_the_engine_does_not_read_are_named_with_the_column_meant():
    rows = [{**ROAD, "shipment_id": "S", "mass_kg": 1000, "distance_km": 100, "vehicle_type": "artic", "Gewicht": "1",
             "tag_branch": "HH", "customer": "Acme"}]
    summary = calc(rows, provenance="lean").summary()
    # tag_* and customer travel through; the others are lost from lean results, so they are named
    assert summary["unread_columns"] == {"vehicle_type": "vehicle", "Gewicht": None}
