"""Typed models of the exchanged documents: iLEAP v1.0.0 (ShipmentFootprint, TCE, TOC, HOC, TAD)
and PACT ProductFootprint v2.x and v3.0.

Field names are the standards' own (camelCase), so a document and its model read the same.
Quantities are ``Decimal`` read from, and written back as, decimal strings; timestamps stay the
strings they were (checked to be ISO 8601 with a zone) so that a document round-trips unchanged.
Unknown properties are kept (``extra="allow"``): PACT receivers must accept what they do not know;
``logistics.exchange.validate`` is the strict reader.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from .decimals import DECIMAL_PATTERN


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and DECIMAL_PATTERN.match(value.lstrip("+")):
        return Decimal(value)
    raise ValueError(f"{value!r} is not a decimal string such as \"12.5\"")


def _timestamp(value: object) -> str:
    if isinstance(value, datetime):
        value = value.isoformat().replace("+00:00", "Z")
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time such as \"2025-01-01T00:00:00Z\"")
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError(f"{value!r} has no time zone (write Z for UTC)")
    return value


DecimalStr = Annotated[Decimal, BeforeValidator(_decimal), PlainSerializer(lambda d: format(d, "f"), return_type=str)]
Timestamp = Annotated[str, BeforeValidator(_timestamp)]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_document(self) -> dict[str, Any]:
        """The JSON object: absent optional fields are left out, never written as null."""
        return self.model_dump(mode="json", exclude_none=True)


# ----------------------------------------------------------------------------------------------
# iLEAP v1.0.0 (SINE / Smart Freight Centre), utility types

TransportMode = Literal["Road", "Rail", "Air", "Sea", "InlandWaterway"]
PackagingOrTrEqType = Literal["Box", "Pallet", "Container-TEU", "Container-FEU", "Container"]
TemperatureControl = Literal["ambient", "refrigerated", "mixed"]


class GLECDistance(Model):
    actual: DecimalStr | None = None
    gcd: DecimalStr | None = None
    sfd: DecimalStr | None = None

    @model_validator(mode="after")
    def _one_given(self) -> GLECDistance:
        if self.actual is None and self.gcd is None and self.sfd is None:
            raise ValueError("a GLECDistance needs at least one of actual, gcd, sfd")
        return self


class Location(Model):
    street: str | None = None
    zip: str | None = None
    city: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    iata: str | None = None
    locode: str | None = None
    uic: str | None = None
    lat: DecimalStr | None = None
    lng: DecimalStr | None = None


class Feedstock(Model):
    feedstock: str  # Fossil, Natural gas, Grid, Renewable electricity, Cooking oil (open list)
    feedstockShare: DecimalStr | None = None
    regionProvenance: str | None = None


class EnergyCarrier(Model):
    energyCarrier: str  # Diesel, HVO, Petrol, CNG, LNG, LPG, HFO, MGO, Aviation fuel, ... (open list)
    feedstocks: list[Feedstock] | None = None
    energyConsumption: DecimalStr | None = None
    energyConsumptionUnit: Literal["l", "kg", "kWh", "MJ"] | None = None
    emissionFactorWTW: DecimalStr
    emissionFactorTTW: DecimalStr
    relativeShare: DecimalStr


class TCE(Model):
    tceId: str
    prevTceIds: list[str] | None = None
    tocId: str | None = None
    hocId: str | None = None
    shipmentId: str
    consignmentId: str | None = None
    mass: DecimalStr
    packagingOrTrEqType: PackagingOrTrEqType | None = None
    packagingOrTrEqAmount: DecimalStr | None = None
    distance: GLECDistance
    origin: Location | None = None
    destination: Location | None = None
    transportActivity: DecimalStr
    departureAt: Timestamp | None = None
    arrivalAt: Timestamp | None = None
    flightNo: str | None = None
    voyageNo: str | None = None
    incoterms: Literal["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"] | None = None
    co2eWTW: DecimalStr
    co2eTTW: DecimalStr
    noxTTW: DecimalStr | None = None
    soxTTW: DecimalStr | None = None
    ch4TTW: DecimalStr | None = None
    pmTTW: DecimalStr | None = None


class ShipmentFootprint(Model):
    mass: DecimalStr
    volume: DecimalStr | None = None
    shipmentId: str
    tces: list[TCE] = Field(min_length=1)


class TOC(Model):
    tocId: str
    certifications: list[str] | None = None
    description: str | None = None
    mode: TransportMode
    loadFactor: DecimalStr | None = None
    emptyDistanceFactor: DecimalStr | None = None
    temperatureControl: TemperatureControl | None = None
    truckLoadingSequence: Literal["LTL", "FTL"] | None = None
    airShippingOption: Literal["belly freight", "freighter"] | None = None
    flightLength: Literal["short-haul", "long-haul"] | None = None
    energyCarriers: list[EnergyCarrier] = Field(min_length=1)
    co2eIntensityWTW: DecimalStr
    co2eIntensityTTW: DecimalStr
    transportActivityUnit: str  # tkm | TEUkm


class HOC(Model):
    hocId: str
    description: str | None = None
    certifications: list[str] | None = None
    hubType: Literal["Transshipment", "StorageAndTransshipment", "Warehouse", "LiquidBulkTerminal", "MaritimeContainerTerminal"]
    temperatureControl: TemperatureControl | None = None
    hubLocation: Location | None = None
    inboundTransportMode: TransportMode | None = None
    outboundTransportMode: TransportMode | None = None
    packagingOrTrEqType: PackagingOrTrEqType | None = None
    packagingOrTrEqAmount: int | None = Field(None, ge=0)
    energyCarriers: list[EnergyCarrier] = Field(min_length=1)
    co2eIntensityWTW: DecimalStr
    co2eIntensityTTW: DecimalStr
    hubActivityUnit: str  # tonnes | TEU


class TAD(Model):
    activityId: str = Field(min_length=1)
    consignmentIds: list[str] = Field(min_length=1)
    distance: GLECDistance
    mass: DecimalStr | None = None
    loadFactor: DecimalStr | None = None
    emptyDistanceFactor: DecimalStr | None = None
    origin: Location
    destination: Location
    departureAt: Timestamp
    arrivalAt: Timestamp
    mode: TransportMode
    packagingOrTrEqType: PackagingOrTrEqType | None = None
    packagingOrTrEqAmount: int | None = Field(None, ge=0)
    energyCarriers: list[EnergyCarrier] | None = None
    temperatureControl: Literal["ambient", "refrigerated"] | None = None


# The iLEAP `dataSchema` URLs (iLEAP v1.0.0 §PACT Integration) and the type each one carries.
ILEAP_DATA_SCHEMAS: dict[str, type[Model]] = {
    "https://api.ileap.sine.dev/shipment-footprint.json": ShipmentFootprint,
    "https://api.ileap.sine.dev/toc.json": TOC,
    "https://api.ileap.sine.dev/hoc.json": HOC,
}
ILEAP_DOCUMENTATION = "https://sine-fdn.github.io/ileap-extension/"


# ----------------------------------------------------------------------------------------------
# PACT (WBCSD) ProductFootprint


class ProductOrSectorSpecificRule(Model):
    operator: Literal["PEF", "EPD International", "Other"]
    ruleNames: list[str] = Field(min_length=1)
    otherOperatorName: str | None = None


class EmissionFactorSource(Model):
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)


class DataModelExtension(Model):
    specVersion: str
    dataSchema: str
    documentation: str | None = None
    data: Any

    @model_validator(mode="after")
    def _typed_data(self) -> DataModelExtension:
        kind = ILEAP_DATA_SCHEMAS.get(self.dataSchema)
        if kind is not None and isinstance(self.data, dict):
            self.data = kind.model_validate(self.data)
        return self


class DataQualityIndicatorsV2(Model):
    coveragePercent: float
    technologicalDQR: float
    temporalDQR: float
    geographicalDQR: float
    completenessDQR: float
    reliabilityDQR: float


class CarbonFootprintV2(Model):
    declaredUnit: str
    unitaryProductAmount: DecimalStr
    productMassPerDeclaredUnit: DecimalStr | None = None
    pCfExcludingBiogenic: DecimalStr
    pCfIncludingBiogenic: DecimalStr | None = None
    fossilGhgEmissions: DecimalStr
    fossilCarbonContent: DecimalStr
    biogenicCarbonContent: DecimalStr
    dLucGhgEmissions: DecimalStr | None = None
    landManagementGhgEmissions: DecimalStr | None = None
    otherBiogenicGhgEmissions: DecimalStr | None = None
    iLucGhgEmissions: DecimalStr | None = None
    biogenicCarbonWithdrawal: DecimalStr | None = None
    aircraftGhgEmissions: DecimalStr | None = None
    characterizationFactors: Literal["AR6", "AR5"]
    ipccCharacterizationFactorsSources: list[str] = Field(min_length=1)
    crossSectoralStandardsUsed: list[str] = Field(min_length=1)
    crossSectoralStandards: list[str] | None = None
    productOrSectorSpecificRules: list[ProductOrSectorSpecificRule] | None = None
    biogenicAccountingMethodology: str | None = None
    boundaryProcessesDescription: str
    referencePeriodStart: Timestamp
    referencePeriodEnd: Timestamp
    geographyRegionOrSubregion: str | None = None
    geographyCountry: str | None = None
    geographyCountrySubdivision: str | None = None
    secondaryEmissionFactorSources: list[EmissionFactorSource] | None = None
    exemptedEmissionsPercent: float
    exemptedEmissionsDescription: str
    packagingEmissionsIncluded: bool
    packagingGhgEmissions: DecimalStr | None = None
    allocationRulesDescription: str | None = None
    uncertaintyAssessmentDescription: str | None = None
    primaryDataShare: float | None = None
    dqi: DataQualityIndicatorsV2 | None = None
    assurance: dict[str, Any] | None = None


class ProductFootprintV2(Model):
    id: str
    specVersion: str
    precedingPfIds: list[str] | None = None
    version: int = Field(ge=0)
    created: Timestamp
    updated: Timestamp | None = None
    status: Literal["Active", "Deprecated"]
    statusComment: str | None = None
    validityPeriodStart: Timestamp | None = None
    validityPeriodEnd: Timestamp | None = None
    companyName: str = Field(min_length=1)
    companyIds: list[str] = Field(min_length=1)
    productDescription: str
    productIds: list[str] = Field(min_length=1)
    productClassifications: list[str] | None = None
    productCategoryCpc: str = Field(min_length=1)
    productNameCompany: str = Field(min_length=1)
    comment: str
    pcf: CarbonFootprintV2
    extensions: list[DataModelExtension] | None = None


class DataQualityIndicatorsV3(Model):
    technologicalDQR: DecimalStr
    geographicalDQR: DecimalStr
    temporalDQR: DecimalStr


class CarbonFootprintV3(Model):
    declaredUnitOfMeasurement: str
    declaredUnitAmount: DecimalStr
    productMassPerDeclaredUnit: DecimalStr
    referencePeriodStart: Timestamp
    referencePeriodEnd: Timestamp
    geographyRegionOrSubregion: str | None = None
    geographyCountry: str | None = None
    geographyCountrySubdivision: str | None = None
    boundaryProcessesDescription: str | None = None
    pcfExcludingBiogenicUptake: DecimalStr
    pcfIncludingBiogenicUptake: DecimalStr
    fossilCarbonContent: DecimalStr
    biogenicCarbonContent: DecimalStr | None = None
    recycledCarbonContent: DecimalStr | None = None
    fossilGhgEmissions: DecimalStr
    landUseChangeGhgEmissions: DecimalStr | None = None
    landCarbonLeakage: DecimalStr | None = None
    landManagementFossilGhgEmissions: DecimalStr | None = None
    landManagementBiogenicCO2Emissions: DecimalStr | None = None
    landManagementBiogenicCO2Removals: DecimalStr | None = None
    biogenicCO2Uptake: DecimalStr | None = None
    biogenicNonCO2Emissions: DecimalStr | None = None
    landAreaOccupation: DecimalStr | None = None
    aircraftGhgEmissions: DecimalStr | None = None
    packagingEmissionsIncluded: bool | None = None
    packagingGhgEmissions: DecimalStr | None = None
    packagingBiogenicCarbonContent: DecimalStr | None = None
    outboundLogisticsGhgEmissions: DecimalStr | None = None
    ccsTechnologicalCO2CaptureIncluded: bool | None = None
    ccsTechnologicalCO2Capture: DecimalStr | None = None
    technologicalCO2CaptureOrigin: str | None = None
    technologicalCO2Removals: DecimalStr | None = None
    ccuCarbonContent: DecimalStr | None = None
    ccuCalculationApproach: Literal["Cut-off", "Credit"] | None = None
    ccuCreditCertification: str | None = None
    ipccCharacterizationFactors: list[str] = Field(min_length=1)
    crossSectoralStandards: list[str] = Field(min_length=1)
    productOrSectorSpecificRules: list[ProductOrSectorSpecificRule] | None = None
    exemptedEmissionsPercent: DecimalStr
    exemptedEmissionsDescription: str | None = None
    allocationRulesDescription: str | None = None
    secondaryEmissionFactorSources: list[EmissionFactorSource] | None = None
    primaryDataShare: DecimalStr | None = None
    dqi: DataQualityIndicatorsV3 | None = None
    verification: dict[str, Any] | None = None


class ProductFootprintV3(Model):
    id: str
    specVersion: str
    precedingPfIds: list[str] | None = None
    created: Timestamp
    status: Literal["Active", "Deprecated"]
    validityPeriodStart: Timestamp | None = None
    validityPeriodEnd: Timestamp | None = None
    companyName: str = Field(min_length=1)
    companyIds: list[str] = Field(min_length=1)
    productDescription: str
    productIds: list[str] = Field(min_length=1)
    productClassifications: list[str] | None = None
    productNameCompany: str = Field(min_length=1)
    comment: str | None = None
    pcf: CarbonFootprintV3
    extensions: list[DataModelExtension] | None = None


ProductFootprint = ProductFootprintV2 | ProductFootprintV3
IleapDocument = ShipmentFootprint | TOC | HOC | TAD
