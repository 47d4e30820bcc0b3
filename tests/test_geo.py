"""Locations and distances (logistics.geo): resolution, geodesy, sea routing, DAF rules, caching."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from logistics import geo
from logistics.factors import Pack

PARAMETERS = {
    "air_gcd_added_km": 95.0,  # GLEC v3.0 p.38
    "sea_gcd_daf": 1.15,  # GLEC v3.0 p.51
    "road_gcd_daf": 1.2,
    "rail_gcd_daf": 1.3,
    "inland_waterway_gcd_daf": 1.6,
}


def make_pack(parameters: dict[str, float] = PARAMETERS) -> Pack:
    table = pl.DataFrame(
        {"name": list(parameters), "value": list(parameters.values()), "unit": ["1"] * len(parameters)},
        schema={"name": pl.String, "value": pl.Float64, "unit": pl.String},
    )
    return Pack(name="test", version="0", path=None, tables={"parameters": table})


def legs(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows)
    return frame.with_columns(_leg=pl.int_range(pl.len(), dtype=pl.UInt32)).select("_leg", pl.exclude("_leg"))


def one(rows: list[dict], **kwargs) -> dict:
    return geo.resolve_distances(legs(rows), **kwargs).row(0, named=True)


def place(code: str) -> tuple[float, float]:
    row = geo.resolve_locations(pl.Series([code])).row(0, named=True)
    assert row["error"] is None, row["error"]
    return row["lat"], row["lon"]


# --------------------------------------------------------------------------- resolution


def test_codes_resolve_to_their_published_coordinates():
    found = geo.resolve_locations(pl.Series(["NLRTM", "NL RTM", "nlrtm", "NRT", "RJAA", "51.9, 4.5", "NLRTM", None]))
    assert found.height == 6  # one row per distinct non-null value
    by_value = {r["value"]: r for r in found.iter_rows(named=True)}
    # UNECE 2023-1 lists Rotterdam at 5155N 00430E = 51 + 55/60, 4 + 30/60.
    for value in ("NLRTM", "NL RTM", "nlrtm"):
        assert by_value[value]["kind"] == "unlocode"
        assert by_value[value]["lat"] == pytest.approx(51 + 55 / 60, abs=1e-9)
        assert by_value[value]["lon"] == pytest.approx(4.5, abs=1e-9)
    # airportsdata: Narita 35.7647, 140.386, under its IATA and its ICAO code.
    for value, kind in (("NRT", "iata"), ("RJAA", "icao")):
        assert by_value[value]["kind"] == kind
        assert (by_value[value]["lat"], by_value[value]["lon"]) == pytest.approx((35.7647, 140.386), abs=1e-4)
    assert (by_value["51.9, 4.5"]["lat"], by_value["51.9, 4.5"]["lon"]) == (51.9, 4.5)


def test_ports_without_unece_coordinates_are_backfilled():
    # UNECE 2023-1 gives CNSHA and SGSIN no coordinates; searoute's port list does.
    assert place("CNSHA") == pytest.approx((31.400091, 121.497113), abs=1e-6)
    assert place("SGSIN") == pytest.approx((1.239207, 103.832461), abs=1e-6)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("XXYYY", "'XXYYY' is not a known UN/LOCODE"),
        ("NLZZZ", "'NLZZZ' is not a known UN/LOCODE"),
        # Basel is listed without coordinates and has no port or airport to fill them from.
        ("CHBSL", "'CHBSL' has no coordinates in UN/LOCODE"),
        # UNECE puts Freienbrink (near Berlin) at 138° E.
        ("DEFKN", "'DEFKN' has no usable coordinates in UN/LOCODE ('5237N 13800E' is not near the other codes of DE)"),
        ("QQQ", "'QQQ' is not a known IATA airport code"),
        ("TYO", "'TYO' is an IATA city code covering several airports (HND, NRT); give one"),
        ("ZZZZ", "'ZZZZ' is not a known ICAO airport code"),
        ("95,10", "'95,10' is not a valid 'lat,lon' (latitude within ±90, longitude within ±180)"),
        ("10,181", "'10,181' is not a valid 'lat,lon' (latitude within ±90, longitude within ±180)"),
        ("Rotterdam port", "'Rotterdam port' is not a UN/LOCODE, an IATA or ICAO airport code, or 'lat,lon'"),
    ],
)
def test_bad_places_are_named_in_the_error(value, message):
    row = geo.resolve_locations(pl.Series([value])).row(0, named=True)
    assert row["error"] == message
    assert row["lat"] is None and row["lon"] is None


def test_bad_codes_are_row_errors_naming_column_and_value():
    out = geo.resolve_distances(
        legs(
            [
                {"mode": "road", "origin": "XXYYY", "destination": "DEHAM"},
                {"mode": "road", "origin": "DEHAM", "destination": "CHBSL"},
                {"mode": "road", "origin": "DEHAM", "destination": "DEMUC"},
            ]
        ),
        pack=make_pack(),
    )
    assert out["distance_error"].to_list()[:2] == [
        "origin: 'XXYYY' is not a known UN/LOCODE",
        "destination: 'CHBSL' has no coordinates in UN/LOCODE",
    ]
    assert out["distance_km"].to_list()[:2] == [None, None]
    assert out["distance_error"][2] is None and out["distance_km"][2] > 0  # a bad row stops no other


def test_coordinate_columns_win_over_text_and_are_checked():
    out = geo.resolve_distances(
        legs(
            [
                # Columns given: the text (which would fail) is not used.
                {"mode": "road", "origin": "XXYYY", "destination": "DEMUC",
                 "origin_lat": 53.5, "origin_lon": 10.0, "destination_lat": 48.15, "destination_lon": 11.58},
                {"mode": "road", "origin": None, "destination": "DEMUC",
                 "origin_lat": 53.5, "origin_lon": None, "destination_lat": None, "destination_lon": None},
                {"mode": "road", "origin": None, "destination": "DEMUC",
                 "origin_lat": 91.0, "origin_lon": 10.0, "destination_lat": None, "destination_lon": None},
                {"mode": "road", "origin": None, "destination": "DEMUC",
                 "origin_lat": None, "origin_lon": None, "destination_lat": None, "destination_lon": None},
            ]
        ),
        daf={"road": 1.2},
    )
    expected = geodesic((53.5, 10.0), (48.15, 11.58)).km
    assert out["distance_km"][0] == pytest.approx(expected, rel=1e-9)
    assert out["distance_error"].to_list()[1:] == [
        "origin_lon: missing (origin_lat is given)",
        "origin_lat: 91.0 is outside ±90",
        "origin: missing (give origin or origin_lat/origin_lon)",
    ]


def test_text_coordinate_columns_are_parsed_or_reported():
    frame = legs([{"mode": "road", "origin_lat": "53.5", "origin_lon": "ten", "destination": "DEMUC"}])
    row = geo.resolve_distances(frame, daf={"road": 1.2}).row(0, named=True)
    assert row["distance_error"] == "origin_lon: 'ten' is not a number"


def test_absent_place_columns_and_empty_input():
    only_origin = pl.DataFrame({"_leg": pl.Series([0], dtype=pl.UInt32), "mode": ["road"], "origin": ["DEHAM"]})
    row = geo.resolve_distances(only_origin, daf={"road": 1.2}).row(0, named=True)
    assert row["distance_error"] == "destination: missing (give destination or destination_lat/destination_lon)"
    empty = only_origin.clear()
    out = geo.resolve_distances(empty, daf={"road": 1.2})
    assert out.height == 0
    assert out.columns == ["_leg", "distance_km", "distance_type", "distance_source", "daf", "distance_error"]


def test_unknown_mode_and_same_place_are_row_errors():
    out = geo.resolve_distances(
        legs(
            [
                {"mode": "hub", "origin": "DEHAM", "destination": "DEMUC"},
                {"mode": "road", "origin": "DEHAM", "destination": "DE HAM"},
            ]
        ),
        pack=make_pack(),
    )
    assert out["distance_error"].to_list() == [
        "mode: 'hub' has no distance (one of road, rail, sea, inland_waterway, air)",
        "origin and destination are the same point (0 km apart); give distance_km",
    ]


# --------------------------------------------------------------------------- geodesy


def test_nrt_fra_great_circle_matches_geopy_geodesic():
    (a_lat, a_lon), (b_lat, b_lon) = place("NRT"), place("FRA")
    reference = geodesic((a_lat, a_lon), (b_lat, b_lon)).km
    assert 9300 < reference < 9450  # Tokyo Narita - Frankfurt is about 9,390 km
    ours = geo.geodesic_km([a_lat], [a_lon], [b_lat], [b_lon])[0]
    assert abs(ours - reference) / reference < 0.005  # the bound
    assert ours == pytest.approx(reference, rel=1e-9)  # both solve the same WGS84 geodesic


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180),
)
def test_vectorised_geodesic_agrees_with_geopy_everywhere(lat1, lon1, lat2, lon2):
    ours = geo.geodesic_km([lat1], [lon1], [lat2], [lon2])[0]
    assert ours == pytest.approx(geodesic((lat1, lon1), (lat2, lon2)).km, rel=1e-9, abs=1e-6)


def test_antimeridian_and_polar_geodesics():
    lat1, lon1, lat2, lon2 = zip(
        (0.0, 179.5, 0.0, -179.5),  # across the antimeridian on the equator
        (90.0, 0.0, -90.0, 0.0),  # pole to pole
        (90.0, 0.0, 89.0, 0.0),  # last degree of meridian to the pole
        (89.9, 0.0, 89.9, 180.0),  # across the pole
        strict=True,
    )
    got = geo.geodesic_km(lat1, lon1, lat2, lon2)
    # One degree of the WGS84 equator: a * pi / 180 = 6378.137 * 0.01745329 = 111.3195 km.
    assert got[0] == pytest.approx(6378.137 * 3.141592653589793 / 180, rel=1e-9)
    # WGS84 meridian from pole to pole: 2 * 10,001.9657 km.
    assert got[1] == pytest.approx(20003.9315, abs=1e-3)
    for i in (2, 3):
        assert got[i] == pytest.approx(geodesic((lat1[i], lon1[i]), (lat2[i], lon2[i])).km, rel=1e-9)
    assert got[3] == pytest.approx(2 * 11.17, rel=0.01)  # 0.2° of meridian through the pole


# --------------------------------------------------------------------------- mode rules


def test_air_is_gcd_plus_95_km_per_flight_leg():
    row = one([{"mode": "air", "origin": "NRT", "destination": "FRA"}], pack=make_pack())
    gcd = geodesic(place("NRT"), place("FRA")).km
    assert row["distance_type"] == "gcd" and row["distance_source"] == "geodesic WGS84"
    assert row["distance_km"] == pytest.approx(gcd, rel=1e-9)
    assert row["daf"] == pytest.approx((gcd + 95) / gcd, rel=1e-12)
    # The activity distance the engine multiplies out: GCD x DAF = GCD + 95 km.
    assert row["distance_km"] * row["daf"] == pytest.approx(gcd + 95, rel=1e-12)


def test_air_daf_override_replaces_the_95_km():
    row = one([{"mode": "air", "origin": "NRT", "destination": "FRA"}], pack=make_pack(), daf={"air": 1.0})
    assert row["daf"] == 1.0


def test_rotterdam_shanghai_goes_via_suez():
    row = one([{"mode": "sea", "origin": "NLRTM", "destination": "CNSHA"}], pack=make_pack())
    assert row["distance_type"] == "sfd" and row["distance_source"] == "searoute" and row["daf"] == 1.0
    # Port tables give about 10,500 nmi (19,450 km) via Suez; the Arctic route would be ~15,500 km
    # and the Cape of Good Hope ~26,000 km.
    assert 19_000 < row["distance_km"] < 20_500


def test_hamburg_shanghai_is_close_to_the_glec_example():
    row = one([{"mode": "sea", "origin": "DEHAM", "destination": "CNSHA"}], pack=make_pack())
    # GLEC v3.0 p.118 uses 21,000 km port to port from a sea-routing tool.
    assert row["distance_km"] == pytest.approx(21_000, rel=0.06)


def test_yokohama_los_angeles_crosses_the_pacific():
    row = one([{"mode": "sea", "origin": "JPYOK", "destination": "USLAX"}], pack=make_pack())
    gcd = geodesic(place("JPYOK"), place("USLAX")).km  # 8,872 km
    assert row["distance_type"] == "sfd"
    # Published port distance is about 4,850 nmi (8,980 km); a route via Panama or Suez would be
    # more than twice as long.
    assert gcd < row["distance_km"] < 1.05 * gcd


def test_sea_leg_far_from_the_network_falls_back_to_gcd_times_1_15():
    # Central Kazakhstan (48 N, 68 E) is over 1,000 km from any sea lane.
    row = one(
        [{"mode": "sea", "origin": "48.0,68.0", "destination": "NLRTM"}],
        pack=make_pack(),
    )
    assert row["distance_type"] == "gcd"
    assert row["distance_source"] == "geodesic WGS84 (no sea route)"
    assert row["daf"] == 1.15
    assert row["distance_km"] == pytest.approx(geodesic((48.0, 68.0), place("NLRTM")).km, rel=1e-9)


@pytest.mark.parametrize(("mode", "expected_daf"), [("road", 1.2), ("rail", 1.3), ("inland_waterway", 1.6)])
def test_land_and_river_legs_are_gcd_times_the_pack_daf(mode, expected_daf):
    row = one([{"mode": mode, "origin": "DEHAM", "destination": "DEMUC"}], pack=make_pack())
    assert row["distance_type"] == "gcd" and row["distance_source"] == "geodesic WGS84"
    assert row["daf"] == expected_daf
    # Hamburg 5331N 00956E - Munich 4809N 01135E on WGS84: 608.2 km (geopy).
    assert row["distance_km"] == pytest.approx(geodesic((53 + 31 / 60, 9 + 56 / 60), (48 + 9 / 60, 11 + 35 / 60)).km)
    assert row["distance_km"] == pytest.approx(608.18, abs=0.01)


def test_daf_override_wins_over_the_pack_and_missing_daf_is_a_row_error():
    frame = legs(
        [
            {"mode": "road", "origin": "DEHAM", "destination": "DEMUC"},
            {"mode": "rail", "origin": "DEHAM", "destination": "DEMUC"},
        ]
    )
    pack = make_pack({"road_gcd_daf": 1.2})
    out = geo.resolve_distances(frame, pack=pack, daf={"road": 1.05})
    assert out["daf"][0] == 1.05
    assert out["daf"][1] is None and out["distance_km"][1] is None
    assert out["distance_error"][1] == (
        "daf: no DAF for rail on GCD (pack parameter 'rail_gcd_daf' missing, and no daf= override)"
    )
    no_pack = geo.resolve_distances(frame.head(1)).row(0, named=True)
    assert no_pack["distance_error"].startswith("daf: no DAF for road on GCD")


def test_bad_daf_override_is_refused():
    with pytest.raises(ValueError, match="'truck' is not one of"):
        geo.resolve_distances(legs([{"mode": "road", "origin": "DEHAM", "destination": "DEMUC"}]), daf={"truck": 1.2})
    with pytest.raises(ValueError, match=r"daf\['road'\]: 0.9 is not a number >= 1"):
        geo.resolve_distances(legs([{"mode": "road", "origin": "DEHAM", "destination": "DEMUC"}]), daf={"road": 0.9})


# --------------------------------------------------------------------------- per distinct pair


def test_work_is_done_once_per_distinct_pair(monkeypatch):
    pairs = [("NLRTM", "CNSHA"), ("NL RTM", "CNSHA"), ("JPYOK", "USLAX"), ("DEHAM", "USNYC")]
    rows = [{"mode": "sea", "origin": o, "destination": d} for o, d in pairs] * 2_500
    rows += [{"mode": "road", "origin": "DEHAM", "destination": "DEMUC"}] * 1_000
    measured = []
    real_geodesic = geo.geodesic_km

    def counting_geodesic(*args):
        measured.append(len(args[0]))
        return real_geodesic(*args)

    monkeypatch.setattr(geo, "geodesic_km", counting_geodesic)
    network = geo.sea_network()
    network.cache.clear()
    out = geo.resolve_distances(legs(rows), pack=make_pack())
    assert out.height == 11_000 and out["_leg"].to_list() == list(range(11_000))
    # NLRTM and "NL RTM" are one place: 3 distinct sea pairs + 1 road pair, measured once each.
    assert measured[0] == 4
    assert network.cache.misses == 3  # one shortest-path search per origin node: NLRTM, JPYOK, DEHAM
    geo.resolve_distances(legs(rows), pack=make_pack())
    assert network.cache.misses == 3 and network.cache.hits >= 3  # the second time from the cache
    assert out["distance_error"].null_count() == 11_000
    assert out.filter(pl.col("_leg") % 4 == 0)["distance_km"].n_unique() == 2  # NLRTM-CNSHA and the road leg


@pytest.mark.skipif(geo.SEAROUTE_BACKEND != "igraph", reason="igraph not installed")
def test_igraph_backend_routes_like_networkx():
    # searoute rebinds its shortest-path function per backend for the whole process, so the
    # networkx reference runs in a child process.
    ends = [place(o) + place(d) for o, d in (("NLRTM", "CNSHA"), ("JPYOK", "USLAX"), ("DEHAM", "USNYC"))]
    script = (
        "import sys, json; from logistics import geo; geo.SEAROUTE_BACKEND = 'networkx'; "
        "print(json.dumps([geo.sea_route_km(*e) for e in json.loads(sys.argv[1])]))"
    )
    child = subprocess.run([sys.executable, "-c", script, json.dumps(ends)], capture_output=True, text=True, check=True)
    assert [geo.sea_route_km(*e) for e in ends] == json.loads(child.stdout)


# --------------------------------------------------------------------------- shipped data


def test_shipped_unlocode_table_covers_every_code_with_coordinates():
    table = pl.read_parquet(geo.UNLOCODE_PATH)
    assert table["locode"].is_unique().all()
    assert table.height > 115_000  # UNECE 2023-1 lists 115,770 distinct codes
    with_unece_coordinates = table.filter(pl.col("coordinates").is_not_null())
    assert with_unece_coordinates.height > 92_000
    # Each is located, or says why its UNECE coordinates were set aside.
    unexplained = with_unece_coordinates.filter(pl.col("lat").is_null() & pl.col("coord_problem").is_null())
    assert unexplained.height == 0
    located = table.filter(pl.col("lat").is_not_null())
    assert located["lat"].abs().max() <= 90 and located["lon"].abs().max() <= 180
    assert set(located["coord_source"].unique()) == {"unlocode", "unlocode-decimal", "searoute", "airportsdata"}


# --------------------------------------------------------------------------- cross-checked places


def test_yantian_is_in_shenzhen_not_fujian():
    # UNECE 2023-1 lists CNYTN "Yantian Pt", subdivision GD (Guangdong), at 2651N 11952E, in
    # Fujian. The port of Yantian is in Shenzhen's Yantian district, at about 22.58 N, 114.27 E
    # (Yantian International Container Terminals); searoute's port list has 22.5835, 114.2921.
    row = geo.resolve_locations(pl.Series(["CNYTN"])).row(0, named=True)
    assert geodesic((row["lat"], row["lon"]), (22.58, 114.27)).km < 5
    assert row["note"] == (
        "CNYTN from searoute's ports (UNECE's point is not in subdivision CN-GD, 736 km from searoute's port)"
    )
    # Shenzhen Bao'an (CNSZX) to Yantian by road: 28 km of GCD, not the 761 km to Fujian.
    out = one([{"mode": "road", "origin": "CNSZX", "destination": "CNYTN"}], pack=make_pack())
    assert out["distance_km"] == pytest.approx(geodesic(place("CNSZX"), (22.583517, 114.292076)).km, rel=1e-9)
    assert out["distance_km"] == pytest.approx(28.08, abs=0.01)
    assert out["distance_source"] == "geodesic WGS84; destination " + row["note"]


def test_seaports_named_after_the_port_not_the_airport():
    # UNECE 2023-1 names CNSHA "Shanghai Hongqiao International Apt" and CNNGB "Ningbo Lishe
    # International Apt" (function 4, airport only); shipping uses both codes for the ports.
    found = geo.resolve_locations(pl.Series(["CNSHA", "CNNGB", "CNTAO", "SHA"]))
    assert dict(zip(found["value"], found["name"], strict=True)) == {
        "CNSHA": "Shanghai", "CNNGB": "Ningbo", "CNTAO": "Qingdao",
        "SHA": "Shanghai Hongqiao International Airport",  # the IATA code is the airport
    }
    table = pl.read_parquet(geo.UNLOCODE_PATH).filter(pl.col("locode").is_in(["CNSHA", "CNNGB"]))
    assert table["unece_name"].to_list() == ["Ningbo Lishe International Apt", "Shanghai Hongqiao International Apt"]


def test_sea_legs_use_the_port_where_it_disagrees_beyond_50_km():
    # UNECE 2023-1 puts SESTE Stenungsund at 5845N 01149E, 76 km north of the town and its port
    # on the Hakefjord, at about 58.07 N, 11.82 E (searoute's port: 58.0654, 11.8161): 45' for 05'.
    sea = one([{"mode": "sea", "origin": "SESTE", "destination": "DEHAM"}], pack=make_pack())
    road = one([{"mode": "road", "origin": "SESTE", "destination": "DEHAM"}], pack=make_pack())
    assert sea["distance_source"] == "searoute; origin SESTE from searoute's ports (UN/LOCODE's point is 76 km away)"
    assert road["distance_source"] == "geodesic WGS84"  # no disagreement for road: UN/LOCODE's point
    port = (58.065398, 11.816136)
    assert sea["distance_km"] == pytest.approx(
        geo.sea_distances_km([port[0]], [port[1]], *(np.array([v]) for v in place("DEHAM")))[0], rel=1e-12
    )
    assert road["distance_km"] == pytest.approx(geodesic((58.75, 11 + 49 / 60), place("DEHAM")).km, rel=1e-9)


def test_air_legs_use_the_airport_where_it_disagrees_beyond_50_km():
    # UNECE 2023-1 puts MXLTO Loreto (Baja California Sur) at 2601N 11237W, 127 km west of
    # Loreto International Airport (LTO, 25.9892 N, 111.348 W in airportsdata).
    row = one([{"mode": "air", "origin": "MXLTO", "destination": "MEX"}], pack=make_pack())
    assert row["distance_source"] == "geodesic WGS84; origin MXLTO from airport LTO (UN/LOCODE's point is 127 km away)"
    assert row["distance_km"] == pytest.approx(geodesic((25.9892, -111.348), place("MEX")).km, rel=1e-9)
    # Within 50 km the code's own point stands: CNSHA (the port) is 27 km from Hongqiao.
    near = one([{"mode": "air", "origin": "CNSHA", "destination": "NRT"}], pack=make_pack())
    assert near["distance_source"] == "geodesic WGS84"
    assert geodesic(place("CNSHA"), place("SHA")).km < geo.CROSS_CHECK_KM


def test_a_code_whose_point_fails_its_subdivision_moves_to_the_source_inside_it():
    # UNECE 2023-1 gives USPWM (Portland, Maine) no coordinates; searoute's USPWM is Portland,
    # Oregon. The airport (PWM, 43.6456 N, 70.3086 W) is in Maine, as the code's subdivision says.
    row = geo.resolve_locations(pl.Series(["USPWM"])).row(0, named=True)
    assert (row["lat"], row["lon"]) == pytest.approx((43.645643, -70.308616), abs=1e-6)
    assert row["note"].startswith("USPWM from the airport table (searoute's point is not in subdivision US-ME")


def test_cross_check_counts_of_the_shipped_table():
    table = pl.read_parquet(geo.UNLOCODE_PATH)
    # Every mode point is more than the threshold away from the code's point, and says so.
    for mode in ("sea", "air"):
        own = table.filter(pl.col(f"{mode}_lat").is_not_null())
        assert own.height > 40 and own[f"{mode}_km"].min() > geo.CROSS_CHECK_KM
        assert np.allclose(
            geo.geodesic_km(own["lat"], own["lon"], own[f"{mode}_lat"], own[f"{mode}_lon"]), own[f"{mode}_km"]
        )
    moved = table.filter(pl.col("coord_problem").str.contains("point is not in subdivision"))
    assert moved.height > 100 and set(moved["coord_source"]) == {"searoute", "airportsdata"}


def test_cached_places_are_the_same_rows():
    values = pl.Series(["CNYTN", "NRT", "51.9,4.5", "XXYYY"])
    first = geo.resolve_locations(values)
    again = geo.resolve_locations(values)
    direct = geo._resolve_locations(values)
    assert first.equals(again) and first.equals(direct)


def test_network_distances_equal_searoutes_own_routes():
    # sea_distances_km runs one Dijkstra search per origin node over searoute's own network, with
    # searoute's edge lengths; searoute's call (sea_route_km) routes each pair by itself. They may
    # differ only where searoute's 0.1 km rounded edge weights pick another of two near-equal
    # paths: measured at most 0.11 km over 2,000 random pairs (bench_geo), 4 m over these 40.
    ports = pl.read_parquet(geo.UNLOCODE_PATH).filter(
        pl.col("lat").is_not_null() & pl.col("function").str.starts_with("1")
    )
    codes = ports["locode"].sample(80, seed=7).to_list()
    at = geo.resolve_locations(pl.Series(codes))
    lat, lon = at["lat"].to_numpy(), at["lon"].to_numpy()
    new = geo.sea_distances_km(lat[:40], lon[:40], lat[40:], lon[40:])
    old = np.array([geo.sea_route_km(lat[i], lon[i], lat[40 + i], lon[40 + i]) or np.nan for i in range(40)])
    assert (np.isnan(new) == np.isnan(old)).all()
    assert np.isfinite(new).sum() >= 30
    assert np.nanmax(np.abs(new - old)) < 0.5
