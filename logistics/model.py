"""Vocabulary of the legs table and typed models of one shipment (for embedding and the API)."""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MODES = ("road", "rail", "sea", "inland_waterway", "air", "hub")
TRANSPORT_MODES = MODES[:-1]
DISTANCE_TYPES = ("actual", "sfd", "gcd")
DATA_TYPES = ("primary", "modelled", "default")
TEMPERATURE_CONTROLS = ("ambient", "refrigerated", "mixed")

# Every input column the engine understands, with the type it is read as. Other columns pass
# through untouched.
LEG_COLUMNS: dict[str, pl.DataType] = {
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
    "load_factor": pl.Float64,
    "payload_capacity_kg": pl.Float64,
    "fuel_economy_km_per_l": pl.Float64,
}
REQUIRED_COLUMNS = ("shipment_id", "mode")  # plus mass_kg or teu
# Vocabulary columns compared in lower case; region codes in upper case.
LOWER_CASE = ("mode", "vehicle", "energy_carrier", "load_type", "trade_lane", "flight_length", "hub_type",
              "temperature_control", "distance_type", "method", "fuel_unit")
UPPER_CASE = ("region", "fuel_region")

# Accepted spellings of fuel units -> (canonical unit, multiplier to it).
FUEL_UNITS: dict[str, tuple[str, float]] = {
    "l": ("l", 1.0),
    "litre": ("l", 1.0),
    "liter": ("l", 1.0),
    "litres": ("l", 1.0),
    "liters": ("l", 1.0),
    "kl": ("l", 1000.0),
    "m3": ("l", 1000.0),
    "us_gal": ("l", 3.785411784),  # GLEC Framework v3.0 p.153
    "kg": ("kg", 1.0),
    "t": ("kg", 1000.0),
    "tonne": ("kg", 1000.0),
    "kwh": ("kWh", 1.0),
    "mwh": ("kWh", 1000.0),
    "mj": ("MJ", 1.0),
    "gj": ("MJ", 1000.0),
}


def fuel_unit_table(key: str = "fuel_unit") -> pl.DataFrame:
    """FUEL_UNITS as a frame to join on: ``key`` (as written), ``_unit`` (canonical), ``_unit_mult``."""
    return pl.DataFrame({key: list(FUEL_UNITS), "_unit": [u for u, _ in FUEL_UNITS.values()],
                         "_unit_mult": [m for _, m in FUEL_UNITS.values()]})


TEMPERATURE_SYNONYMS = {
    "dry": "ambient",
    "reefer": "refrigerated",
    "temperature_controlled": "refrigerated",
    "temperature-controlled": "refrigerated",
    "frozen": "refrigerated",
    "chilled": "refrigerated",
}


# Identifiers and descriptors: bounded, since a service keeps the ones it has seen.
Name = Annotated[str | None, Field(max_length=200)]


def _not_boolean(value):
    """JSON ``true`` is not the number 1 (pydantic's lax mode would read it so)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


Number = Annotated[float, BeforeValidator(_not_boolean)]  # NaN and inf are refused by each field's bounds


class Leg(BaseModel):
    """One transport chain element of a shipment: a transport leg or a hub."""

    model_config = ConfigDict(extra="forbid")

    leg_id: Name = None
    mode: Literal["road", "rail", "sea", "inland_waterway", "air", "hub"]
    # Lower bounds are explicit sizes, not "> 0": a subnormal float would pass gt=0.
    mass_kg: Number | None = Field(None, ge=0.001, le=1e9, description="actual freight mass, not chargeable weight")
    teu: Number | None = Field(None, ge=0.001, le=1e6)
    origin: str | None = Field(None, max_length=64, description="UN/LOCODE, IATA code or 'lat,lon'")
    destination: str | None = Field(None, max_length=64)
    distance_km: Number | None = Field(None, ge=0.001, le=50_000)
    distance_type: Literal["actual", "sfd", "gcd"] | None = None
    daf: Number | None = Field(None, ge=0.01, le=10)
    toc_id: Name = None
    hoc_id: Name = None
    vehicle: Name = None
    energy_carrier: Name = None
    region: Name = None
    temperature_control: Name = None
    load_type: Name = None
    trade_lane: Name = None
    flight_length: Name = None
    hub_type: Name = None
    fuel_amount: Number | None = Field(None, ge=0, le=1e12)
    fuel_unit: Name = None
    fuel_region: Name = None

    @model_validator(mode="after")
    def _check(self) -> "Leg":
        if self.fuel_amount is not None and not (self.fuel_unit and self.energy_carrier):
            raise ValueError("fuel_amount needs fuel_unit and energy_carrier")
        return self


class Shipment(BaseModel):
    """A shipment and its transport chain, legs and hubs in order."""

    model_config = ConfigDict(extra="forbid")

    shipment_id: str = Field(min_length=1, max_length=200)
    mass_kg: Number | None = Field(None, ge=0.001, le=1e9, description="default mass for legs that give none")
    teu: Number | None = Field(None, ge=0.001, le=1e6)
    legs: list[Leg] = Field(min_length=1, max_length=100)

    def rows(self) -> list[dict]:
        """One legs-table row per leg, in order, with the shipment's id, position and mass."""
        rows = []
        for seq, leg in enumerate(self.legs, start=1):
            row = leg.model_dump()
            row["shipment_id"] = self.shipment_id
            row["leg_seq"] = seq
            if row["mass_kg"] is None and row["teu"] is None:
                row["mass_kg"], row["teu"] = self.mass_kg, self.teu
            rows.append(row)
        return rows

    def to_frame(self) -> pl.DataFrame:
        rows = self.rows()
        return pl.DataFrame(rows, schema=leg_schema(rows[0]))


def leg_schema(row: dict) -> dict[str, pl.DataType]:
    """The legs-table types of a row's columns (those the engine knows)."""
    return {c: LEG_COLUMNS[c] for c in row if c in LEG_COLUMNS}
