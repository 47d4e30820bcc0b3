"""ProductFootprints wrapping iLEAP payloads: PACT v2.3 (the normative iLEAP mapping) and PACT v3.0
(our mapping; iLEAP defines none for v3).

PACT v2.3, per iLEAP Technical Specifications v1.0.0, section "PACT Integration" (its mapping tables):

| PACT field | ShipmentFootprint | TOC | HOC |
|---|---|---|---|
| productIds | `urn:pathfinder:product:customcode:vendor-assigned:shipment:<id>` | `…:toc:<id>` | `…:hoc:<id>` |
| productCategoryCpc | 83117 | 83117 | 83117 |
| declaredUnit | ton kilometer | ton kilometer | kilogram |
| unitaryProductAmount | Σ TCE transportActivity | 1 (TEU-km TOC: t per TEU) | 1000 (per-TEU HOC: 1000 × t per TEU) |
| productMassPerDeclaredUnit | shipment mass | 1 | = unitaryProductAmount |
| pCfExcludingBiogenic = fossilGhgEmissions | Σ TCE co2eWTW | co2eIntensityWTW | co2eIntensityWTW |
| fossilCarbonContent | as pCfExcludingBiogenic (the mapping's letter, as in the iLEAP demo data) | same | same |
| biogenicCarbonContent | 0 | 0 | 0 |
| packagingEmissionsIncluded | false | false | false |
| primaryDataShare | % of WTW from primary data | 100 or 0 | 100 or 0 |
| extensions | one: specVersion 2.0.0, the iLEAP dataSchema URL, documentation | | |

A TEU-based TOC (kg CO2e per TEU-km) is declared per ``tonnes_per_teu`` t·km, a per-TEU HOC per
``tonnes_per_teu`` × 1000 kg, so that the declared figure stays the published intensity.

PACT v3.0, our mapping (iLEAP v1.0.0 maps only onto PACT v2 fields, so this is the project's own):
- ``declaredUnitOfMeasurement`` / ``declaredUnitAmount`` as the v2 unit / amount;
- ``productMassPerDeclaredUnit``: ``0`` for t·km ("if the product mass is not relevant (…
  logistics (ton.km) …) SHALL be 0", PACT 3.0), the declared amount for the HOC's kilogram unit;
- ``pcfExcludingBiogenicUptake`` = ``pcfIncludingBiogenicUptake`` = ``fossilGhgEmissions`` = WTW
  (transport takes up no biogenic CO2);
- ``fossilCarbonContent`` ``0``: it is the kgC contained in the product, and a transport service
  contains none (v2 copies the emissions only because the iLEAP mapping says so);
- ``productClassifications`` ``urn:cpc:83117``; ``primaryDataShare`` and
  ``exemptedEmissionsPercent`` as decimal strings; no ``version``, ``updated`` or
  ``productCategoryCpc`` (removed in v3);
- the same extension object; productIds keep the iLEAP URN, plus
  ``urn:pact:<pact_domain>:supplier-id:<kind>:<id>`` (``buyer-id`` when buyer-assigned) when the
  config names a domain.

Footprint ids are UUIDs in v4 layout derived from the content (issuer, product id, numbers,
payload): the same footprint exported twice keeps its id, and any change gives a new one, which is
what both PACT lifecycles expect of a changed footprint.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from .config import ExchangeConfig
from .decimals import decimal_string
from .ileap import BuiltCategory, BuiltShipment
from .models import ILEAP_DOCUMENTATION

CPC_LOGISTICS = "83117"
EXTENSION_SPEC_VERSION = "2.0.0"  # the Data Model Extensions spec version
DATA_SCHEMAS = {
    "shipment": "https://api.ileap.sine.dev/shipment-footprint.json",
    "toc": "https://api.ileap.sine.dev/toc.json",
    "hoc": "https://api.ileap.sine.dev/hoc.json",
}
# Characters left as they are in URN ids; others (#, &, +, space, …) are percent-encoded so that
# the ids survive the conformance tools' unencoded query strings.
URN_SAFE = "-._~:@!$'()*,;="


@dataclass
class Declaration:
    """What one ProductFootprint declares, independent of the PACT version."""

    kind: str  # shipment | toc | hoc
    ident: str
    payload: dict[str, Any]
    declared_unit: str  # "ton kilometer" | "kilogram"
    amount: str
    mass_per_declared_unit: str  # PACT 2.3 (iLEAP mapping)
    mass_per_declared_unit_v3: str
    co2e_wtw: str  # kg CO2e per `amount` declared units
    primary_data_share: float  # percent
    secondary_sources: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    period: tuple[datetime, datetime] | None = None  # reference period: start inclusive, end exclusive


def days(first, last) -> tuple[datetime, datetime]:
    """The reference period covering the dates ``first`` to ``last``: from the start of ``first``
    (inclusive) to the start of the day after ``last`` (exclusive), UTC."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return start, datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)


def shipment_declaration(shipment: BuiltShipment, period: tuple[datetime, datetime] | None = None) -> Declaration:
    notes = []
    if shipment.ttw_as_wtw:
        notes.append(f"co2eTTW of TCE {', '.join(shipment.ttw_as_wtw)} is the WTW value: the factor used gives no TTW split.")
    if shipment.adjusted:
        notes.append(f"co2eWTW and co2eTTW include a distance adjustment factor (GLEC Framework v3.0, p.26) where the "
                     f"distance is not the one the intensity rests on: TCE {'; '.join(shipment.adjusted)} "
                     "(co2e = transportActivity x intensity x DAF).")
    return Declaration(
        kind="shipment",
        ident=shipment.shipment_id,
        payload=shipment.payload,
        declared_unit="ton kilometer",
        amount=decimal_string(shipment.tkm),
        mass_per_declared_unit=shipment.payload["mass"],
        mass_per_declared_unit_v3="0",
        co2e_wtw=decimal_string(shipment.co2e_wtw_kg),
        primary_data_share=shipment.primary_data_share * 100,
        secondary_sources=shipment.secondary_sources,
        notes=notes,
        period=period,
    )


def category_declaration(category: BuiltCategory, config: ExchangeConfig,
                         period: tuple[datetime, datetime] | None = None) -> Declaration:
    per_teu = category.activity_unit in ("TEUkm", "TEU")
    if category.kind == "toc":
        unit, amount = "ton kilometer", config.tonnes_per_teu if per_teu else 1.0
        mass, mass_v3 = decimal_string(1.0), "0"
    else:
        unit, amount = "kilogram", (config.tonnes_per_teu if per_teu else 1.0) * 1000
        mass = mass_v3 = decimal_string(amount)
    notes = []
    if per_teu:
        notes.append(f"Intensity per {category.activity_unit}, declared per {decimal_string(amount)} {unit}s at "
                     f"{decimal_string(config.tonnes_per_teu)} t per TEU.")
    if category.ttw_as_wtw:
        notes.append("co2eIntensityTTW is the WTW value: the factor used gives no TTW split.")
    return Declaration(
        kind=category.kind,
        ident=category.ident,
        payload=category.payload,
        declared_unit=unit,
        amount=decimal_string(amount),
        mass_per_declared_unit=mass,
        mass_per_declared_unit_v3=mass_v3,
        co2e_wtw=category.payload["co2eIntensityWTW"],
        primary_data_share=100.0 if category.primary else 0.0,
        secondary_sources=[category.source] if category.source else [],
        notes=notes,
        period=period,
    )


def product_urn(kind: str, ident: str, config: ExchangeConfig) -> str:
    return f"urn:pathfinder:product:customcode:{config.ids_assigned_by}-assigned:{kind}:{quote(ident, safe=URN_SAFE)}"


def pact_urn(kind: str, ident: str, config: ExchangeConfig) -> str | None:
    if not config.pact_domain:
        return None
    party = "supplier-id" if config.ids_assigned_by == "vendor" else "buyer-id"
    return f"urn:pact:{config.pact_domain}:{party}:{kind}:{quote(ident, safe=URN_SAFE)}"


def footprint_id(*content: Any) -> str:
    # repr of the plain dicts/lists/strings built here is deterministic (insertion-ordered)
    digest = hashlib.sha256(repr(content).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _texts(decl: Declaration) -> tuple[str, str]:
    if decl.kind == "shipment":
        n = len(decl.payload["tces"])
        return (f"Shipment {decl.ident}",
                f"Transport emissions (well-to-wheel, ISO 14083) of shipment {decl.ident}: {n} transport chain elements, "
                f"kg CO2e for the shipment's {decl.amount} t·km")
    name = "Transport operation category" if decl.kind == "toc" else "Hub operation category"
    return (f"{name} {decl.ident}",
            f"{name} {decl.ident}: well-to-wheel emission intensity, kg CO2e per {decl.amount} {decl.declared_unit}")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FootprintWriter:
    """ProductFootprints for one publisher: what the config fixes is worked out once, not per
    footprint."""

    def __init__(self, config: ExchangeConfig):
        self.config = config
        self.created = _utc(config.created_at())
        self.geography = {k: v for k, v in {
            "geographyCountry": config.geography_country,
            "geographyCountrySubdivision": config.geography_country_subdivision,
            "geographyRegionOrSubregion": config.geography_region_or_subregion,
        }.items() if v is not None}
        self.rules = [r.to_document() for r in config.product_or_sector_specific_rules] or None

    def _period(self, decl: Declaration) -> dict[str, str]:
        period = decl.period or self.config.reference_period()
        if period is None:
            raise ValueError(f"{decl.kind} {decl.ident}: no reference period")
        return {"referencePeriodStart": _utc(period[0]), "referencePeriodEnd": _utc(period[1])}

    def _comment(self, decl: Declaration) -> str:
        return " ".join(t for t in (self.config.comment, *decl.notes) if t)

    @staticmethod
    def _extension(decl: Declaration) -> dict[str, Any]:
        return {
            "specVersion": EXTENSION_SPEC_VERSION,
            "dataSchema": DATA_SCHEMAS[decl.kind],
            "documentation": ILEAP_DOCUMENTATION,
            "data": decl.payload,
        }

    @staticmethod
    def _sources(decl: Declaration) -> list[dict[str, str]] | None:
        return [{"name": n, "version": v} for n, v in decl.secondary_sources] or None

    def v2(self, decl: Declaration) -> dict[str, Any]:
        """PACT v2.3 ProductFootprint (the iLEAP v1.0.0 mapping)."""
        config = self.config
        urn = product_urn(decl.kind, decl.ident, config)
        name, description = _texts(decl)
        pcf = {
            "declaredUnit": decl.declared_unit,
            "unitaryProductAmount": decl.amount,
            "productMassPerDeclaredUnit": decl.mass_per_declared_unit,
            "pCfExcludingBiogenic": decl.co2e_wtw,
            "fossilGhgEmissions": decl.co2e_wtw,
            "fossilCarbonContent": decl.co2e_wtw,
            "biogenicCarbonContent": "0",
            "characterizationFactors": config.characterization_factors_v2(),
            "ipccCharacterizationFactorsSources": config.ipcc_characterization_factors,
            "crossSectoralStandardsUsed": config.cross_sectoral_standards_used,
            "crossSectoralStandards": config.cross_sectoral_standards,
            "productOrSectorSpecificRules": self.rules,
            "boundaryProcessesDescription": config.boundary_processes_description,
            **self._period(decl),
            **self.geography,
            "secondaryEmissionFactorSources": self._sources(decl),
            "exemptedEmissionsPercent": config.exempted_emissions_percent,
            "exemptedEmissionsDescription": config.exempted_emissions_description,
            "packagingEmissionsIncluded": False,
            "primaryDataShare": float(decimal_string(decl.primary_data_share)),
        }
        pcf = {k: v for k, v in pcf.items() if v is not None}
        return {
            "id": footprint_id("pact-v2", config.company_ids, urn, pcf, decl.payload),
            "specVersion": config.spec_version_v2,
            "version": 0,
            "created": self.created,
            "status": "Active",
            "companyName": config.company_name,
            "companyIds": config.company_ids,
            "productDescription": description,
            "productIds": [urn],
            "productCategoryCpc": CPC_LOGISTICS,
            "productNameCompany": name,
            "comment": self._comment(decl),
            "pcf": pcf,
            "extensions": [self._extension(decl)],
        }

    def v3(self, decl: Declaration) -> dict[str, Any]:
        """PACT v3.0 ProductFootprint (our mapping, see the module docstring)."""
        config = self.config
        urn = product_urn(decl.kind, decl.ident, config)
        name, description = _texts(decl)
        pcf = {
            "declaredUnitOfMeasurement": decl.declared_unit,
            "declaredUnitAmount": decl.amount,
            "productMassPerDeclaredUnit": decl.mass_per_declared_unit_v3,
            **self._period(decl),
            **self.geography,
            "boundaryProcessesDescription": config.boundary_processes_description,
            "pcfExcludingBiogenicUptake": decl.co2e_wtw,
            "pcfIncludingBiogenicUptake": decl.co2e_wtw,
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0",
            "fossilGhgEmissions": decl.co2e_wtw,
            "packagingEmissionsIncluded": False,
            "ipccCharacterizationFactors": config.ipcc_characterization_factors,
            "crossSectoralStandards": config.cross_sectoral_standards,
            "productOrSectorSpecificRules": self.rules,
            "exemptedEmissionsPercent": decimal_string(config.exempted_emissions_percent),
            "exemptedEmissionsDescription": config.exempted_emissions_description or None,
            "secondaryEmissionFactorSources": self._sources(decl),
            "primaryDataShare": decimal_string(decl.primary_data_share),
        }
        pcf = {k: v for k, v in pcf.items() if v is not None}
        product_ids = [urn] + [u for u in (pact_urn(decl.kind, decl.ident, config),) if u]
        return {
            "id": footprint_id("pact-v3", config.company_ids, product_ids, pcf, decl.payload),
            "specVersion": config.spec_version_v3,
            "created": self.created,
            "status": "Active",
            "companyName": config.company_name,
            "companyIds": config.company_ids,
            "productDescription": description,
            "productIds": product_ids,
            "productClassifications": [f"urn:cpc:{CPC_LOGISTICS}"],
            "productNameCompany": name,
            "comment": self._comment(decl),
            "pcf": pcf,
            "extensions": [self._extension(decl)],
        }
