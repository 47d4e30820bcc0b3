"""The closed vocabularies of the legs table, their accepted spellings, units and limits: defined
here once, used by the engine, the typed models, the service and the exchange builders."""

from __future__ import annotations

from typing import Final, Literal, get_args

import numpy as np
import polars as pl

Mode = Literal["road", "rail", "sea", "inland_waterway", "air", "hub"]
MODES: Final = get_args(Mode)
TRANSPORT_MODES: Final = MODES[:-1]  # every mode but hub

# How a transport leg's distance was obtained (ISO 14083:2023 §6.3; GLEC Framework v3.0 pp.26–27):
# the actual distance travelled, the shortest feasible distance, or the great-circle distance.
DistanceType = Literal["actual", "sfd", "gcd"]
DISTANCE_TYPES: Final = get_args(DistanceType)

# ISO 14083:2023 §5.2 data categories, in order of preference.
DataType = Literal["primary", "modelled", "default"]
DATA_TYPES: Final = get_args(DataType)

TemperatureControl = Literal["ambient", "refrigerated", "mixed"]
TEMPERATURE_CONTROLS: Final = get_args(TemperatureControl)

# How a leg's emissions are found. Plug-in methods (e.g. the Japanese ones) add their own names.
CORE_METHODS: Final = ("activity", "toc", "fuel", "hub")

# What a factor is per (the "basis" of a factor row): tonne-km, TEU-km, a unit of fuel or energy,
# an outbound tonne or TEU at a hub.
Basis = Literal["tkm", "teu_km", "fuel", "t", "teu"]
BASES: Final = get_args(Basis)

# Vocabulary cells are compared in lower case (region codes in upper case); spaces and hyphens in a
# mode are read as underscores ("inland waterway", "inland-waterway").
LOWER_CASE: Final = ("mode", "vehicle", "energy_carrier", "load_type", "trade_lane", "flight_length", "hub_type",
                     "temperature_control", "distance_type", "method", "fuel_unit")
UPPER_CASE: Final = ("region", "fuel_region", "country", "grid_region")

TEMPERATURE_SYNONYMS: Final = {
    "dry": "ambient",
    "reefer": "refrigerated",
    "temperature_controlled": "refrigerated",
    "temperature-controlled": "refrigerated",
    "frozen": "refrigerated",
    "chilled": "refrigerated",
}


def read_vocabulary(name: str, cell: pl.Expr) -> pl.Expr:
    """Vocabulary column ``name`` as the engine compares it, from ``cell`` (text): trimmed, empty
    as missing, in lower case (region codes in upper case), spaces and hyphens of a mode as
    underscores, temperature synonyms; the expression is named ``name``."""
    c = cell.str.strip_chars()
    c = pl.when(c == "").then(None).otherwise(c)
    if name in LOWER_CASE:
        c = c.str.to_lowercase()
    elif name in UPPER_CASE:
        c = c.str.to_uppercase()
    if name == "mode":
        c = c.str.replace_all(r"[ \-]", "_")
    elif name == "temperature_control":
        c = c.replace(TEMPERATURE_SYNONYMS)
    return c.alias(name)

# Accepted spellings of fuel and energy units -> (the unit factors are given per, multiplier to it).
FUEL_UNITS: Final[dict[str, tuple[str, float]]] = {
    "l": ("l", 1.0),
    "litre": ("l", 1.0),
    "liter": ("l", 1.0),
    "litres": ("l", 1.0),
    "liters": ("l", 1.0),
    "kl": ("l", 1000.0),
    "m3": ("l", 1000.0),
    "us_gal": ("l", 3.785411784),  # GLEC Framework v3.0 (2024), p.153
    "kg": ("kg", 1.0),
    "t": ("kg", 1000.0),
    "tonne": ("kg", 1000.0),
    "kwh": ("kWh", 1.0),
    "mwh": ("kWh", 1000.0),
    "mj": ("MJ", 1.0),
    "gj": ("MJ", 1000.0),
}
FACTOR_UNITS: Final = ("kg", "l", "kWh", "MJ")  # the units pack factors are given per


def fuel_unit_table(key: str = "fuel_unit") -> pl.DataFrame:
    """FUEL_UNITS as a frame to join on: ``key`` (as written), ``_unit`` (canonical), ``_unit_mult``."""
    return pl.DataFrame({key: list(FUEL_UNITS), "_unit": [u for u, _ in FUEL_UNITS.values()],
                         "_unit_mult": [m for _, m in FUEL_UNITS.values()]})

# Plausibility limits of a leg: a value beyond them is a unit mistake, reported, never computed.
MAX_MASS_KG: Final = 1e9  # 1,000,000 t
MAX_TEU: Final = 1e6
MAX_DISTANCE_KM: Final = 50_000.0  # longer than any transport leg on Earth
MAX_DAF: Final = 10.0
MAX_FUEL_AMOUNT: Final = 1e12
MAX_NUMBER: Final = 1e15  # any number cell beyond this is refused as not a usable figure
MAX_TEXT_LENGTH: Final = 200  # identifiers and descriptors


def default_leg_id(shipment_id, leg_seq):
    """The id of a leg that gives none: ``<shipment_id>-<leg_seq>`` (``S1-2`` for the second leg of
    shipment ``S1``). Works on polars expressions, NumPy arrays and Python values."""
    if isinstance(shipment_id, str):
        return f"{shipment_id}-{int(leg_seq)}"
    if isinstance(shipment_id, np.ndarray):
        return np.array([None if s is None or q != q else f"{s}-{int(q)}" for s, q in zip(shipment_id, leg_seq, strict=True)], object)
    return shipment_id + "-" + leg_seq.cast(str)
