"""Factor packs: the declared table schemas, loading, validation and the CSV -> Parquet build.

A pack is a directory ``emission_factors/<name>/`` holding ``pack.json`` (name, version, edition,
licence) and one CSV + one Parquet file per table. The CSV is the human-readable source; the
Parquet is built from it by ``logistics-co2 packs build`` and a test proves they agree.

Descriptor columns (``vehicle``, ``region``, ...) of ``tocs``/``hocs``/``adjustments`` follow one
rule: an empty cell means "any value", and a cell may list alternatives separated by ``|``
(``EU|SA``). Matching is explained in ``logistics.matching``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from .schema import DType

PROVENANCE = {
    "source": pl.String,
    "source_page": pl.String,
    "pack_version": pl.String,
    "licence": pl.String,
    "notes": pl.String,
}

# Descriptor columns a default TOC row may constrain, in the order they are reported.
TOC_DESCRIPTORS = (
    "mode",
    "vehicle",
    "energy_carrier",
    "region",
    "load_type",
    "temperature_control",
    "trade_lane",
    "flight_length",
)
HOC_DESCRIPTORS = ("hub_type", "temperature_control", "region")

# Each table: column -> dtype, and which columns must be non-empty on every row.
SCHEMAS: dict[str, dict[str, DType]] = {
    # Fuel / energy emission factors, kg CO2e per unit of energy carrier (unit in `unit`).
    "fuels": {
        "factor_id": pl.String,
        "energy_carrier": pl.String,
        "fuel_region": pl.String,
        "unit": pl.String,  # kg | l | kWh | MJ
        "ttw_kg_co2e_per_unit": pl.Float64,
        "wtt_kg_co2e_per_unit": pl.Float64,
        "wtw_kg_co2e_per_unit": pl.Float64,
        **PROVENANCE,
    },
    # Transport operation categories: intensities per tonne-km and/or per TEU-km, or an energy
    # intensity (energy_per_tkm in energy_unit of energy_carrier) turned into CO2e with `fuels`.
    "tocs": {
        "toc_id": pl.String,
        **{d: pl.String for d in TOC_DESCRIPTORS},
        "ttw_g_co2e_per_tkm": pl.Float64,
        "wtt_g_co2e_per_tkm": pl.Float64,
        "wtw_g_co2e_per_tkm": pl.Float64,
        "ttw_g_co2e_per_teu_km": pl.Float64,
        "wtt_g_co2e_per_teu_km": pl.Float64,
        "wtw_g_co2e_per_teu_km": pl.Float64,
        "energy_per_tkm": pl.Float64,
        "energy_unit": pl.String,
        "load_factor": pl.Float64,
        "empty_running": pl.Float64,
        "data_type": pl.String,  # default | modelled | primary
        "energy_carriers": pl.String,  # the energy mix the intensity assumes, see energy_mix()
        **PROVENANCE,
    },
    # Hub operation categories: kg CO2e per outbound tonne and/or per TEU.
    "hocs": {
        "hoc_id": pl.String,
        **{d: pl.String for d in HOC_DESCRIPTORS},
        "ttw_kg_co2e_per_t": pl.Float64,
        "wtt_kg_co2e_per_t": pl.Float64,
        "wtw_kg_co2e_per_t": pl.Float64,
        "ttw_kg_co2e_per_teu": pl.Float64,
        "wtt_kg_co2e_per_teu": pl.Float64,
        "wtw_kg_co2e_per_teu": pl.Float64,
        "data_type": pl.String,
        "energy_carriers": pl.String,  # the energy mix the intensity assumes, see energy_mix()
        **PROVENANCE,
    },
    # Multipliers that derive a factor for a case the table lacks from a base row, e.g. Asia
    # road = Europe road x 1.22: a leg whose `descriptor` is `from_value` may use a row whose
    # `descriptor` is `to_value`, times `multiplier`.
    "adjustments": {
        "adjustment_id": pl.String,
        "mode": pl.String,
        "vehicle": pl.String,
        "descriptor": pl.String,
        "from_value": pl.String,
        "to_value": pl.String,
        "multiplier": pl.Float64,
        **PROVENANCE,
    },
    "refrigerants": {
        "refrigerant": pl.String,
        "gwp100": pl.Float64,
        "gwp_basis": pl.String,
        **PROVENANCE,
    },
    # Emissions of a transport chain element that are not per tkm or per tonne: a count of operations
    # (``unit``, e.g. ``cleaning``) times kg CO2e per operation. Legs give the count in the column named
    # in ``input_column`` (``cleanings`` for tank cleaning, GLEC Framework v3.0 pp.132, 138).
    "tce_addons": {
        "addon_id": pl.String,
        "activity": pl.String,
        "input_column": pl.String,
        "unit": pl.String,
        "ttw_kg_co2e_per_unit": pl.Float64,
        "wtt_kg_co2e_per_unit": pl.Float64,
        "wtw_kg_co2e_per_unit": pl.Float64,
        **PROVENANCE,
    },
    # Location-based electricity: kg CO2e per kWh by country (ISO 3166-1 alpha-2) and, within it, grid
    # region (empty = the whole country). TTW is 0 for electricity (GLEC Framework v3.0 p.77). ``basis``
    # says what the figure covers (``generation``: per kWh generated, no transmission and distribution
    # losses; ``consumption``: per kWh consumed, losses included), ``gases`` whether it is CO2 or CO2e.
    "grid_electricity": {
        "factor_id": pl.String,
        "country": pl.String,
        "grid_region": pl.String,
        "grid_region_name": pl.String,
        "data_year": pl.Int64,
        "basis": pl.String,
        "gases": pl.String,
        "ttw_kg_co2e_per_kwh": pl.Float64,
        "wtt_kg_co2e_per_kwh": pl.Float64,
        "wtw_kg_co2e_per_kwh": pl.Float64,
        **PROVENANCE,
    },
    # Named constants of the method (TEU masses, the air +95 km, ...).
    "parameters": {
        "name": pl.String,
        "value": pl.Float64,
        "unit": pl.String,
        **PROVENANCE,
    },
    # Japanese methods (logistics.japan): TTW CO2 only. Fuel CO2 per unit = heat value x carbon x 44/12.
    "jp_fuels": {
        "factor_id": pl.String,
        "energy_carrier": pl.String,
        "fuel_name_ja": pl.String,
        "unit": pl.String,
        "heat_value_mj_per_unit": pl.Float64,
        "carbon_kg_c_per_mj": pl.Float64,
        "co2_kg_per_unit": pl.Float64,
        **PROVENANCE,
    },
    # 改良トンキロ法: ln y = intercept + ln_load_factor_coef * ln(load factor) + ln_payload_kg_coef * ln(payload kg),
    # y in litres per t·km; load factors below min_load_factor use min_load_factor.
    "jp_improved_tonkm": {
        "factor_id": pl.String,
        "energy_carrier": pl.String,
        "fuel_name_ja": pl.String,
        "intercept": pl.Float64,
        "ln_load_factor_coef": pl.Float64,
        "ln_payload_kg_coef": pl.Float64,
        "min_load_factor": pl.Float64,
        **PROVENANCE,
    },
    # 従来トンキロ法: g CO2 (TTW) per t·km by mode.
    "jp_conventional_tonkm": {
        "factor_id": pl.String,
        "mode": pl.String,
        "mode_ja": pl.String,
        "g_co2_per_tkm": pl.Float64,
        **PROVENANCE,
    },
    # JIS X 0401 prefecture codes with a representative point (the prefectural office).
    "jp_prefectures": {
        "jis_code": pl.String,
        "name_ja": pl.String,
        "name_en": pl.String,
        "capital_ja": pl.String,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        **PROVENANCE,
    },
}

# ``energy_carriers`` of a TOC/HOC row: the energy carrier(s) its intensity assumes, as
# ``fuels.energy_carrier`` values separated by ``|``, each with its share of the energy after ``:``
# (``electricity:0.62|diesel:0.38``); a single carrier needs no share (``hfo``). Shares are in
# (0, 1] and add up to 1. Not a descriptor: legs are not matched on it. The exchange documents
# list these carriers (iLEAP TOC/HOC ``energyCarriers``).


def energy_mix(cell: str | None) -> list[tuple[str, float]]:
    """``energy_carriers`` as (carrier, share) pairs; [] for an empty cell. Raises ``ValueError``
    naming the problem when the cell is malformed or its shares do not add up to 1."""
    if cell is None or not cell.strip():
        return []
    items = [item.strip() for item in cell.split("|")]
    pairs = []
    for item in items:
        name, _, share = item.partition(":")
        if not name or (not share and len(items) > 1):
            raise ValueError(f"{cell!r}: give carrier:share for each of several carriers (e.g. electricity:0.62|diesel:0.38)")
        try:
            value = float(share) if share else 1.0
        except ValueError:
            raise ValueError(f"{cell!r}: share {share!r} is not a number") from None
        if not 0 < value <= 1:
            raise ValueError(f"{cell!r}: share {share} is not in (0, 1]")
        pairs.append((name, value))
    if len({n for n, _ in pairs}) != len(pairs):
        raise ValueError(f"{cell!r}: a carrier is listed twice")
    total = sum(v for _, v in pairs)
    if abs(total - 1) > 1e-9:
        raise ValueError(f"{cell!r}: shares add up to {total:g}, not 1")
    return pairs


REQUIRED: dict[str, tuple[str, ...]] = {
    "fuels": ("factor_id", "energy_carrier", "fuel_region", "unit", "wtw_kg_co2e_per_unit"),
    "tocs": ("toc_id", "mode", "data_type"),
    "hocs": ("hoc_id", "hub_type", "data_type"),
    "adjustments": ("adjustment_id", "mode", "descriptor", "from_value", "to_value", "multiplier"),
    "refrigerants": ("refrigerant", "gwp100", "gwp_basis"),
    "tce_addons": ("addon_id", "activity", "input_column", "unit", "wtw_kg_co2e_per_unit"),
    "grid_electricity": ("factor_id", "country", "data_year", "basis", "gases", "wtw_kg_co2e_per_kwh"),
    "parameters": ("name", "value", "unit"),
    "jp_fuels": ("factor_id", "energy_carrier", "unit", "co2_kg_per_unit"),
    "jp_improved_tonkm": (
        "factor_id",
        "energy_carrier",
        "intercept",
        "ln_load_factor_coef",
        "ln_payload_kg_coef",
        "min_load_factor",
    ),
    "jp_conventional_tonkm": ("factor_id", "mode", "g_co2_per_tkm"),
    "jp_prefectures": ("jis_code", "name_ja", "latitude", "longitude"),
}
PROVENANCE_REQUIRED = ("source", "pack_version", "licence")
KEYS = {
    "fuels": ("factor_id",),
    "tocs": ("toc_id",),
    "hocs": ("hoc_id",),
    "adjustments": ("adjustment_id",),
    "refrigerants": ("refrigerant",),
    "tce_addons": ("addon_id", "input_column"),
    "grid_electricity": ("factor_id",),
    "parameters": ("name",),
    "jp_fuels": ("factor_id", "energy_carrier"),
    "jp_improved_tonkm": ("factor_id", "energy_carrier"),
    "jp_conventional_tonkm": ("factor_id", "mode"),
    "jp_prefectures": ("jis_code", "name_ja"),
}
ALLOWED = {
    ("fuels", "unit"): {"kg", "l", "kWh", "MJ"},
    ("tocs", "mode"): {"road", "rail", "sea", "inland_waterway", "air"},
    ("tocs", "data_type"): {"default", "modelled", "primary"},
    ("tocs", "energy_unit"): {"kg", "l", "kWh", "MJ"},
    ("hocs", "data_type"): {"default", "modelled", "primary"},
    ("tocs", "temperature_control"): {"ambient", "refrigerated", "mixed"},
    ("hocs", "temperature_control"): {"ambient", "refrigerated", "mixed"},
    ("jp_fuels", "unit"): {"l"},
    ("grid_electricity", "basis"): {"generation", "consumption", "not_stated"},
    ("grid_electricity", "gases"): {"CO2", "CO2e"},
    ("jp_conventional_tonkm", "mode"): {"road", "rail", "sea", "inland_waterway", "air"},
}

def _shipped_packs_dir() -> Path:
    """Where the shipped packs are: ``emission_factors/`` of a checkout, or the installed package
    ``logistics.emission_factors`` (the same files); ``LOGISTICS_PACKS_DIR`` overrides both."""
    if "LOGISTICS_PACKS_DIR" in os.environ:
        return Path(os.environ["LOGISTICS_PACKS_DIR"])
    return Path(str(resources.files("logistics.emission_factors")))


PACKS_DIR = _shipped_packs_dir()
DEFAULT_PACK = "glec-v3.0"


class PackError(ValueError):
    """A pack that cannot be used; the message names the file, column and row."""


@dataclass
class Pack:
    name: str
    version: str
    path: Path | None
    meta: dict = field(default_factory=dict)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    # Work derived from the tables alone (resolved factors per key, prepared TOC rows), kept for
    # later calls with the same pack object: a service or a batch run resolves each key once.
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def table(self, name: str) -> pl.DataFrame:
        """The table, or an empty frame of its declared schema when the pack does not have it."""
        if name in self.tables:
            return self.tables[name]
        return pl.DataFrame(schema=SCHEMAS[name])

    def parameter(self, name: str, default: float | None = None) -> float | None:
        if "parameters" not in self.cache:
            t = self.table("parameters")
            self.cache["parameters"] = dict(zip(t["name"], t["value"], strict=True))
        return self.cache["parameters"].get(name, default)


def _read_csv(path: Path, table: str) -> pl.DataFrame:
    """Read a pack CSV as text, then cast to the declared schema, naming any cell that fails."""
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except Exception as exc:  # unreadable file: say which
        raise PackError(f"{path}: cannot be read as CSV: {exc}") from exc
    return conform_table(raw, table, str(path))


def conform_table(raw: pl.DataFrame, table: str, where: str) -> pl.DataFrame:
    schema = SCHEMAS[table]
    missing = [c for c in REQUIRED[table] + PROVENANCE_REQUIRED if c not in raw.columns]
    if missing:
        raise PackError(f"{where}: missing column(s) {', '.join(missing)}; expected columns: {', '.join(schema)}")
    unknown = [c for c in raw.columns if c not in schema]
    if unknown:
        raise PackError(f"{where}: unknown column(s) {', '.join(unknown)}; expected columns: {', '.join(schema)}")
    cols = []
    for name, dtype in schema.items():
        if name not in raw.columns:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        c = pl.col(name)
        if raw.schema[name] == pl.String:
            c = c.str.strip_chars()
            c = pl.when(c == "").then(None).otherwise(c)
        cols.append(c.cast(dtype, strict=False).alias(name))
    df = raw.with_row_index("_row", offset=2).with_columns(cols)  # row 1 is the header
    # Cells that were text but did not parse as numbers.
    for name, dtype in schema.items():
        if dtype == pl.String or name not in raw.columns:
            continue
        if raw.schema[name] != pl.String:
            continue
        orig = raw[name].str.strip_chars()
        bad = df.filter(orig.is_not_null() & (orig != "") & df[name].is_null())
        if bad.height:
            r = bad.row(0, named=True)
            raise PackError(f"{where}: row {r['_row']}, column {name}: {raw[name][r['_row'] - 2]!r} is not a number")
    for name in REQUIRED[table] + PROVENANCE_REQUIRED:
        bad = df.filter(pl.col(name).is_null())
        if bad.height:
            raise PackError(f"{where}: row {bad['_row'][0]}, column {name}: value is required")
    for (t, name), allowed in ALLOWED.items():
        if t != table:
            continue
        bad = df.filter(pl.col(name).is_not_null() & ~pl.col(name).is_in(sorted(allowed)))
        if bad.height:
            raise PackError(
                f"{where}: row {bad['_row'][0]}, column {name}: {bad[name][0]!r} is not one of {sorted(allowed)}"
            )
    for key in KEYS[table]:
        dup = df.filter(~pl.col(key).is_first_distinct())
        if dup.height:
            first = df.filter(pl.col(key) == dup[key][0])["_row"][0]
            raise PackError(f"{where}: row {dup['_row'][0]}, column {key}: {dup[key][0]!r} is not unique (also row {first})")
    _check_values(df, table, where)
    if "energy_carriers" in schema:
        for row, cell in df.filter(pl.col("energy_carriers").is_not_null()).select("_row", "energy_carriers").iter_rows():
            try:
                energy_mix(cell)
            except ValueError as exc:
                raise PackError(f"{where}: row {row}, column energy_carriers: {exc}") from None
    return df.select(list(schema))


def _check_values(df: pl.DataFrame, table: str, where: str) -> None:
    """Numeric sanity: no negative factors, WTW = TTW + WTT within rounding where all three are given."""
    for prefix_unit in ("kg_co2e_per_unit", "g_co2e_per_tkm", "g_co2e_per_teu_km", "kg_co2e_per_t", "kg_co2e_per_teu",
                        "kg_co2e_per_kwh"):
        ttw, wtt, wtw = (f"{x}_{prefix_unit}" for x in ("ttw", "wtt", "wtw"))
        if wtw not in df.columns:
            continue
        for c in (ttw, wtt, wtw):
            bad = df.filter(pl.col(c) < 0)
            if bad.height:
                raise PackError(f"{where}: row {bad['_row'][0]}, column {c}: {bad[c][0]} is negative")
        # Printed tables round each figure separately: allow 1 in the last printed digit or 1.5 %.
        gap = (pl.col(ttw) + pl.col(wtt) - pl.col(wtw)).abs()
        bad = df.filter(gap > pl.max_horizontal(pl.col(wtw).abs() * 0.015, pl.lit(0.11 if "g_" in prefix_unit else 0.011)))
        if bad.height:
            r = bad.row(0, named=True)
            raise PackError(
                f"{where}: row {r['_row']}, column {wtw}: {r[wtw]} is not {ttw} + {wtt} ({r[ttw]} + {r[wtt]})"
            )


def resolve_pack_path(pack: str | os.PathLike) -> Path:
    p = Path(pack)
    if p.is_dir():
        return p
    candidate = PACKS_DIR / str(pack)
    if candidate.is_dir():
        return candidate
    known = sorted(d.name for d in PACKS_DIR.iterdir() if (d / "pack.json").exists()) if PACKS_DIR.is_dir() else []
    raise PackError(f"pack {str(pack)!r} not found: not a directory, and not one of the shipped packs {known}")


def load_pack(pack: str | os.PathLike | Pack = DEFAULT_PACK, *, prefer: str = "parquet", includes: bool = True,
              _seen: tuple = ()) -> Pack:
    """Load a pack by shipped name or directory path. Parquet is read when present, else the CSV.

    A ``pack.json`` may list ``includes``: other packs (shipped names, or directories relative to
    this one) whose rows are added to this pack's tables. A row of this pack wins over an included
    row with the same value in any key column (``KEYS``); every row keeps its own ``source``, ``pack_version`` and ``licence``.
    ``includes=False`` reads the pack's own files only."""
    if isinstance(pack, Pack):
        return pack
    path = resolve_pack_path(pack)
    meta_path = path / "pack.json"
    if not meta_path.exists():
        raise PackError(f"{meta_path}: missing (every pack needs pack.json with name, version, licence)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf8"))
    except json.JSONDecodeError as exc:
        raise PackError(f"{meta_path}: not valid JSON: {exc}") from exc
    for k in ("name", "version", "licence"):
        if not meta.get(k):
            raise PackError(f"{meta_path}: field {k!r} is required")
    tables = {}
    for table in SCHEMAS:
        pq, csv = path / f"{table}.parquet", path / f"{table}.csv"
        if prefer == "parquet" and pq.exists():
            try:
                df = pl.read_parquet(pq)
            except Exception as exc:
                raise PackError(f"{pq}: cannot be read as Parquet: {exc}") from exc
            extra = [c for c in df.columns if c not in SCHEMAS[table]]
            if extra:
                raise PackError(f"{pq}: unknown column(s) {', '.join(extra)}")
            df = conform_table(df.with_columns(pl.col(c).cast(pl.String) for c in df.columns), table, str(pq))
        elif csv.exists():
            df = _read_csv(csv, table)
        else:
            continue
        tables[table] = df
    included = (meta.get("includes") or []) if includes else []
    if not isinstance(included, list) or not all(isinstance(i, str) and i for i in included):
        raise PackError(f"{meta_path}: 'includes' must be a list of pack names or directories")
    for name in included:
        local = path / name
        inc_path = local.resolve() if local.is_dir() else resolve_pack_path(name)
        if inc_path in _seen or inc_path == path.resolve():
            raise PackError(f"{meta_path}: includes {name!r}, which includes this pack again")
        inc = load_pack(inc_path, prefer=prefer, _seen=(*_seen, path.resolve()))
        for table, rows in inc.tables.items():
            if table in tables:
                # each key column is unique on its own: an included row colliding on any of them yields
                for key in KEYS[table]:
                    rows = rows.join(tables[table].select(key), on=key, how="anti", nulls_equal=False)
                tables[table] = pl.concat([tables[table], rows])
            else:
                tables[table] = rows
    if not tables:
        raise PackError(f"{path}: no tables found (expected some of {', '.join(f'{t}.csv' for t in SCHEMAS)})")
    return Pack(name=meta["name"], version=str(meta["version"]), path=path, meta=meta, tables=tables)


def build_pack(path: str | os.PathLike) -> list[Path]:
    """Rebuild every ``<table>.parquet`` of a pack from its ``<table>.csv``."""
    path = resolve_pack_path(path)
    written = []
    for table in SCHEMAS:
        csv = path / f"{table}.csv"
        if not csv.exists():
            continue
        df = _read_csv(csv, table)
        out = path / f"{table}.parquet"
        df.write_parquet(out, compression="zstd", statistics=True)
        written.append(out)
    return written
