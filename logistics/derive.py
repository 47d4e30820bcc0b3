"""A carrier's own TOC and HOC intensities from its fuel and energy records (primary data).

GLEC Framework v3.0 (Smart Freight Centre, revision 2024-04-02) §1.5 / ISO 14083, pp.28–34, 41:
    tkm_TOC   = Σ mass × distance over every leg of the period, round trips and empty legs included
    E_TOC,x   = Σ fuel × EF_x (pack ``fuels``)  + refrigerant loss × GWP100 in TTW (pp.17, 101–106)
    EI_TOC,x  = E_TOC,x / tkm_TOC            g CO2e per tkm, or per TEU-km for container records
    EI_HOC,x  = E_HOC,x / outbound tonnes    kg CO2e per t, or per outbound TEU
    x ∈ {TTW, WTT, WTW}; refrigerant production is excluded, so its WTT is 0.

Records (a polars/pandas frame or a CSV/Parquet file); one row may carry several kinds:
- fuel/energy: ``fuel_amount``, ``fuel_unit``, ``energy_carrier``, optional ``fuel_region``/``region``
  (factor and region rule exactly as the engine's measured-fuel legs);
- transport (TOCs): ``tkm``, or ``mass_kg`` + ``distance_km``, and/or ``teu`` + ``distance_km`` (or
  ``teu_km``). An empty leg has mass 0 (or teu 0): it adds distance and no activity. Records giving
  tkm per period may give ``loaded_distance_km`` / ``empty_distance_km``. ``empty_running`` (empty km
  / all km) reads each transport record as one vehicle movement, as in GLEC v3.0 Tables 21–22
  (pp.149–150);
- drops and collections of a round (TOCs): ``mass_kg`` + ``base_distance_km``, the shortest feasible
  distance from the round's base to the stop: the record's activity is that notional point-to-point
  tkm, not the distance driven (pp.48, 107); the round's fuel and driven km sit on its own record;
- passenger flights (TOCs, ``vehicle`` ``belly``): ``passengers``, or ``seats`` + ``seat_load_factor``,
  or ``passenger_mass_kg``; the record's fuel is split by mass between its freight (``mass_kg``) and
  its passengers (pp.38, 115–116). An air record with fuel must say ``freighter`` or ``belly``;
- Ro-Pax voyages (TOCs): ``units_<type>`` counts (``units_passenger``, ``units_car``,
  ``units_articulated_truck``, ...; the types of ``logistics.allocation.PASSENGER_EQUIVALENTS``): the
  record's fuel is split by passenger equivalents, the ``freight_units``' share kept (p.51);
- outbound freight (HOCs): ``outbound_t`` and/or ``outbound_teu``;
- shared and refrigeration energy (HOCs): ``energy_use`` ``shared`` (spread over all outbound freight)
  or ``refrigeration`` (over the refrigerated outbound freight only), p.123;
- refrigerant: ``refrigerant_loss_kg`` with ``refrigerant`` (GWP100 from the ``refrigerants``
  argument, else the pack's ``refrigerants`` table) or an explicit ``gwp100``.
Every record names its ``toc_id`` / ``hoc_id``. Optional: ``period``, ``temperature_control`` and the
pack's descriptor columns (``mode``, ``vehicle``, ... for TOCs; ``hub_type``, ``region`` for HOCs),
which a derived row carries when they are the same on all its records.

One derived row per id, period and temperature condition (pp.30, 32–34). Ids stay as given unless
that would repeat one: ``<id>-<temperature_control>`` when an id's records have several conditions
(each record must then name its own), ``<id>@<period>`` when the records span several periods.

A row is derived only from a complete set of records: one unusable record (unknown energy carrier,
negative amount, ...) withholds every row of its id and period, and a row whose fuel has no activity
to divide by is withheld too. Each record not used is listed in ``errors`` with its row number
(1 = first record, i.e. line 2 of a CSV with a header) and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import factors as F
from .allocation import FREIGHT_UNITS, PASSENGER_EQUIVALENTS
from .io import InputError, drop_raw, read_table, typed_columns

# the engine's own fuel lookup and pack label, so both apply one region rule
from .pipeline.factors import fuel_factors, pack_label
from .rules.allocation import belly_freight_share, notional_tkm, passenger_mass_kg, passengers_from_seats, peq_share
from .vocabulary import FUEL_UNITS, TEMPERATURE_CONTROLS, TRANSPORT_MODES

SOURCE = "carrier records"
LICENCE = "carrier's own data"
TEXT_COLUMNS = ("period", "temperature_control", "energy_carrier", "fuel_unit", "fuel_region", "region", "refrigerant")
SHARED_NUMERIC = ("fuel_amount", "refrigerant_loss_kg", "gwp100")
# Passenger flights (belly freight) and Ro-Pax voyages: what the records give to split the fuel.
BELLY_COLUMNS = ("passengers", "seats", "seat_load_factor", "passenger_mass_kg")
PEQ_COLUMNS = tuple(f"units_{u}" for u in PASSENGER_EQUIVALENTS)
ENERGY_USES = ("shared", "refrigeration")
SPLIT_NOTES = {
    "belly": "passenger flights: freight's share of the fuel by mass (GLEC Framework v3.0 pp.38, 115-116)",
    "ropax": "Ro-Pax: freight's share of the fuel by passenger equivalents (GLEC Framework v3.0 p.51)",
    "shared": "shared site energy spread over all outbound freight by outbound tonnes (GLEC Framework v3.0 p.123)",
    "refrigeration": "refrigeration energy over the refrigerated outbound freight only (GLEC Framework v3.0 p.123)",
}


@dataclass
class DerivedTocs:
    """Derived TOC rows (the pack ``tocs`` schema, usable as ``calculate(..., tocs=...)``) and the
    records that could not be used (``row``, ``toc_id``, ``error``)."""

    tocs: pl.DataFrame
    errors: pl.DataFrame


@dataclass
class DerivedHocs:
    """Derived HOC rows (the pack ``hocs`` schema) and the records that could not be used."""

    hocs: pl.DataFrame
    errors: pl.DataFrame


@dataclass(frozen=True)
class _Kind:
    table: str
    id_col: str
    label: str
    descriptors: tuple[str, ...]
    required: str  # the descriptor every derived row must have
    activity_columns: tuple[str, ...]
    # (activity, intensity column suffix, multiplier from kg CO2e per activity unit)
    bases: tuple[tuple[str, str, float], ...]
    no_activity: str
    mixed_activity: str


TOC = _Kind(
    "tocs", "toc_id", "TOC", F.TOC_DESCRIPTORS, "mode",
    ("tkm", "mass_kg", "distance_km", "base_distance_km", "teu", "teu_km", "loaded_distance_km", "empty_distance_km"),
    (("tkm", "g_co2e_per_tkm", 1000.0), ("teu_km", "g_co2e_per_teu_km", 1000.0)),
    "tkm: TOC '{}' has fuel but no transport activity (tkm and TEU-km sum to 0)",
    "teu: TOC '{}' mixes records with only a mass and records with only TEU; give both on every loaded record",
)
HOC = _Kind(
    "hocs", "hoc_id", "HOC", F.HOC_DESCRIPTORS, "hub_type", ("outbound_t", "outbound_teu"),
    (("outbound_t", "kg_co2e_per_t", 1.0), ("outbound_teu", "kg_co2e_per_teu", 1.0)),
    "outbound_t: HOC '{}' has energy but no outbound freight (outbound_t and outbound_teu sum to 0)",
    "outbound_teu: HOC '{}' mixes records with only outbound_t and records with only outbound_teu; give both",
)


def derive_tocs(
    activity,
    pack: str | F.Pack = F.DEFAULT_PACK,
    *,
    refrigerants=None,
    period: str | None = None,
    defaults: Mapping[str, str] | None = None,
    freight_units: tuple[str, ...] = FREIGHT_UNITS,
) -> DerivedTocs:
    """TOC intensities from a carrier's fuel, transport and refrigerant records.

    activity: the records (frame or CSV/Parquet path; columns in the module docstring).
    pack: the pack whose ``fuels`` and ``refrigerants`` tables give the factors.
    refrigerants: GWP100 values that take precedence over the pack's: a mapping
        ``{"R-134a": 1430}`` or a frame/path with columns ``refrigerant``, ``gwp100``.
    period: use only the records of this period (when they have a ``period`` column), and label the
        derived rows with it (``source_page``).
    defaults: values for text columns that records leave empty, e.g. ``{"mode": "road", "region": "EU"}``.
    freight_units: on Ro-Pax records (``units_<type>`` columns), the unit types whose passenger
        equivalents are this TOC's freight (default: rigid and articulated trucks, unaccompanied trailers).
    """
    unknown = sorted(set(freight_units) - set(PASSENGER_EQUIVALENTS))
    if unknown or not freight_units:
        raise InputError(f"freight_units: {', '.join(unknown) or 'none given'}; known unit types: {', '.join(PASSENGER_EQUIVALENTS)}")
    table, errors = _derive(activity, TOC, pack, refrigerants, period, defaults or {}, tuple(freight_units))
    return DerivedTocs(tocs=table, errors=errors)


def derive_hocs(
    energy,
    pack: str | F.Pack = F.DEFAULT_PACK,
    *,
    refrigerants=None,
    period: str | None = None,
    defaults: Mapping[str, str] | None = None,
) -> DerivedHocs:
    """HOC intensities per hub (``hoc_id``) and period: energy and refrigerant records divided by the
    outbound tonnes (``outbound_t``) and/or outbound TEU (``outbound_teu``). Arguments as
    ``derive_tocs``; every derived row needs a ``hub_type``."""
    table, errors = _derive(energy, HOC, pack, refrigerants, period, defaults or {}, ())
    return DerivedHocs(hocs=table, errors=errors)


# --------------------------------------------------------------------------------------------


def _derive(records, kind: _Kind, pack, refrigerants, period, defaults, freight_units) -> tuple[pl.DataFrame, pl.DataFrame]:
    pack = F.load_pack(pack)
    raw = read_table(records)
    if kind.id_col not in raw.columns:
        raise InputError(f"missing required column {kind.id_col}; every record names its {kind.label}")
    df = _normalise(raw, kind, period, defaults)
    df = _activity(df, kind)
    df = _fuel_emissions(df, pack)
    df = _refrigerant_emissions(df, pack, refrigerants)
    df = _freight_share(df, pack, freight_units) if kind is TOC else _shared_hub_energy(df)
    df = _temperature_groups(df, kind)
    group = [kind.id_col, "period", "temperature_control"]

    # One bad record withholds its whole id and period: a partial sum would understate the intensity.
    df = df.with_columns(_bad=pl.col("_errors").list.len() > 0)
    withheld = (
        df.filter(pl.col(kind.id_col).is_not_null())
        .group_by(kind.id_col, "period")
        .agg(_n_bad=pl.col("_row").filter(pl.col("_bad")).n_unique(), _first_bad=pl.col("_row").filter(pl.col("_bad")).min())
    )
    df = df.join(withheld, on=[kind.id_col, "period"], how="left", nulls_equal=True).with_columns(
        _withheld=pl.col(kind.id_col).is_null() | (pl.col("_n_bad") > 0)
    )
    groups = _aggregate(df.filter(~pl.col("_withheld")), kind, group)
    df = df.join(groups.select(*group, "_group_errors"), on=group, how="left", nulls_equal=True)

    row_error = (
        pl.when(pl.col("_bad")).then(pl.col("_errors").list.join("; "))
        .when(pl.col("_withheld") & pl.col(kind.id_col).is_not_null())
        .then(pl.format(f"{kind.id_col}: {kind.label} '{{}}' not derived: {{}} of its records have errors (first on row {{}})",
                        kind.id_col, "_n_bad", "_first_bad"))
        .when(pl.col("_group_errors").list.len() > 0).then(pl.col("_group_errors").list.join("; "))
    )
    errors = (
        df.with_columns(error=row_error)
        .filter(pl.col("error").is_not_null())
        .unique("_row", keep="first", maintain_order=True)  # a shared hub record is split in copies
        .sort("_row")
        .select(pl.col("_row").cast(pl.Int64).alias("row"), kind.id_col, "error")
    )
    good = groups.filter(pl.col("_group_errors").list.len() == 0)
    source = f"{SOURCE} {Path(records).name}" if isinstance(records, (str, os.PathLike)) else SOURCE
    table = _output(good, kind, pack, source, df, group)
    return F.conform_table(table, kind.table, f"derived {kind.table}"), errors


def _normalise(raw: pl.DataFrame, kind: _Kind, period, defaults: Mapping[str, str]) -> pl.DataFrame:
    """Typed, trimmed, case-normalised columns (as the engine reads legs), defaults filled, and the
    record's parse errors in ``_errors``."""
    text = list(dict.fromkeys((kind.id_col, *kind.descriptors, *TEXT_COLUMNS, *(("energy_use",) if kind is HOC else ()))))
    numeric = [*kind.activity_columns, *SHARED_NUMERIC, *((*BELLY_COLUMNS, *PEQ_COLUMNS) if kind is TOC else ())]
    unknown = sorted(set(defaults) - set(text))
    if unknown:
        raise InputError(f"defaults: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(text)}")
    cols, parse_checks = typed_columns(raw, {**{c: pl.String for c in text}, **{c: pl.Float64 for c in numeric}})
    parse_errors = [pl.when(cond).then(message) for cond, message in parse_checks]
    df = drop_raw(raw.with_row_index("_row", offset=1).select("_row", *cols).with_columns(
        _errors=pl.concat_list(parse_errors).list.drop_nulls() if parse_errors else pl.lit([], pl.List(pl.String))
    ))
    energy_record = pl.col("fuel_amount").is_not_null() | pl.col("refrigerant_loss_kg").is_not_null()
    df = df.with_columns(
        # energy_use describes energy: its default fills energy and refrigerant records only
        (pl.when(energy_record).then(pl.col(name).fill_null(pl.lit(str(value)))).otherwise(pl.col(name)) if name == "energy_use"
         else pl.col(name).fill_null(pl.lit(str(value))))
        for name, value in defaults.items()
    )
    if period is not None and "period" not in raw.columns:
        df = df.with_columns(period=pl.lit(str(period)))
    elif period is not None:
        known = sorted(df["period"].drop_nulls().unique().to_list())
        df = df.filter(pl.col("period") == str(period))
        if not df.height:
            raise InputError(f"period {str(period)!r}: no records (the records give {', '.join(known) or 'none'})")

    fuel_given = pl.col("fuel_amount").is_not_null()
    checks = [
        pl.when(pl.col(kind.id_col).is_null()).then(pl.lit(f"{kind.id_col}: missing")),
        pl.when(pl.col("period").is_null() & pl.col("period").is_not_null().any())
        .then(pl.lit("period: missing (other records give one)")),
        *(pl.when(pl.col(c) < 0).then(pl.format(f"{c}: {{}} is negative", c)) for c in numeric),
        pl.when(fuel_given & pl.col("fuel_unit").is_null()).then(pl.lit("fuel_unit: missing for fuel_amount"))
        .when(fuel_given & ~pl.col("fuel_unit").is_in(list(FUEL_UNITS)))
        .then(pl.format(f"fuel_unit: '{{}}' is not one of {', '.join(FUEL_UNITS)}", "fuel_unit")),
        pl.when(fuel_given & pl.col("energy_carrier").is_null()).then(pl.lit("energy_carrier: missing for fuel_amount")),
        pl.when(pl.col("temperature_control").is_not_null() & ~pl.col("temperature_control").is_in(TEMPERATURE_CONTROLS))
        .then(pl.format(f"temperature_control: '{{}}' is not one of {', '.join(TEMPERATURE_CONTROLS)}", "temperature_control")),
    ]
    if kind is HOC:
        df = df.with_columns(energy_use=pl.col("energy_use").str.to_lowercase())
        checks.append(pl.when(pl.col("energy_use").is_not_null() & ~pl.col("energy_use").is_in(ENERGY_USES))
                      .then(pl.format(f"energy_use: '{{}}' is not one of {', '.join(ENERGY_USES)}", "energy_use"))
                      .when(pl.col("energy_use").is_not_null() & ~energy_record)
                      .then(pl.lit("energy_use: given on a record without fuel_amount or refrigerant_loss_kg")))
    return df.with_columns(_errors=pl.concat_list("_errors", *checks).list.drop_nulls())


def _activity(df: pl.DataFrame, kind: _Kind) -> pl.DataFrame:
    """Per record: activity in each basis (``_a_<basis>``), loaded and empty vehicle km (TOCs), and
    the checks that need them."""
    given = pl.any_horizontal(pl.col(c).is_not_null() for c in kind.activity_columns)
    if kind is TOC:
        df = df.with_columns(
            # a drop of a collection or delivery round counts its notional point-to-point activity
            # (GLEC Framework v3.0 pp.48, 107), never the distance driven to it
            _a_tkm=pl.coalesce("tkm", notional_tkm(pl.col("mass_kg") / 1000.0, pl.col("base_distance_km")),
                               pl.col("mass_kg") / 1000.0 * pl.col("distance_km")),
            _a_teu_km=pl.coalesce("teu_km", pl.col("teu") * pl.col("distance_km")),
        )
        moving = (pl.col("_a_tkm").fill_null(0) > 0) | (pl.col("_a_teu_km").fill_null(0) > 0)
        empty_leg = ~moving & (pl.col("_a_tkm").is_not_null() | pl.col("_a_teu_km").is_not_null())
        no_load = pl.all_horizontal(pl.col(c).is_null() for c in ("mass_kg", "tkm", "teu", "teu_km"))
        df = df.with_columns(
            _loaded_km=pl.col("loaded_distance_km").fill_null(0) + pl.when(moving).then(pl.col("distance_km")).otherwise(0).fill_null(0),
            _empty_km=pl.col("empty_distance_km").fill_null(0) + pl.when(empty_leg).then(pl.col("distance_km")).otherwise(0).fill_null(0),
            # a moving record without any distance leaves empty running unknown
            _km_gap=moving & pl.col("distance_km").is_null() & pl.col("loaded_distance_km").is_null()
            & pl.col("base_distance_km").is_null(),
        )
        checks = [
            pl.when(pl.col("mass_kg").is_not_null() & pl.col("tkm").is_null() & pl.col("distance_km").is_null()
                    & pl.col("base_distance_km").is_null())
            .then(pl.lit("distance_km: missing for mass_kg (or give tkm, or base_distance_km for a drop of a round)")),
            pl.when(pl.col("base_distance_km").is_not_null() & pl.col("mass_kg").is_null())
            .then(pl.lit("mass_kg: missing for base_distance_km (the mass dropped or collected at the stop)")),
            pl.when(pl.col("teu").is_not_null() & pl.col("teu_km").is_null() & pl.col("distance_km").is_null())
            .then(pl.lit("distance_km: missing for teu (or give teu_km)")),
            pl.when(pl.col("distance_km").is_not_null() & no_load)
            .then(pl.lit("mass_kg: missing for distance_km (give mass_kg, tkm or teu; 0 for an empty leg)")),
            pl.when(pl.col("mode").is_not_null() & ~pl.col("mode").is_in(TRANSPORT_MODES))
            .then(pl.format(f"mode: '{{}}' is not one of {', '.join(TRANSPORT_MODES)}", "mode")),
        ]
    else:
        df = df.with_columns(_a_outbound_t=pl.col("outbound_t"), _a_outbound_teu=pl.col("outbound_teu"))
        checks = []
    nothing = ~(given | pl.col("fuel_amount").is_not_null() | pl.col("refrigerant_loss_kg").is_not_null())
    checks.append(pl.when(nothing).then(pl.lit(
        f"record: gives none of fuel_amount, refrigerant_loss_kg, {', '.join(kind.activity_columns)}")))
    return df.with_columns(_errors=pl.concat_list("_errors", *checks).list.drop_nulls())


def _fuel_emissions(df: pl.DataFrame, pack: F.Pack) -> pl.DataFrame:
    """Fuel factor per record through the engine's measured-fuel lookup (one lookup per distinct
    carrier, unit and region), then kg CO2e per record."""
    usable = (pl.col("fuel_amount").is_not_null() & pl.col("energy_carrier").is_not_null()
              & pl.col("fuel_unit").is_in(list(FUEL_UNITS)))
    fuel_rows = df.filter(usable).select(pl.col("_row").alias("_id"), "energy_carrier", "fuel_unit", "fuel_region", "region")
    looked_up = {"fuel_factor_id": pl.String, "fx_ttw": pl.Float64, "fx_wtt": pl.Float64, "fx_wtw": pl.Float64,
                 "_unit": pl.String, "_unit_mult": pl.Float64, "adjustment_ids": pl.String, "factor_error": pl.String}
    if fuel_rows.height:
        f = fuel_factors(fuel_rows, pack, pack.table("fuels")).select(pl.col("_id").alias("_row"), *looked_up)
    else:
        f = pl.DataFrame(schema={"_row": df.schema["_row"], **looked_up})
    df = df.join(f, on="_row", how="left")
    fuel = pl.col("fuel_amount")
    return df.with_columns(
        # kept null where the factor has no TTW/WTT split, so the TOC's split stays unknown too
        **{f"_fuel_{x}": pl.when(fuel.is_not_null()).then(fuel * pl.col(f"fx_{x}")).otherwise(0.0) for x in ("ttw", "wtt", "wtw")},
        _fuel_canonical=fuel * pl.col("_unit_mult"),
        _fell_back=pl.col("adjustment_ids").is_not_null(),
        _errors=pl.concat_list("_errors", pl.col("factor_error")).list.drop_nulls(),
    )


def _refrigerant_key(expr: pl.Expr) -> pl.Expr:
    """R-134a, r134a and "R 134a" name the same refrigerant."""
    return expr.str.to_uppercase().str.replace_all(r"[\s\-]", "")


def _gwp_table(pack: F.Pack, refrigerants) -> pl.DataFrame:
    base = pack.table("refrigerants").select(_ref_key=_refrigerant_key(pl.col("refrigerant")), _gwp_table=pl.col("gwp100"))
    if refrigerants is None:
        return base
    if isinstance(refrigerants, Mapping):
        own = pl.DataFrame({"refrigerant": list(refrigerants), "gwp100": [float(v) for v in refrigerants.values()]})
    else:
        own = read_table(refrigerants)
        missing = [c for c in ("refrigerant", "gwp100") if c not in own.columns]
        if missing:
            raise InputError(f"refrigerants: missing column(s) {', '.join(missing)}")
    own = own.select(_ref_key=_refrigerant_key(pl.col("refrigerant").cast(pl.String)),
                     _gwp_table=pl.col("gwp100").cast(pl.Float64, strict=False))
    bad = own.filter(pl.col("_ref_key").is_null() | pl.col("_gwp_table").is_null() | (pl.col("_gwp_table") < 0)
                     | pl.col("_ref_key").is_duplicated())
    if bad.height:
        raise InputError(f"refrigerants: refrigerant {bad['_ref_key'][0]!r} needs one gwp100 of 0 or more")
    return pl.concat([own, base.join(own, on="_ref_key", how="anti")])


def _refrigerant_emissions(df: pl.DataFrame, pack: F.Pack, refrigerants) -> pl.DataFrame:
    """Refrigerant loss × GWP100, counted in TTW only (GLEC v3.0 pp.17, 101–106)."""
    df = df.with_columns(_ref_key=_refrigerant_key(pl.col("refrigerant"))).join(
        _gwp_table(pack, refrigerants), on="_ref_key", how="left"
    ).with_columns(_gwp=pl.coalesce("gwp100", "_gwp_table"))
    loss = pl.col("refrigerant_loss_kg")
    no_gwp = loss.is_not_null() & pl.col("_gwp").is_null()
    refrigerant = pl.when(loss.is_not_null()).then(loss * pl.col("_gwp")).otherwise(0.0)
    return df.with_columns(
        _e_ttw=pl.col("_fuel_ttw") + refrigerant,
        _e_wtt=pl.col("_fuel_wtt"),
        _e_wtw=pl.col("_fuel_wtw") + refrigerant,
        _errors=pl.concat_list(
            "_errors",
            pl.when(no_gwp & pl.col("refrigerant").is_null()).then(pl.lit("refrigerant: missing for refrigerant_loss_kg (or give gwp100)"))
            .when(no_gwp).then(pl.format(f"refrigerant: '{{}}' has no GWP100 in pack {pack.name}; give gwp100 or a refrigerants table",
                                         "refrigerant")),
        ).list.drop_nulls(),
    )


def _freight_share(df: pl.DataFrame, pack: F.Pack, freight_units: tuple[str, ...]) -> pl.DataFrame:
    """A record that moved passengers too keeps only its freight's share of its emissions
    (``_share``; 1 elsewhere):

    - a passenger flight (``vehicle`` ``belly``, or passenger data given): by mass, the record's
      freight ``mass_kg`` over freight plus passengers with luggage, from ``passenger_mass_kg``, else
      ``passengers`` (or ``seats`` × ``seat_load_factor``) × the pack's ``passenger_equivalent_mass_kg``
      (100 kg, GLEC Framework v3.0 pp.38, 115–116). A belly-freight flight without passenger data is
      refused: charging all its fuel to the freight overstates the intensity several times;
    - a Ro-Pax voyage (``units_<type>`` counts): by passenger equivalents, the ``freight_units``'
      over all (GLEC Framework v3.0 p.51; worked example p.121).
    An air record that gives fuel must say ``vehicle`` ``freighter`` or ``belly``."""
    kg_per_pax = pack.parameter("passenger_equivalent_mass_kg")
    counted = (pl.col("passengers") if kg_per_pax is None else pl.coalesce(
        "passengers", passengers_from_seats(pl.col("seats"), pl.col("seat_load_factor"))))
    pax_kg = pl.coalesce("passenger_mass_kg", passenger_mass_kg(counted, kg_per_pax) if kg_per_pax is not None else None)
    pax_data = pl.any_horizontal(pl.col(c).is_not_null() for c in BELLY_COLUMNS)
    belly = (pl.col("vehicle") == "belly").fill_null(False) | pax_data
    peq_given = pl.any_horizontal(pl.col(c).is_not_null() for c in PEQ_COLUMNS)
    peq = lambda units: pl.sum_horizontal(pl.col(f"units_{u}").fill_null(0) * PASSENGER_EQUIVALENTS[u] for u in units)
    has_emissions = pl.col("_e_wtw").fill_null(0) > 0
    share = (
        pl.when(belly & pax_data & pl.col("mass_kg").is_not_null()).then(belly_freight_share(pl.col("mass_kg"), pax_kg))
        .when(peq_given).then(peq_share(peq(freight_units), peq(tuple(PASSENGER_EQUIVALENTS))))
        .otherwise(1.0)
    )
    checks = [
        pl.when(belly & ~pax_data & has_emissions).then(pl.lit(
            "passengers: missing for a passenger flight (vehicle belly); give passengers, seats with seat_load_factor,"
            " or passenger_mass_kg, so that its fuel is split by mass (GLEC Framework v3.0 pp.38, 115-116)")),
        pl.when(pax_data & pl.col("passengers").is_null() & pl.col("passenger_mass_kg").is_null()
                & (pl.col("seats").is_null() | pl.col("seat_load_factor").is_null()))
        .then(pl.lit("passengers: give passengers, seats with seat_load_factor, or passenger_mass_kg")),
        pl.when(pax_data & pl.col("passenger_mass_kg").is_null() & (kg_per_pax is None))
        .then(pl.lit(f"passenger_mass_kg: pack {pack.name} has no passenger_equivalent_mass_kg; give the passengers' mass")),
        pl.when(belly & pax_data & has_emissions & pl.col("mass_kg").is_null())
        .then(pl.lit("mass_kg: the freight mass of the passenger flight is needed to split its fuel")),
        pl.when(pl.col("seat_load_factor") > 1).then(pl.format("seat_load_factor: {} is above 1 (give a fraction)", "seat_load_factor")),
        pl.when(belly & peq_given).then(pl.lit("units_*: a record is a passenger flight or a Ro-Pax voyage, not both")),
        pl.when(peq_given & (peq(tuple(PASSENGER_EQUIVALENTS)) == 0)).then(pl.lit("units_*: all unit counts are 0")),
        pl.when((pl.col("mode") == "air") & pl.col("vehicle").is_null() & ~pax_data & has_emissions).then(pl.lit(
            "vehicle: an air record with fuel must say freighter or belly; a passenger flight's fuel is split"
            " between passengers and freight (GLEC Framework v3.0 pp.38, 115-116)")),
    ]
    split = pl.when(belly & pax_data).then(pl.lit("belly")).when(peq_given).then(pl.lit("ropax"))
    return df.with_columns(_share=share, _split=split).with_columns(
        *(pl.col(f"_e_{x}") * pl.col("_share") for x in ("ttw", "wtt", "wtw")),
        _fuel_canonical=pl.col("_fuel_canonical") * pl.col("_share"),
        _errors=pl.concat_list("_errors", *checks).list.drop_nulls(),
    )


def _shared_hub_energy(df: pl.DataFrame) -> pl.DataFrame:
    """A site handling ambient and temperature-controlled freight (GLEC Framework v3.0 p.123): records
    with ``energy_use`` ``shared`` spread over all outbound freight, those with ``refrigeration`` over
    the refrigerated outbound freight only. Each shared record is split between the temperature
    conditions of the outbound records in proportion to their outbound tonnes (TEU where the hub gives
    only TEU), so that each derived row is ``shared / all outbound`` (+ ``refrigeration /
    refrigerated outbound`` for the refrigerated row)."""
    if df["energy_use"].is_null().all():
        return df.with_columns(_share=pl.lit(1.0), _split=pl.lit(None, pl.String))
    key = ["hoc_id", "period"]
    use = pl.col("energy_use")
    outbound = pl.coalesce("_a_outbound_t", "_a_outbound_teu")
    by_temp = (
        df.filter(outbound.is_not_null() & pl.col("hoc_id").is_not_null())
        .group_by(*key, pl.col("temperature_control").alias("_temp"))
        .agg(_t=pl.col("_a_outbound_t").sum(), _teu=pl.col("_a_outbound_teu").sum())
        .with_columns(_tot_t=pl.col("_t").sum().over(key), _tot_teu=pl.col("_teu").sum().over(key))
        .with_columns(_temp_share=pl.when(pl.col("_tot_t") > 0).then(pl.col("_t") / pl.col("_tot_t"))
                      .otherwise(pl.col("_teu") / pl.col("_tot_teu")))
    )
    temps = by_temp.group_by(key).agg(_out_temps=pl.col("_temp"), _has_cold=(pl.col("_temp") == "refrigerated").any())
    df = df.join(temps, on=key, how="left", nulls_equal=True)
    hub_uses_split = use.is_not_null().any().over(key)
    checks = [
        pl.when((use == "shared") & pl.col("temperature_control").is_not_null()).then(pl.format(
            "temperature_control: '{}' on a record of shared energy, which is spread over all outbound freight; leave it empty",
            "temperature_control")),
        pl.when((use == "refrigeration") & pl.col("temperature_control").is_not_null() & (pl.col("temperature_control") != "refrigerated"))
        .then(pl.format("temperature_control: '{}' on a record of refrigeration energy", "temperature_control")),
        pl.when((use == "refrigeration") & ~pl.col("_has_cold").fill_null(False))
        .then(pl.lit("energy_use: refrigeration energy, but the hub gives no refrigerated outbound freight")),
        pl.when(hub_uses_split & outbound.is_not_null() & pl.col("temperature_control").is_null())
        .then(pl.lit("temperature_control: missing on outbound freight of a hub with shared and refrigeration energy")),
        pl.when(hub_uses_split & use.is_null() & pl.col("_e_wtw").is_not_null() & (pl.col("_e_wtw") > 0))
        .then(pl.lit("energy_use: missing (shared or refrigeration) on an energy record of a hub that splits its energy")),
    ]
    df = df.with_columns(
        temperature_control=pl.when(use == "refrigeration").then(pl.lit("refrigerated")).otherwise(pl.col("temperature_control")),
        _errors=pl.concat_list("_errors", *checks).list.drop_nulls(),
    )
    # one copy of each shared record per temperature condition of the hub's outbound freight
    shared = df.filter(use == "shared").join(
        by_temp.select(*key, "_temp", "_temp_share"), on=key, how="left", nulls_equal=True
    ).with_columns(
        temperature_control=pl.col("_temp"),
        _share=pl.col("_temp_share").fill_null(1.0),
        **{f"_e_{x}": pl.col(f"_e_{x}") * pl.col("_temp_share").fill_null(1.0) for x in ("ttw", "wtt", "wtw")},
        _fuel_canonical=pl.col("_fuel_canonical") * pl.col("_temp_share").fill_null(1.0),
    ).drop("_temp", "_temp_share")
    rest = df.filter((use != "shared") | use.is_null()).with_columns(_share=pl.lit(1.0))
    return pl.concat([rest, shared.select(rest.columns)]).sort("_row").with_columns(
        _split=pl.when(use == "shared").then(pl.lit("shared")).when(use == "refrigeration").then(pl.lit("refrigeration")),
    ).drop("_out_temps", "_has_cold")


def _temperature_groups(df: pl.DataFrame, kind: _Kind) -> pl.DataFrame:
    """Within an id and period, records without a temperature condition take the one condition the
    others give; with several conditions each record must name its own. Also the derived row's id."""
    key = [kind.id_col, "period"]
    temps = (
        df.filter(pl.col(kind.id_col).is_not_null())
        .group_by(key)
        .agg(_temps=pl.col("temperature_control").drop_nulls().unique().sort())
    )
    df = df.join(temps, on=key, how="left", nulls_equal=True)
    n = pl.col("_temps").list.len()
    missing = pl.col("temperature_control").is_null() & (n > 1)
    several_periods = df["period"].drop_nulls().n_unique() > 1
    df = df.with_columns(
        temperature_control=pl.when(pl.col("temperature_control").is_null() & (n == 1))
        .then(pl.col("_temps").list.first()).otherwise(pl.col("temperature_control")),
        _errors=pl.concat_list(
            "_errors",
            pl.when(missing).then(pl.format(
                f"temperature_control: missing; {kind.label} '{{}}' has records for {{}} and each needs its own"
                " (GLEC Framework v3.0 pp.30, 32–34)", kind.id_col, pl.col("_temps").list.join(", "))),
        ).list.drop_nulls(),
    )
    return df.with_columns(_out_id=pl.concat_str(
        pl.col(kind.id_col),
        pl.when(n > 1).then(pl.lit("-") + pl.col("temperature_control")),
        (pl.lit("@") + pl.col("period")) if several_periods else pl.lit(None, pl.String),
        ignore_nulls=True,
    ))


def _sum_known(name: str) -> pl.Expr:
    """Σ, or null when any term is unknown (a fuel factor without a TTW/WTT split)."""
    return pl.when(pl.col(name).is_null().any()).then(None).otherwise(pl.col(name).sum())


def _aggregate(df: pl.DataFrame, kind: _Kind, group: list[str]) -> pl.DataFrame:
    """Totals per derived row and the reasons a row cannot be derived (``_group_errors``)."""
    fuel_given = pl.col("fuel_amount").is_not_null()
    bases = [b for b, _, _ in kind.bases]
    aggs = [
        pl.col("_out_id").first(),
        pl.col("_row").n_unique().alias("_records"),
        pl.col("_split").drop_nulls().unique().sort().str.join(",").alias("_splits"),
        fuel_given.sum().alias("_fuel_records"),
        *(_sum_known(f"_e_{x}").alias(f"_e_{x}") for x in ("ttw", "wtt", "wtw")),
        pl.col("_fell_back").any(),
        pl.struct("energy_carrier", "_unit").filter(fuel_given).n_unique().alias("_fuel_kinds"),
        pl.col("_unit").filter(fuel_given).first(),
        pl.col("_fuel_canonical").sum(),
    ]
    for b in bases:
        others = [pl.col(f"_a_{o}").fill_null(0) > 0 for o in bases if o != b]
        aggs += [
            pl.col(f"_a_{b}").sum().alias(f"_sum_{b}"),
            # a record moving freight in another basis but not this one leaves this basis incomplete
            (pl.col(f"_a_{b}").is_null() & pl.any_horizontal(others)).any().alias(f"_gap_{b}"),
        ]
    if kind is TOC:
        aggs += [pl.col("_loaded_km").sum(), pl.col("_empty_km").sum(), pl.col("_km_gap").any()]
    for d in kind.descriptors:
        if d != "temperature_control":
            aggs.append(pl.col(d).drop_nulls().unique().sort().alias(f"_values_{d}"))
    g = df.group_by(group).agg(aggs).with_columns(
        **{f"_ok_{b}": (pl.col(f"_sum_{b}") > 0) & ~pl.col(f"_gap_{b}") for b in bases}
    )
    required = pl.col(f"_values_{kind.required}")
    no_activity = pl.all_horizontal(pl.col(f"_sum_{b}") == 0 for b in bases)
    return g.with_columns(_group_errors=pl.concat_list(
        pl.when(pl.col("_fuel_records") == 0)
        .then(pl.format(f"fuel_amount: {kind.label} '{{}}' has no fuel or energy records", "_out_id")),
        pl.when(~pl.any_horizontal(pl.col(f"_ok_{b}") for b in bases))
        .then(pl.when(no_activity).then(pl.format(kind.no_activity, "_out_id")).otherwise(pl.format(kind.mixed_activity, "_out_id"))),
        pl.when(required.list.len() == 0)
        .then(pl.format(f"{kind.required}: missing for {kind.label} '{{}}' (give it on the records or in defaults)", "_out_id"))
        .when(required.list.len() > 1)
        .then(pl.format(f"{kind.required}: {kind.label} '{{}}' has records with several values ({{}})", "_out_id",
                        required.list.join(", "))),
    ).list.drop_nulls())


def _number(expr: pl.Expr) -> pl.Expr:
    return expr.round_sig_figs(10).cast(pl.String)


def _output(good: pl.DataFrame, kind: _Kind, pack: F.Pack, source: str, records: pl.DataFrame, group: list[str]) -> pl.DataFrame:
    used = records.filter(~pl.col("_withheld")).join(good.select(group), on=group, how="semi", nulls_equal=True)
    fuels = (
        used.filter(pl.col("fuel_amount").is_not_null())
        .group_by(*group, "energy_carrier", "_unit", "fuel_factor_id")
        .agg(pl.col("_fuel_canonical").sum())
        .sort("energy_carrier", "_unit")
        .group_by(group)
        .agg(_fuel_note=pl.format("{} {} {} ({})", "energy_carrier", _number(pl.col("_fuel_canonical")), "_unit",
                                  "fuel_factor_id").str.join(", "))
    )
    leaks = (
        used.filter(pl.col("refrigerant_loss_kg").is_not_null())
        .group_by(*group, pl.col("refrigerant").fill_null("unnamed"), "_gwp")
        .agg(pl.col("refrigerant_loss_kg").sum())
        .sort("refrigerant")
        .group_by(group)
        .agg(_leak_note=pl.format("{} {} kg x GWP100 {}", "refrigerant", _number(pl.col("refrigerant_loss_kg")),
                                  _number(pl.col("_gwp"))).str.join(", "))
    )
    g = good.join(fuels, on=group, how="left", nulls_equal=True).join(leaks, on=group, how="left", nulls_equal=True)

    def split(x: str) -> pl.Expr:
        return pl.col(f"_e_{x}").pipe(_number).fill_null("not split")

    notes = [
        pl.format("records {}", "_records"),
        pl.lit("fuel: ") + pl.col("_fuel_note"),
        *(pl.when(pl.col(f"_sum_{b}") > 0).then(pl.lit(f"{b} ") + _number(pl.col(f"_sum_{b}"))) for b, _, _ in kind.bases),
        pl.lit("refrigerant: ") + pl.col("_leak_note"),
        *(pl.when(pl.col("_splits").str.contains(k)).then(pl.lit(text)) for k, text in SPLIT_NOTES.items()),
        pl.format("kg CO2e TTW {} WTT {} WTW {}", split("ttw"), split("wtt"), split("wtw")),
        pl.when(pl.col("_fell_back")).then(pl.lit("fuel_region not in pack: highest regional factor (GLEC v3.0 p.76)")),
    ]
    columns = {
        kind.id_col: pl.col("_out_id"),
        **{d: pl.when(pl.col(f"_values_{d}").list.len() == 1).then(pl.col(f"_values_{d}").list.first())
           for d in kind.descriptors if d != "temperature_control"},
        "temperature_control": pl.col("temperature_control"),
    }
    for b, suffix, scale in kind.bases:
        for x in ("ttw", "wtt", "wtw"):
            columns[f"{x}_{suffix}"] = pl.when(pl.col(f"_ok_{b}")).then(pl.col(f"_e_{x}") / pl.col(f"_sum_{b}") * scale)
    if kind is TOC:
        km = pl.col("_loaded_km") + pl.col("_empty_km")
        one_fuel = pl.col("_ok_tkm") & (pl.col("_fuel_kinds") == 1)
        columns |= {
            "energy_per_tkm": pl.when(one_fuel).then(pl.col("_fuel_canonical") / pl.col("_sum_tkm")),
            "energy_unit": pl.when(one_fuel).then(pl.col("_unit")),
            "empty_running": pl.when((km > 0) & ~pl.col("_km_gap")).then(pl.col("_empty_km") / km),
        }
        notes.insert(-2, pl.when(km > 0).then(pl.format("vehicle km {} of which empty {}", _number(km), _number(pl.col("_empty_km")))))
    columns |= {
        "data_type": pl.lit("primary"),
        "source": pl.lit(source),
        "source_page": pl.col("period"),
        "pack_version": pl.lit(pack_label(pack)),
        "licence": pl.lit(LICENCE),
        "notes": pl.concat_str(notes, separator="; ", ignore_nulls=True),
    }
    return g.sort("_out_id").select(**columns)
