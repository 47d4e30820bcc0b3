"""Build ``unlocode.parquet``: every UN/LOCODE with its coordinates, for offline place resolution.

Run by a maintainer when UNECE publishes a new release, never at runtime:

    python logistics/data/build_unlocode.py [--source DIR] [--out FILE]

``DIR`` holds the UNECE CodeList CSV files (``* UNLOCODE CodeListPart1.csv`` ... as published in
UNECE's "loc*csv.zip"; ISO 8859-1). Without ``--source`` the script uses the copy of the 2023-1
release inside the ``pyunlocode`` package if that is installed (``pip download pyunlocode`` and
unzip the wheel also works: pass its ``pyunlocode/csv`` folder).

UN/LOCODE leaves about a fifth of its codes without coordinates, among them major ports such as
CNSHA and SGSIN, and a few hundred entries write decimal degrees where minutes belong. Missing
coordinates are filled, in this order, from
1. the entry itself read as decimal degrees, when a minutes field is 60 or more;
2. searoute's port list (keyed by UN/LOCODE);
3. airportsdata, for codes whose function includes an airport (``4``), on the IATA code given by
   UN/LOCODE (or the location part of the code) and the same country.
Sources 1 and 2 are kept only when the point falls inside the country's extent as drawn by its
other UN/LOCODEs (searoute's list has a few sign errors). Every row says where its coordinates
came from (``coord_source``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "unlocode.parquet"

# Column order of the UNECE CodeList CSV files (they have no header row).
UNECE_COLUMNS = [
    "change", "country", "location", "name", "name_ascii", "subdivision",
    "function", "status", "date", "iata", "coordinates", "remarks",
]
# UNECE writes coordinates as degrees and minutes: "5155N 00430E".
COORDINATES = r"^(\d{2})(\d{2})([NS]) ?(\d{3})(\d{2})([EW])$"
# Margin around a country's extent within which a backfilled point is accepted (degrees).
EXTENT_MARGIN_DEG = 1.0


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
    """Degrees and minutes to decimal degrees; a malformed value gives null.

    Some entries carry decimal degrees in the minutes format ("3437S 05883W" for -34.37, -58.83):
    where a minutes field is 60 or more, ``lat_decimal``/``lon_decimal`` hold that reading, for
    ``backfill`` to accept only inside the country's extent.
    """
    parts = pl.col("coordinates").str.extract_groups(COORDINATES)
    num = lambda i: parts.struct.field(str(i)).cast(pl.Float64)  # noqa: E731
    lat_sign = pl.when(parts.struct.field("3") == "S").then(-1.0).otherwise(1.0)
    lon_sign = pl.when(parts.struct.field("6") == "W").then(-1.0).otherwise(1.0)
    lat, lon = (num(1) + num(2) / 60) * lat_sign, (num(4) + num(5) / 60) * lon_sign
    lat_dec, lon_dec = (num(1) + num(2) / 100) * lat_sign, (num(4) + num(5) / 100) * lon_sign
    in_range = lambda la, lo: (la.abs() <= 90) & (lo.abs() <= 180)  # noqa: E731
    minutes_ok = (num(2) < 60) & (num(5) < 60)
    return codes.with_columns(
        lat=pl.when(minutes_ok & in_range(lat, lon)).then(lat),
        lon=pl.when(minutes_ok & in_range(lat, lon)).then(lon),
        lat_decimal=pl.when(~minutes_ok & in_range(lat_dec, lon_dec)).then(lat_dec),
        lon_decimal=pl.when(~minutes_ok & in_range(lat_dec, lon_dec)).then(lon_dec),
    )


def unlocode_table(raw: pl.DataFrame) -> pl.DataFrame:
    codes = raw.filter(pl.col("location").is_not_null() & pl.col("country").is_not_null())
    codes = parse_coordinates(codes.with_columns(locode=pl.col("country") + pl.col("location")))
    # A code listed twice (alternative names) keeps the entry that has coordinates, else the first.
    return (
        codes.with_row_index("_order")
        .sort(pl.col("lat").is_null(), "_order")
        .unique("locode", keep="first")
        .sort("_order")
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
        .select(
            pl.col("iata"),
            pl.col("country"),
            pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64),
        )
    )


def backfill(codes: pl.DataFrame) -> pl.DataFrame:
    extent = (
        codes.filter(pl.col("lat").is_not_null())
        .group_by("country")
        .agg(
            lat_min=pl.col("lat").min() - EXTENT_MARGIN_DEG,
            lat_max=pl.col("lat").max() + EXTENT_MARGIN_DEG,
            lon_min=pl.col("lon").min() - EXTENT_MARGIN_DEG,
            lon_max=pl.col("lon").max() + EXTENT_MARGIN_DEG,
        )
    )

    def inside(lat: str, lon: str) -> pl.Expr:
        return pl.col(lat).is_between(pl.col("lat_min"), pl.col("lat_max")) & pl.col(lon).is_between(
            pl.col("lon_min"), pl.col("lon_max")
        )

    ports = searoute_ports().select("locode", port_lat="lat", port_lon="lon")
    air = airports().rename({"iata": "_iata", "lat": "air_lat", "lon": "air_lon"})
    filled = (
        codes.join(extent, on="country", how="left")
        .join(ports, on="locode", how="left")
        .with_columns(
            _iata=pl.when(pl.col("function").str.slice(3, 1) == "4").then(pl.coalesce("iata", "location"))
        )
        .join(air, on=["_iata", "country"], how="left")
        .with_columns(
            decimal_ok=inside("lat_decimal", "lon_decimal"),
            port_ok=inside("port_lat", "port_lon"),
            air_ok=pl.col("air_lat").is_not_null(),
        )
    )
    # First usable source wins: UNECE's own value, its decimal reading, searoute, airportsdata.
    candidates = [
        ("unlocode", pl.col("lat").is_not_null(), "lat", "lon"),
        ("unlocode-decimal", pl.col("decimal_ok"), "lat_decimal", "lon_decimal"),
        ("searoute", pl.col("port_ok"), "port_lat", "port_lon"),
        ("airportsdata", pl.col("air_ok"), "air_lat", "air_lon"),
    ]
    usable = [(name, ok.fill_null(False), lat, lon) for name, ok, lat, lon in candidates]
    return filled.with_columns(
        lat=pl.coalesce(pl.when(ok).then(pl.col(lat)) for _, ok, lat, _ in usable),
        lon=pl.coalesce(pl.when(ok).then(pl.col(lon)) for _, ok, _, lon in usable),
        coord_source=pl.coalesce(pl.when(ok).then(pl.lit(name)) for name, ok, _, _ in usable),
    )


def build(source: Path, out: Path) -> pl.DataFrame:
    table = backfill(unlocode_table(read_unece(source)))
    table = table.select(
        "locode",
        "country",
        "name",
        "subdivision",
        "function",
        "status",
        "iata",
        "lat",
        "lon",
        "coord_source",
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
    counts = table["coord_source"].value_counts(sort=True)
    print(f"wrote {args.out}: {table.height} codes; coordinates by source:", file=sys.stderr)
    for source_name, n in counts.iter_rows():
        print(f"  {source_name or 'none'}: {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
