"""Typed models of one shipment and its legs (for embedding and the API)."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .schema import LEG_COLUMNS, DType
from .vocabulary import MAX_DAF, MAX_DISTANCE_KM, MAX_FUEL_AMOUNT, MAX_MASS_KG, MAX_TEU, MAX_TEXT_LENGTH, DistanceType, Mode

# Identifiers and descriptors: bounded, since a service keeps the ones it has seen.
Name = Annotated[str | None, Field(max_length=MAX_TEXT_LENGTH)]


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
    mode: Mode
    # Lower bounds are explicit sizes, not "> 0": a subnormal float would pass gt=0.
    mass_kg: Number | None = Field(None, ge=0.001, le=MAX_MASS_KG, description="actual freight mass, not chargeable weight")
    teu: Number | None = Field(None, ge=0.001, le=MAX_TEU)
    origin: str | None = Field(None, max_length=64, description="UN/LOCODE, IATA code or 'lat,lon'")
    destination: str | None = Field(None, max_length=64)
    distance_km: Number | None = Field(None, ge=0.001, le=MAX_DISTANCE_KM)
    distance_type: DistanceType | None = None
    daf: Number | None = Field(None, ge=0.01, le=MAX_DAF)
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
    fuel_amount: Number | None = Field(None, ge=0, le=MAX_FUEL_AMOUNT)
    fuel_unit: Name = None
    fuel_region: Name = None

    @model_validator(mode="after")
    def _check(self) -> Leg:
        if self.fuel_amount is not None and not (self.fuel_unit and self.energy_carrier):
            raise ValueError("fuel_amount needs fuel_unit and energy_carrier")
        return self


class Shipment(BaseModel):
    """A shipment and its transport chain, legs and hubs in order."""

    model_config = ConfigDict(extra="forbid")

    shipment_id: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    mass_kg: Number | None = Field(None, ge=0.001, le=MAX_MASS_KG, description="default mass for legs that give none")
    teu: Number | None = Field(None, ge=0.001, le=MAX_TEU)
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


def leg_schema(row: dict) -> dict[str, DType]:
    """The legs-table types of a row's columns (those the engine knows)."""
    return {c: LEG_COLUMNS[c] for c in row if c in LEG_COLUMNS}
