"""What PACT needs that the engine cannot know: who publishes, for which period, under which
standards. Read from a small TOML or JSON file.

Outside demo mode the publisher must name itself (``company_name``, ``company_ids``: the
placeholders are refused), and each footprint's reference period is the date range of its legs
(their ``date`` column, else the date of ``departure_at``) unless ``reference_period_start`` /
``reference_period_end`` state it; with neither, nothing is exported. ``demo = true`` accepts the
placeholder company and takes the calendar year of ``created`` as the reference period.

Example ``exchange.toml``::

    company_name = "Example Freight Ltd"
    company_ids = ["urn:pathfinder:company:customcode:vendor-assigned:example-freight"]
    reference_period_start = 2025-01-01T00:00:00Z
    reference_period_end = 2026-01-01T00:00:00Z

    # The energy mix of a TOC/HOC, where the publisher knows better than the factor row's
    # energy_carriers (a GLEC hub default assumes electricity at the higher of the EU/NA factors).
    [[energy_carriers.glec3-hub-warehouse-ambient]]
    energyCarrier = "Electric"
    relativeShare = "1"
    emissionFactorWTW = "0.3492"   # EU grid, kg CO2e/kWh (GLEC Framework v3.0 p.77)
    emissionFactorTTW = "0"
    energyConsumptionUnit = "kWh"
"""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .models import EnergyCarrier, ProductOrSectorSpecificRule

# GLEC as the sector rule: PACT's rule operators are PEF / EPD International / Other.
GLEC_RULE = ProductOrSectorSpecificRule(
    operator="Other", otherOperatorName="Smart Freight Centre", ruleNames=["GLEC Framework v3.0"]
)
BOUNDARY = (
    "ISO 14083:2023 / GLEC Framework v3.0 well-to-wheel (WTW) GHG emissions of each transport chain "
    "element: vehicle and hub operation and energy provision, loaded and empty running; excludes "
    "vehicle and infrastructure construction and packaging."
)


PLACEHOLDER_COMPANY_NAME = "Unnamed carrier"
PLACEHOLDER_COMPANY_IDS = ["urn:pathfinder:company:customcode:vendor-assigned:unnamed-carrier"]


class ExchangeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Demo mode: the placeholder company and the calendar year of `created` as reference period
    # are accepted (a demonstration, never a publication).
    demo: bool = False
    company_name: str = Field(PLACEHOLDER_COMPANY_NAME, min_length=1)
    company_ids: list[str] = PLACEHOLDER_COMPANY_IDS
    # Who assigned the shipment / TOC / HOC ids in productIds URNs (iLEAP: vendor = the carrier).
    ids_assigned_by: Literal["vendor", "buyer"] = "vendor"
    # Adds urn:pact:<domain>:shipment-id:<id> (and toc-id / hoc-id) to v3 productIds.
    pact_domain: str | None = None
    created: datetime | None = None  # default: now
    # Default: each footprint's legs' dates (demo mode: the calendar year (UTC) of `created`).
    reference_period_start: datetime | None = None
    reference_period_end: datetime | None = None
    ipcc_characterization_factors: list[str] = ["AR6"]
    cross_sectoral_standards: list[str] = Field(["ISO14083"], min_length=1)
    # PACT 2.x requires this deprecated field from a closed list that has no logistics standard;
    # the iLEAP demo data uses the GHG Protocol Product standard.
    cross_sectoral_standards_used: list[str] = Field(["GHG Protocol Product standard"], min_length=1)
    product_or_sector_specific_rules: list[ProductOrSectorSpecificRule] = [GLEC_RULE]
    boundary_processes_description: str = BOUNDARY
    geography_country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    geography_country_subdivision: str | None = Field(None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
    geography_region_or_subregion: str | None = None
    exempted_emissions_percent: float = Field(0.0, ge=0, le=5)
    exempted_emissions_description: str = ""
    comment: str = ""
    spec_version_v2: str = Field("2.3.0", pattern=r"^2\.\d+\.\d+$")
    spec_version_v3: str = Field("3.0.0", pattern=r"^3\.\d+\.\d+$")
    # A TTW figure the factor does not give (GLEC hub defaults are WTW only): "wtw" reports the WTW
    # value as TTW (an upper bound, said in the footprint's comment); "error" refuses the document.
    ttw_when_unknown: Literal["wtw", "error"] = "wtw"
    # Average TEU payload, GLEC Framework v3.0 p.21: declares TEU-based TOCs/HOCs in tonnes.
    tonnes_per_teu: float = Field(10.0, gt=0)
    energy_carriers: dict[str, list[EnergyCarrier]] = {}
    certifications: dict[str, list[str]] = {}

    @field_validator("company_ids")
    @classmethod
    def _urns(cls, ids: list[str]) -> list[str]:
        bad = [i for i in ids if not i.lower().startswith("urn:")]
        if not ids or bad or len(set(ids)) != len(ids):
            raise ValueError(f"company_ids must be unique URNs (urn:...), got {ids}")
        return ids

    @field_validator("ipcc_characterization_factors")
    @classmethod
    def _ar(cls, values: list[str]) -> list[str]:
        if not values or any(not v.startswith("AR") or not v[2:].isdigit() for v in values):
            raise ValueError(f"ipcc_characterization_factors must look like ['AR6'], got {values}")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> ExchangeConfig:
        geo = [self.geography_country, self.geography_country_subdivision, self.geography_region_or_subregion]
        if sum(g is not None for g in geo) > 1:
            raise ValueError("give at most one of geography_country, geography_country_subdivision, geography_region_or_subregion")
        if (self.reference_period_start is None) != (self.reference_period_end is None):
            raise ValueError("give both reference_period_start and reference_period_end, or neither")
        if self.reference_period_start and self.reference_period_end and self.reference_period_end <= self.reference_period_start:
            raise ValueError("reference_period_end must be after reference_period_start (the end is exclusive)")
        return self

    def created_at(self) -> datetime:
        return _utc(self.created) if self.created else datetime.now(UTC).replace(microsecond=0)

    def placeholder_identity(self) -> bool:
        """Whether the company is still the placeholder (refused outside demo mode)."""
        return self.company_name == PLACEHOLDER_COMPANY_NAME or self.company_ids == PLACEHOLDER_COMPANY_IDS

    def reference_period(self) -> tuple[datetime, datetime] | None:
        """The reference period the config states (demo mode: the calendar year of ``created``),
        else None: each footprint then takes its legs' dates."""
        if self.reference_period_start and self.reference_period_end:  # both or neither (_consistent)
            return _utc(self.reference_period_start), _utc(self.reference_period_end)
        if not self.demo:
            return None
        year = self.created_at().year
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)

    def characterization_factors_v2(self) -> str:
        """PACT 2.x's deprecated single value: the first of AR6 / AR5 listed."""
        for ar in self.ipcc_characterization_factors:
            if ar in ("AR6", "AR5"):
                return ar
        raise ValueError("PACT 2.x needs AR6 or AR5 among ipcc_characterization_factors")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def load_config(path: str | os.PathLike | None = None, **overrides) -> ExchangeConfig:
    """The config from a ``.toml`` or ``.json`` file (or the defaults), with keyword overrides."""
    data: dict = {}
    if path is not None:
        p = Path(path)
        text = p.read_text(encoding="utf8")
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    return ExchangeConfig.model_validate({**data, **overrides})
