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
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

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
    num = lambda i: parts.struct.field(str(i)).cast(pl.Float64)  # noqa: E731
    lat_sign = pl.when(parts.struct.field("3") == "S").then(-1.0).otherwise(1.0)
    lon_sign = pl.when(parts.struct.field("6") == "W").then(-1.0).otherwise(1.0)
    dm_lat, dm_lon = (num(1) + num(2) / 60) * lat_sign, (num(4) + num(5) / 60) * lon_sign
    dec_lat, dec_lon = (num(1) + num(2) / 100) * lat_sign, (num(4) + num(5) / 100) * lon_sign
    on_earth = lambda lat, lon: (lat.abs() <= 90) & (lon.abs() <= 180)  # noqa: E731
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
        [{"locode": p["port"], "terminal": p.get("t") == 1.0, "lat": p["y"], "lon": p["x"]} for p in node_list.values()],
        schema={"locode": pl.String, "terminal": pl.Boolean, "lat": pl.Float64, "lon": pl.Float64},
    )
    # A code listed twice: prefer the container-terminal entry.
    return ports.sort("terminal", descending=True, maintain_order=True).unique("locode", keep="first")


def airports() -> pl.DataFrame:
    spec = importlib.util.find_spec("airportsdata")
    path = Path(next(iter(spec.submodule_search_locations))) / "airports.csv"
    return (
        pl.read_csv(path, infer_schema=False)
        .filter(pl.col("iata").is_not_null() & (pl.col("iata") != ""))
        .select("iata", "country", pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64))
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
    ports = searoute_ports().select("locode", port_lat="lat", port_lon="lon")
    air = airports().rename({"iata": "_iata", "lat": "air_lat", "lon": "air_lon"})
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


def build(source: Path, out: Path) -> pl.DataFrame:
    table = choose_coordinates(unlocode_table(read_unece(source)))
    table = table.select(
        "locode", "country", "name", "subdivision", "function", "status", "iata",
        "lat", "lon", "coord_source", "coordinates", "coord_problem",
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


if __name__ == "__main__":
    main()
