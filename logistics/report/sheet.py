"""A calculation sheet per shipment, for verification and assurance (PACT Technical
Specifications' assurance, the Green x Digital Consortium's CO2 visualisation framework): every TCE
with its inputs as read, how its distance was found, its factor row (source, edition, page), the
formula with the numbers put in and the result, and the same formula recomputed from the figures
shown with the library's own rules, so a reader can check each number by hand.

The sheet is stamped with what makes it reproducible: the project's version, each pack's edition
and a hash of its tables, and hashes of the input and results files when known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ..io import DEFAULT_PRECISION, LINE_ERROR, InputError, open_legs
from ..rules.activity import mass_t, teu_km, tonne_km
from ..rules.emissions import fuel_kg, hub_kg, transport_kg
from ..schema import LINE_COLUMN
from ..vocabulary import FUEL_UNITS
from .figures import Results, reproducibility
from .numbers import exact

SCOPES = (("ttw", "TTW"), ("wtt", "WTT"), ("wtw", "WTW"))
TOLERANCE = 1e-9  # relative: a recomputed figure agrees when it differs by less (floating point only)
# Figures read from a CSV are rounded to DEFAULT_PRECISION significant digits: a product of up to
# three of them and its rounded result may differ by up to about 2 units of the last digit kept.
ROUNDED_TOLERANCE = 5 * 10.0 ** (1 - DEFAULT_PRECISION)


@dataclass
class Formula:
    """One line of arithmetic: ``name = symbols`` and the same with numbers; the engine's value and
    the value recomputed from the numbers shown."""

    name: str
    symbols: str
    numbers: str
    value: float | None
    recomputed: float | None
    tolerance: float = TOLERANCE

    @property
    def agrees(self) -> bool | None:
        if self.value is None or self.recomputed is None:
            return None
        return math.isclose(self.value, self.recomputed, rel_tol=self.tolerance, abs_tol=1e-12)


@dataclass
class Element:
    """One transport chain element (TCE) of the shipment."""

    leg: dict[str, Any]  # the result row
    line: int | None
    inputs_as_read: dict[str, str | None] | None  # the input file's header -> cell, when the file is known
    factor: dict[str, Any] | None  # the factors-table row
    formulas: list[Formula] = field(default_factory=list)
    fuel_as_read: tuple[str, str] | None = None  # (amount, unit) of a fuel-based leg

    @property
    def agrees(self) -> bool | None:
        checks = [f.agrees for f in self.formulas if f.agrees is not None]
        return all(checks) if checks else None


@dataclass
class Sheet:
    shipment_id: str
    shipment: dict[str, Any]  # the shipments-table row
    elements: list[Element]
    lines_are_rows: bool  # Element.line is a row number, not a line of a CSV file
    rounded: bool  # the figures were read rounded (a CSV): the checks allow for it
    stamp: dict[str, Any]
    generated: str

    @property
    def agrees(self) -> bool | None:
        checks = [e.agrees for e in self.elements if e.agrees is not None]
        return all(checks) if checks else None


def _input_rows(path: Path, lines: list[int], encoding: str | None = None, *, rows: bool = False) -> dict[int, dict[str, str | None]]:
    """The cells as read of some lines of a legs file (``logistics.io.open_legs``: CSV lines with
    the header as line 1, Parquet rows from 1), read batch by batch until all are found. ``rows``:
    ``lines`` count the rows from 1 (as ``logistics.calculate`` numbers them), not a CSV's lines."""
    if not path.exists() or not lines:
        return {}
    found: dict[int, dict[str, str | None]] = {}
    with open_legs(path, encoding=encoding, legs=True) as legs:
        shift = 1 if rows and legs.kind == "csv" else 0  # row n is line n + 1 of a CSV
        wanted = {line + shift for line in lines}
        for batch in legs.batches():
            hits = batch.filter(pl.col(LINE_COLUMN).is_in(sorted(wanted)))
            as_text = hits.drop(LINE_ERROR, strict=False).with_columns(pl.all().exclude(LINE_COLUMN).cast(pl.String))
            for row in as_text.iter_rows(named=True):
                found[int(row.pop(LINE_COLUMN)) - shift] = row
            if len(found) == len(wanted):
                break
    return found


def _fuel_in_factor_unit(leg: dict, inputs: dict | None, mapping) -> tuple[float | None, tuple[str, str] | None]:
    """A leg's measured fuel in the unit its factor is per, from the results (full provenance) or
    the cells as read; and the fuel as read, for people."""
    amount, unit_cell = leg.get("fuel_amount"), leg.get("fuel_unit")
    if amount is None and inputs:
        cells = mapping.apply(pl.DataFrame([inputs])).row(0, named=True) if mapping else inputs
        amount, unit_cell = cells.get("fuel_amount"), cells.get("fuel_unit")
    if amount is None or unit_cell is None:
        return None, None
    try:
        value = float(str(amount).strip())
    except ValueError:
        return None, None
    spelled = str(unit_cell).strip().lower()
    if spelled not in FUEL_UNITS:
        return None, (str(amount), str(unit_cell))
    return value * FUEL_UNITS[spelled][1], (str(amount), str(unit_cell))


def _formulas(leg: dict, factor: dict | None, inputs: dict | None, mapping) -> tuple[list[Formula], tuple[str, str] | None]:
    """The arithmetic of one TCE, written with its numbers and recomputed with logistics.rules; and
    the measured fuel as read, for a fuel-based leg."""
    if leg.get("error") is not None or factor is None:
        return [], None
    basis = factor.get("basis")
    daf = leg.get("daf")
    out: list[Formula] = []
    fuel_as_read = None
    mass_kg, distance = leg.get("mass_kg"), leg.get("distance_km")
    if basis in ("tkm", "teu_km") and distance is not None:
        if basis == "tkm":
            t = mass_t(mass_kg) if mass_kg is not None else None
            activity = tonne_km(t, distance) if t is not None else None
            out.append(Formula("tkm", "mass_t × distance_km",
                               f"{exact(t)} t × {exact(distance)} km = {exact(activity)} t·km", leg.get("tkm"), activity))
            unit_name = "t·km"
        else:
            teu = leg.get("teu")
            activity = teu_km(teu, distance) if teu is not None else None
            out.append(Formula("TEU-km", "TEU × distance_km", f"{exact(teu)} TEU × {exact(distance)} km = {exact(activity)} TEU·km",
                               None, activity))
            unit_name = "TEU·km"
        for key, label in SCOPES:
            intensity = factor.get(f"{key}_kg_per_unit")
            if intensity is None or activity is None or daf is None:
                continue
            value = transport_kg(activity, intensity, daf)
            symbols = f"activity × EI_{label} × DAF"
            text = f"{exact(activity)} {unit_name} × {exact(intensity)} kg CO2e/{unit_name} × {exact(daf)}"
            addon = leg.get(f"addon_co2e_{key}_kg")
            if addon:  # operations attached to the TCE, e.g. tank cleaning (GLEC v3.0 pp.132, 138)
                value += addon
                symbols += f" + add-ons ({leg.get('addon_ids')})"
                text += f" + {exact(addon)} kg CO2e"
            out.append(Formula(f"E_{label}", symbols, f"{text} = {exact(value)} kg CO2e", leg.get(f"co2e_{key}_kg"), value))
    elif basis == "fuel":
        fuel, fuel_as_read = _fuel_in_factor_unit(leg, inputs, mapping)
        per = factor.get("unit") or ""
        for key, label in SCOPES:
            ef, given = factor.get(f"{key}_kg_per_unit"), leg.get(f"co2e_{key}_kg")
            if ef is None:
                continue
            value = fuel_kg(fuel, ef) if fuel is not None else None
            out.append(Formula(f"E_{label}", f"fuel × EF_{label}",
                               f"{exact(fuel) if fuel is not None else '?'} {per} × {exact(ef)} kg CO2e/{per} = "
                               f"{exact(value if value is not None else given)} kg CO2e", given, value))
    elif basis in ("t", "teu"):
        activity = mass_t(mass_kg) if basis == "t" and mass_kg is not None else leg.get("teu")
        unit_name = "t" if basis == "t" else "TEU"
        for key, label in SCOPES:
            intensity = factor.get(f"{key}_kg_per_unit")
            if intensity is None or activity is None:
                continue
            value = hub_kg(activity, intensity)
            out.append(Formula(f"E_{label}", f"outbound {unit_name} × EI_{label}",
                               f"{exact(activity)} {unit_name} × {exact(intensity)} kg CO2e/{unit_name} = {exact(value)} kg CO2e",
                               leg.get(f"co2e_{key}_kg"), value))
    if leg.get("jp_co2_ttw_kg") is not None:
        out.append(Formula("CO2_TTW (JP)", str(leg.get("method")), f"{exact(leg.get('jp_co2_ttw_kg'))} kg CO2",
                           leg.get("jp_co2_ttw_kg"), None))
    return out, fuel_as_read


def calculation_sheet(results: Results, shipment_id: str, *, mapping=None, encoding: str | None = None,
                      now: datetime | None = None) -> Sheet:
    """The calculation sheet of one shipment of ``results`` (``figures.load_results``).
    ``mapping``: the column mapping the input file was read with, to find its fuel cells."""
    legs = results.legs.filter(pl.col("shipment_id") == shipment_id)
    if not legs.height:
        raise InputError(f"shipment {shipment_id!r} is not in these results")
    if "leg_seq" in legs.columns:
        legs = legs.sort("leg_seq", nulls_last=True, maintain_order=True)
    lines = [int(v) for v in legs[LINE_COLUMN].drop_nulls()] if LINE_COLUMN in legs.columns else []
    inputs = _input_rows(results.input_path, lines, encoding, rows=results.lines_are_rows) if results.input_path else {}
    factors = {r["factor_id"]: r for r in results.factors.filter(pl.col("factor_id").is_in(legs["factor_id"].drop_nulls().implode()))
               .iter_rows(named=True)}
    elements = []
    for leg in legs.iter_rows(named=True):
        line = leg.get(LINE_COLUMN)
        cells = inputs.get(line) if line is not None else None
        factor = factors.get(leg.get("factor_id"))
        formulas, fuel = _formulas(leg, factor, cells, mapping)
        if results.rounded:
            formulas = [replace(f, tolerance=ROUNDED_TOLERANCE) for f in formulas]
        elements.append(Element(leg=leg, line=line, inputs_as_read=cells, factor=factor, formulas=formulas, fuel_as_read=fuel))
    shipment = results.shipments.filter(pl.col("shipment_id") == shipment_id)
    labels = [e.factor["factor_pack"] for e in elements if e.factor and e.factor.get("factor_pack")]
    return Sheet(shipment_id=shipment_id, lines_are_rows=results.lines_are_rows, rounded=results.rounded,
                 shipment=shipment.row(0, named=True) if shipment.height else {},
                 elements=elements, stamp=reproducibility(results, labels),
                 generated=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"))
