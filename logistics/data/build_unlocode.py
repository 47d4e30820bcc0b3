"""Build ``unlocode.parquet``: every UN/LOCODE with its coordinates, for offline place resolution.

Run by a maintainer when UNECE publishes a new release, never at runtime:

    python logistics/data/build_unlocode.py [--source DIR] [--out FILE]

``DIR`` holds the UNECE CodeList CSV files (``* UNLOCODE CodeListPart1.csv`` ... as published in
UNECE's "loc*csv.zip"; ISO 8859-1). Without ``--source`` the script uses the copy of the 2023-1
release inside the ``pyunlocode`` package if that is installed (``pip download pyunlocode`` and
unzipping the wheel also works: pass its ``pyunlocode/csv`` folder). Build-time needs: polars,
numpy, scipy, searoute, airportsdata.

UNECE's coordinates have three problems, handled here:
- about a fifth of the codes have none, among them major ports such as CNSHA and SGSIN;
- a few hundred write decimal degrees where minutes belong ("3437S 05883W" for -34.37, -58.83);
- a few hundred are plainly wrong (a German village at 138° E): sign or digit slips.
Each code's coordinates are therefore taken from the first *plausible* candidate of
1. the UNECE entry read as degrees and minutes;
2. the UNECE entry read as decimal degrees, when a minutes field is 60 or more;
3. searoute's port list (keyed by UN/LOCODE; it has sign slips of its own);
4. airportsdata, for codes whose function includes an airport (``4``), on the IATA code given by
   UN/LOCODE (or the location part of the code) in the same country.
A point is plausible when another UN/LOCODE of the same country lies within
``PLAUSIBLE_WITHIN_KM``, or is among its ``NEIGHBOURS`` nearest UN/LOCODE points (remote places);
countries with a single located code and ``XZ`` (international waters) cannot be checked and pass.
Every row says where its coordinates came from (``coord_source``), and a code whose UNECE
coordinates were set aside keeps them in ``coordinates`` with the reason in ``coord_problem``.

Then the three sources are cross-checked (``cross_check``). Where searoute's port or the airport
of a code lies more than ``CROSS_CHECK_KM`` from the chosen point, the source that fits the mode
wins for that mode: the port's point is kept in ``sea_lat``/``sea_lon`` for sea legs, the
airport's in ``air_lat``/``air_lon`` for air legs (each with its distance from the general point
in ``sea_km``/``air_km``), so that a lookup stays a join. A point is only used when it is
plausible for its country and, where UNECE gives the code a subdivision, lies among codes of that
subdivision (``SUBDIVISION_NEIGHBOURS``); when UNECE's own point fails that test and a mode's
point passes it, the mode's point also becomes the general point (``CNYTN`` Yantian, Guangdong,
which UNECE 2023-1 places in Fujian; ``USPWM`` Portland, Maine, whose searoute port is Portland,
Oregon). A code that searoute lists as a port while
UNECE's entry describes something else (``CNSHA`` and ``CNNGB`` are airports in UNECE 2023-1)
is named after the port (``name``; UNECE's name stays in ``unece_name``): a seaport is never
named after an airport.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from logistics.geo import CROSS_CHECK_KM, geodesic_km

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "unlocode.parquet"

# Column order of the UNECE CodeList CSV files (they have no header row).
UNECE_COLUMNS = [
    "change", "country", "location", "name", "name_ascii", "subdivision",
    "function", "status", "date", "iata", "coordinates", "remarks",
]
# UNECE writes coordinates as degrees and minutes: "5155N 00430E".
COORDINATES = r"^(\d{2})(\d{2})([NS]) ?(\d{3})(\d{2})([EW])$"
PLAUSIBLE_WITHIN_KM = 300.0
NEIGHBOURS = 10
# A point agrees with the code's subdivision when at least SUBDIVISION_AGREEING of its
# SUBDIVISION_NEIGHBOURS nearest codes of the same country (that name a subdivision) are in it:
# one is not enough, UNECE files the odd code under a wrong subdivision (ARCLC Caleta Córdoba,
# on the coast of Chubut, under Córdoba).
SUBDIVISION_NEIGHBOURS = 10
SUBDIVISION_AGREEING = 2
UNCHECKED_COUNTRIES = {"XZ"}
EARTH_RADIUS_KM = 6371.0088


def pyunlocode_csv_dir() -> Path | None:
    spec = importlib.util.find_spec("pyunlocode")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "csv"


def read_unece(source: Path) -> pl.DataFrame:
    files = sorted(source.glob("*CodeListPart*.csv"))
    if not files:
        raise SystemExit(f"{source}: no '*CodeListPart*.csv' files (UNECE UN/LOCODE CSV release)")
    raw = pl.concat(
        pl.read_csv(f, has_header=False, new_columns=UNECE_COLUMNS, infer_schema=False, encoding="latin1")
        for f in files
    )
    return raw.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in UNECE_COLUMNS)


def parse_coordinates(codes: pl.DataFrame) -> pl.DataFrame:
    """``dm_lat/dm_lon``: the degrees-and-minutes reading; ``dec_lat/dec_lon``: the decimal reading
    where a minutes field is 60 or more. Each is null when the reading is impossible."""
    parts = pl.col("coordinates").str.extract_groups(COORDINATES)
    num = lambda i: parts.struct.field(str(i)).cast(pl.Float64)
    lat_sign = pl.when(parts.struct.field("3") == "S").then(-1.0).otherwise(1.0)
    lon_sign = pl.when(parts.struct.field("6") == "W").then(-1.0).otherwise(1.0)
    dm_lat, dm_lon = (num(1) + num(2) / 60) * lat_sign, (num(4) + num(5) / 60) * lon_sign
    dec_lat, dec_lon = (num(1) + num(2) / 100) * lat_sign, (num(4) + num(5) / 100) * lon_sign
    on_earth = lambda lat, lon: (lat.abs() <= 90) & (lon.abs() <= 180)
    minutes_ok = (num(2) < 60) & (num(5) < 60)
    dm_ok, dec_ok = minutes_ok & on_earth(dm_lat, dm_lon), ~minutes_ok & on_earth(dec_lat, dec_lon)
    return codes.with_columns(
        dm_lat=pl.when(dm_ok).then(dm_lat),
        dm_lon=pl.when(dm_ok).then(dm_lon),
        dec_lat=pl.when(dec_ok).then(dec_lat),
        dec_lon=pl.when(dec_ok).then(dec_lon),
    )


def unlocode_table(raw: pl.DataFrame) -> pl.DataFrame:
    codes = raw.filter(pl.col("location").is_not_null() & pl.col("country").is_not_null())
    codes = parse_coordinates(codes.with_columns(locode=pl.col("country") + pl.col("location")))
    # A code listed twice (alternative names) keeps the entry that has coordinates, else the first.
    return (
        codes.with_row_index("_order")
        .sort(pl.col("coordinates").is_null(), "_order")
        .unique("locode", keep="first")
        .sort("_order")
        .drop("_order")
    )


def searoute_ports() -> pl.DataFrame:
    from searoute.data.ports_dict import node_list

    ports = pl.DataFrame(
        [{"locode": p["port"], "terminal": p.get("t") == 1.0, "lat": p["y"], "lon": p["x"], "name": p.get("name")}
         for p in node_list.values()],
        schema={"locode": pl.String, "terminal": pl.Boolean, "lat": pl.Float64, "lon": pl.Float64, "name": pl.String},
    )
    # A code listed twice: prefer the container-terminal entry.
    return ports.sort("terminal", descending=True, maintain_order=True).unique("locode", keep="first")


def airports() -> pl.DataFrame:
    spec = importlib.util.find_spec("airportsdata")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the airportsdata package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "airports.csv"
    return (
        pl.read_csv(path, infer_schema=False)
        .filter(pl.col("iata").is_not_null() & (pl.col("iata") != ""))
        .select("iata", "country", "name", pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64))
    )


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat), np.radians(lon)
    return np.c_[np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2, 1.0))


def plausible(points: pl.DataFrame, reference: pl.DataFrame) -> np.ndarray:
    """For each point (locode, country, lat, lon): does it sit among its country's other codes?

    ``reference`` (locode, country, lat, lon) is the set of located codes; a point's own code is
    never its own evidence.
    """
    ok = np.zeros(points.height, dtype=bool)
    located = points["lat"].is_not_null().to_numpy()
    if not located.any():
        return ok
    pts = points.filter(pl.col("lat").is_not_null())
    xyz = unit_vectors(pts["lat"].to_numpy(), pts["lon"].to_numpy())
    ref_xyz = unit_vectors(reference["lat"].to_numpy(), reference["lon"].to_numpy())
    ref_country, ref_code = reference["country"].to_numpy(), reference["locode"].to_numpy()
    country, code = pts["country"].to_numpy(), pts["locode"].to_numpy()

    # Among the nearest reference points (one extra in case the point itself is there).
    _, idx = cKDTree(ref_xyz).query(xyz, k=NEIGHBOURS + 1)
    result = ((ref_country[idx] == country[:, None]) & (ref_code[idx] != code[:, None])).any(axis=1)

    # Nearest other code of the same country within PLAUSIBLE_WITHIN_KM.
    for c in np.unique(country):
        mine = np.flatnonzero(country == c)
        theirs = np.flatnonzero(ref_country == c)
        if c in UNCHECKED_COUNTRIES or len(theirs) < 2:
            result[mine] = True
            continue
        chord, near = cKDTree(ref_xyz[theirs]).query(xyz[mine], k=2)
        is_self = ref_code[theirs][near[:, 0]] == code[mine]
        nearest = np.where(is_self, chord[:, 1], chord[:, 0])
        result[mine] |= chord_to_km(nearest) <= PLAUSIBLE_WITHIN_KM
    ok[located] = result
    return ok


def choose_coordinates(codes: pl.DataFrame) -> pl.DataFrame:
    ports = searoute_ports().select("locode", port_lat="lat", port_lon="lon", port_name="name")
    air = airports().rename({"iata": "_iata", "lat": "air_lat", "lon": "air_lon", "name": "air_name"})
    codes = (
        codes.join(ports, on="locode", how="left", maintain_order="left")
        .with_columns(
            _iata=pl.when(pl.col("function").str.slice(3, 1) == "4").then(pl.coalesce("iata", "location"))
        )
        .join(air, on=["_iata", "country"], how="left", maintain_order="left")
    )
    reference = codes.filter(pl.col("dm_lat").is_not_null()).select("locode", "country", lat="dm_lat", lon="dm_lon")

    def check(lat: str, lon: str) -> pl.Series:
        return pl.Series(plausible(codes.select("locode", "country", lat=lat, lon=lon), reference))

    codes = codes.with_columns(
        dm_ok=check("dm_lat", "dm_lon"),
        dec_ok=check("dec_lat", "dec_lon"),
        port_ok=check("port_lat", "port_lon"),
        air_ok=pl.col("air_lat").is_not_null(),
    )
    # First plausible candidate wins.
    candidates = [
        ("unlocode", "dm_ok", "dm_lat", "dm_lon"),
        ("unlocode-decimal", "dec_ok", "dec_lat", "dec_lon"),
        ("searoute", "port_ok", "port_lat", "port_lon"),
        ("airportsdata", "air_ok", "air_lat", "air_lon"),
    ]

    def first_plausible(value_of) -> pl.Expr:
        return pl.coalesce(pl.when(pl.col(c[1])).then(value_of(*c)) for c in candidates)

    unece_problem = (
        pl.when(pl.col("coordinates").is_null() | pl.col("dm_ok") | pl.col("dec_ok"))
        .then(None)
        .when(pl.col("dm_lat").is_null() & pl.col("dec_lat").is_null())
        .then(pl.lit("malformed"))
        .otherwise(pl.format("not near the other codes of {}", pl.col("country")))
    )
    return codes.with_columns(
        lat=first_plausible(lambda name, ok, lat, lon: pl.col(lat)),
        lon=first_plausible(lambda name, ok, lat, lon: pl.col(lon)),
        coord_source=first_plausible(lambda name, ok, lat, lon: pl.lit(name)),
        coord_problem=unece_problem,
    )


def in_subdivision(points: pl.DataFrame, reference: pl.DataFrame) -> pl.Series:
    """For each point (locode, country, subdivision, lat, lon): are ``SUBDIVISION_AGREEING`` of its
    ``SUBDIVISION_NEIGHBOURS`` nearest ``reference`` codes of the same country in its subdivision?
    Null where the point has no coordinates or no subdivision, or its country none to compare."""
    result = np.full(points.height, None, dtype=object)
    ref_xyz = unit_vectors(reference["lat"].to_numpy(), reference["lon"].to_numpy())
    ref_country, ref_code = reference["country"].to_numpy(), reference["locode"].to_numpy()
    ref_sub = reference["subdivision"].to_numpy()
    checkable = (points["lat"].is_not_null() & points["subdivision"].is_not_null()).to_numpy()
    country = points["country"].to_numpy()
    for c in np.unique(country[checkable]):
        mine = np.flatnonzero(checkable & (country == c))
        theirs = np.flatnonzero(ref_country == c)
        if len(theirs) < 2:
            continue
        k = min(SUBDIVISION_NEIGHBOURS + 1, len(theirs))
        xyz = unit_vectors(points["lat"].to_numpy()[mine], points["lon"].to_numpy()[mine])
        _, near = cKDTree(ref_xyz[theirs]).query(xyz, k=k)
        near = theirs[near.reshape(len(mine), k)]
        not_self = ref_code[near] != points["locode"].to_numpy()[mine][:, None]
        # the first SUBDIVISION_NEIGHBOURS that are not the point itself
        keep = not_self & (np.cumsum(not_self, axis=1) <= SUBDIVISION_NEIGHBOURS)
        same = (ref_sub[near] == points["subdivision"].to_numpy()[mine][:, None]) & keep
        result[mine] = same.sum(axis=1) >= SUBDIVISION_AGREEING
    return pl.Series(result.tolist(), dtype=pl.Boolean)


def cross_check(codes: pl.DataFrame) -> pl.DataFrame:
    """Cross-check the chosen point with searoute's port and the airport of each code (see the
    module docstring): the general point may move to a mode's source, and ``sea_*`` / ``air_*``
    keep each mode's point where it is more than ``CROSS_CHECK_KM`` from the general one."""
    reference = codes.filter(pl.col("dm_lat").is_not_null() & pl.col("subdivision").is_not_null()).select(
        "locode", "country", "subdivision", lat="dm_lat", lon="dm_lon"
    )

    def agrees(lat: str, lon: str) -> pl.Series:
        return in_subdivision(codes.select("locode", "country", "subdivision", lat=lat, lon=lon), reference)

    def km(lat: str, lon: str) -> pl.Series:
        return pl.Series(geodesic_km(codes["lat"].to_numpy(), codes["lon"].to_numpy(),
                                     codes[lat].to_numpy(), codes[lon].to_numpy()), nan_to_null=True)

    codes = codes.with_columns(
        general_sub=agrees("lat", "lon"), port_sub=agrees("port_lat", "port_lon"), air_sub=agrees("air_lat", "air_lon"),
    ).with_columns(
        port_fits=pl.col("port_ok") & pl.col("port_sub").fill_null(True),
        air_fits=pl.col("air_ok") & pl.col("air_sub").fill_null(True),
    )
    codes = codes.with_columns(port_km=km("port_lat", "port_lon"), air_km=km("air_lat", "air_lon"))
    # The chosen point is outside the code's own subdivision and a mode's source is inside it: move.
    moves = pl.col("general_sub") == False  # noqa: E712
    to_port = moves & pl.col("port_fits") & pl.col("port_sub") & (pl.col("port_km") > CROSS_CHECK_KM)
    to_air = moves & ~to_port & pl.col("air_fits") & pl.col("air_sub") & (pl.col("air_km") > CROSS_CHECK_KM)
    moved_km = pl.when(to_port).then("port_km").otherwise("air_km").round(0).cast(pl.Int64)
    was = pl.col("coord_source").replace_strict(
        {"unlocode": "UNECE's", "unlocode-decimal": "UNECE's", "searoute": "searoute's", "airportsdata": "the airport's"}
    )
    codes = codes.with_columns(
        lat=pl.when(to_port).then("port_lat").when(to_air).then("air_lat").otherwise("lat"),
        lon=pl.when(to_port).then("port_lon").when(to_air).then("air_lon").otherwise("lon"),
        coord_source=pl.when(to_port).then(pl.lit("searoute")).when(to_air).then(pl.lit("airportsdata"))
        .otherwise("coord_source"),
        coord_problem=pl.when(to_port | to_air).then(pl.format(
            "{} point is not in subdivision {}-{}, {} km from {}", was, "country", "subdivision", moved_km,
            pl.when(to_port).then(pl.lit("searoute's port")).otherwise(pl.lit("the airport")),
        )).otherwise("coord_problem"),
    )
    codes = codes.with_columns(port_km=km("port_lat", "port_lon"), air_km=km("air_lat", "air_lon"))
    sea = pl.col("port_fits") & (pl.col("port_km") > CROSS_CHECK_KM)
    air = pl.col("air_fits") & (pl.col("air_km") > CROSS_CHECK_KM)
    # UNECE describes an airport (function 4, not 1) where searoute has a port at the same place.
    function = pl.col("function").fill_null("")
    port_named = (
        pl.col("port_fits") & pl.col("port_name").is_not_null() & (pl.col("port_km") <= CROSS_CHECK_KM)
        & (function.str.slice(3, 1) == "4") & ~function.str.starts_with("1")
    )
    return codes.with_columns(
        sea_lat=pl.when(sea).then("port_lat"), sea_lon=pl.when(sea).then("port_lon"), sea_km=pl.when(sea).then("port_km"),
        air_lat=pl.when(air).then("air_lat"), air_lon=pl.when(air).then("air_lon"), air_km=pl.when(air).then("air_km"),
        air_iata=pl.when(pl.col("air_ok")).then("_iata"),
        unece_name=pl.col("name"),
        name=pl.when(port_named).then("port_name").otherwise("name"),
    )


def build(source: Path, out: Path) -> pl.DataFrame:
    table = cross_check(choose_coordinates(unlocode_table(read_unece(source))))
    table = table.select(
        "locode", "country", "name", "unece_name", "subdivision", "function", "status", "iata",
        "lat", "lon", "coord_source", "coordinates", "coord_problem",
        "sea_lat", "sea_lon", "sea_km", "air_iata", "air_lat", "air_lon", "air_km",
    ).sort("locode")
    table.write_parquet(out, compression="zstd", compression_level=19, statistics=True)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="folder with the UNECE CodeList CSV files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    source = args.source or pyunlocode_csv_dir()
    if source is None:
        raise SystemExit("no --source given and pyunlocode is not installed")
    table = build(source, args.out)
    print(f"wrote {args.out}: {table.height} codes", file=sys.stderr)
    for name, n in table["coord_source"].value_counts(sort=True).iter_rows():
        print(f"  coordinates from {name or 'nowhere'}: {n}", file=sys.stderr)
    problems = table.filter(pl.col("coord_problem").is_not_null())
    print(f"  UNECE coordinates set aside: {problems.height}", file=sys.stderr)
    print(f"  moved into their subdivision by the cross-check: "
          f"{problems.filter(pl.col('coord_problem').str.contains('point is not in subdivision')).height}", file=sys.stderr)
    for mode in ("sea", "air"):
        n = table.filter(pl.col(f"{mode}_lat").is_not_null()).height
        print(f"  {mode} legs use another point (over {CROSS_CHECK_KM:g} km away): {n}", file=sys.stderr)
    print(f"  named after searoute's port: {table.filter(pl.col('name') != pl.col('unece_name')).height}", file=sys.stderr)


if __name__ == "__main__":
    main()
