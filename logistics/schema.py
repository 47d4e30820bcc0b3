"""The columns of each table the engine reads and writes, and the shape of a row error.

Legs in (``LEG_COLUMNS``), per-leg results (``RESULT_COLUMNS``, and ``PROVENANCE_COLUMNS`` with
``provenance="full"``), per-shipment totals (``SHIPMENT_COLUMNS``) and the factors table written
beside the results (``FACTOR_COLUMNS``). Column names are snake_case with their unit in the name.
"""

from __future__ import annotations

from typing import Final, NamedTuple, TypeAlias

import polars as pl

# A column type as polars takes it: a class (pl.Float64) or an instance (pl.Datetime("us", "UTC")).
DType: TypeAlias = pl.DataType | type[pl.DataType]

# Every input column the engine understands, with the type it is read as. Other input columns are
# kept only when they are pass-through columns (see ``is_pass_through``) or with full provenance.
LEG_COLUMNS: Final[dict[str, type[pl.DataType]]] = {
    "shipment_id": pl.String,
    "leg_id": pl.String,
    "leg_seq": pl.Int64,
    "mode": pl.String,
    "mass_kg": pl.Float64,
    "teu": pl.Float64,
    "origin": pl.String,
    "destination": pl.String,
    "origin_lat": pl.Float64,
    "origin_lon": pl.Float64,
    "destination_lat": pl.Float64,
    "destination_lon": pl.Float64,
    "distance_km": pl.Float64,
    "distance_type": pl.String,
    "daf": pl.Float64,
    "method": pl.String,
    "toc_id": pl.String,
    "hoc_id": pl.String,
    "vehicle": pl.String,
    "energy_carrier": pl.String,
    "region": pl.String,
    "temperature_control": pl.String,
    "load_type": pl.String,
    "trade_lane": pl.String,
    "flight_length": pl.String,
    "hub_type": pl.String,
    "fuel_amount": pl.Float64,
    "fuel_unit": pl.String,
    "fuel_region": pl.String,
    "country": pl.String,  # where a leg's electricity comes from (ISO 3166-1 alpha-2): its grid factor
    "grid_region": pl.String,  # a grid region of that country (e.g. an eGRID state, US-CA)
    "cleanings": pl.Float64,  # tank or container cleanings attached to this TCE (GLEC v3.0 pp.132, 138)
    "load_factor": pl.Float64,
    "payload_capacity_kg": pl.Float64,
    "fuel_economy_km_per_l": pl.Float64,
}
REQUIRED_COLUMNS: Final = ("shipment_id", "mode")  # and mass_kg or teu
# Text columns that identify a row; every other text column of LEG_COLUMNS is vocabulary, read once
# per distinct combination of cells (a "vocabulary key").
ROW_TEXT_COLUMNS: Final = ("shipment_id", "leg_id", "origin", "destination")
VOCABULARY_COLUMNS: Final = tuple(c for c, t in LEG_COLUMNS.items() if t == pl.String and c not in ROW_TEXT_COLUMNS)
NUMBER_COLUMNS: Final = tuple(c for c, t in LEG_COLUMNS.items() if t in (pl.Float64, pl.Int64))
PLACE_COLUMNS: Final = ("origin", "destination", "origin_lat", "origin_lon", "destination_lat", "destination_lon")

# Input columns that describe the business, not the physics, and travel from the legs into the
# results and the shipments table (first value per shipment), so reports can group on them and
# exports state them (dates, consignment and voyage ids, who a shipment's footprint is shared with).
PASS_THROUGH_COLUMNS: Final = ("customer", "order_id", "date", "departure_at", "arrival_at", "consignment_id", "flight_no",
                               "voyage_no", "incoterms", "share_with")
PASS_THROUGH_PREFIX: Final = "tag_"


def is_pass_through(column: str) -> bool:
    return column in PASS_THROUGH_COLUMNS or column.startswith(PASS_THROUGH_PREFIX)


# Where a row comes from: the line of a CSV file (header = line 1), else the row number (1-based).
LINE_COLUMN: Final = "input_line"
LINE_ERROR: Final = "line_error"  # null, or why a file's line could not be split into the header's fields
# The engine's working columns start with this; an input column may not.
INTERNAL_PREFIX: Final = "__"

# Per-leg results, in order, after the identity and pass-through columns.
IDENTITY_COLUMNS: Final = (LINE_COLUMN, "shipment_id", "leg_id", "leg_seq", "mode")
RESULT_COLUMNS: Final[dict[str, type[pl.DataType]]] = {
    "origin": pl.String,
    "destination": pl.String,
    "mass_kg": pl.Float64,  # the freight mass used (from TEU × t/TEU when only TEU was given)
    "teu": pl.Float64,  # the TEU used (from mass when a per-TEU factor needed it)
    "distance_km": pl.Float64,  # the transport-activity distance (actual, SFD or GCD)
    "distance_type": pl.String,  # actual | sfd | gcd
    "distance_source": pl.String,  # given, or where a distance from places came from
    "daf": pl.Float64,  # distance adjustment factor applied to the emissions
    "emissions_distance_km": pl.Float64,  # distance_km × daf: the distance the emissions rest on
    "tkm": pl.Float64,  # mass_t × distance_km: the transport activity (ISO 14083), before any DAF
    "method": pl.String,  # activity | toc | fuel | hub | a plug-in's method
    "data_type": pl.String,  # primary | modelled | default
    "factor_id": pl.String,  # the factor row (see FACTOR_COLUMNS), "~"-suffixed when adjusted
    "assumptions": pl.String,  # built-in defaults this leg relied on
    "co2e_ttw_kg": pl.Float64,
    "co2e_wtt_kg": pl.Float64,
    "co2e_wtw_kg": pl.Float64,
    "intensity_wtw_g_per_tkm": pl.Float64,  # co2e_wtw_kg per tkm of transport activity, in g
    "error_code": pl.String,  # "<column>.<reason>" of the first error, e.g. mass_kg.not_a_number
    "error": pl.String,  # every reason the row was not computed, for people
}
ERROR_COLUMNS: Final = ("error_code", "error")

# Input columns that count non-transport operations attached to a TCE (GLEC v3.0 pp.132, 138), by
# the pack ``tce_addons`` activity whose factor applies to them; results of inputs that have one
# carry ADDON_COLUMNS (before the errors).
ADDON_INPUTS: Final = {"cleanings": "tank_cleaning"}
ADDON_COLUMNS: Final[dict[str, type[pl.DataType]]] = {
    "addon_co2e_ttw_kg": pl.Float64,  # included in co2e_ttw_kg (empty when the add-on factor has no split)
    "addon_co2e_wtt_kg": pl.Float64,
    "addon_co2e_wtw_kg": pl.Float64,  # included in co2e_wtw_kg
    "addon_ids": pl.String,  # the tce_addons rows that applied
}

# The factors table: one row per factor_id used, with everything needed to audit a figure.
FACTOR_COLUMNS: Final[dict[str, type[pl.DataType]]] = {
    "factor_id": pl.String,
    "base_factor_id": pl.String,  # the pack or own-table row the factor comes from
    "factor_pack": pl.String,  # name@version, or the own table's file
    "edition": pl.String,
    "source": pl.String,
    "source_page": pl.String,
    "licence": pl.String,
    "data_type": pl.String,
    "basis": pl.String,  # what the factor is per: tkm | teu_km | fuel | t | teu
    "unit": pl.String,  # the unit of the basis, e.g. "tkm", "l of diesel", "outbound t"
    "ttw_kg_per_unit": pl.Float64,
    "wtt_kg_per_unit": pl.Float64,
    "wtw_kg_per_unit": pl.Float64,
    "multiplier": pl.Float64,  # applied to the base row's intensities (1 unless adjusted)
    "adjustment_ids": pl.String,  # "a+b": the adjustments that derived this factor from its base
    "fuel_factor_id": pl.String,  # the fuel factor behind an energy-based or fuel factor
    "notes": pl.String,
}
# With provenance="full", results also carry these (joined from the factors table on factor_id).
PROVENANCE_COLUMNS: Final = tuple(c for c in FACTOR_COLUMNS if c not in ("factor_id", "data_type"))

# Per-shipment totals, in order, after shipment_id and the pass-through columns.
SHIPMENT_COLUMNS: Final[dict[str, type[pl.DataType]]] = {
    "legs": pl.UInt32,
    "error_legs": pl.UInt32,
    "mass_kg": pl.Float64,  # the largest freight mass over its transport legs
    "tkm": pl.Float64,
    "co2e_ttw_kg": pl.Float64,  # empty when no computed leg has a TTW/WTT split
    "co2e_wtt_kg": pl.Float64,
    "co2e_wtw_kg": pl.Float64,  # empty when no computed leg has CO2e (e.g. Japanese methods only)
    "co2e_wtw_unsplit_kg": pl.Float64,  # the part of WTW with no TTW/WTT split (e.g. GLEC hub defaults)
    "intensity_wtw_g_per_tkm": pl.Float64,
    "primary_data_share": pl.Float64,  # share of WTW from primary data
    "complete": pl.Boolean,  # every leg computed
}


class RowError(NamedTuple):
    """Why a row was not computed: the column at fault, a reason code, and a message for people
    (naming the column and the value). Written as ``error_code`` = ``column.code`` and ``error``."""

    column: str
    code: str
    message: str

    @property
    def error_code(self) -> str:
        return f"{self.column}.{self.code}"

