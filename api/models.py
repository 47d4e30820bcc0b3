"""Request and response models of the /v1 API. Shipments and legs are the library's own models
(``logistics.Shipment`` / ``logistics.Leg``); these add the batch envelope and the results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from logistics import Shipment
from logistics.io import round_figure

# A computed figure, rounded for people in the JSON (logistics.io.DEFAULT_PRECISION significant digits).
Figure = Annotated[float | None, PlainSerializer(round_figure, return_type=float | None, when_used="json")]

ExchangeFormat = Literal["ileap", "pact-v2", "pact-v3"]


class ShipmentBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The count limit is the service's setting, checked by the endpoint (413 with the limit).
    shipments: list[Shipment] = Field(min_length=1)


class LegEmissions(BaseModel):
    """One transport chain element as computed, with the provenance of every number."""

    leg_id: str | None
    leg_seq: int | None
    mode: str | None
    distance_km: Figure = Field(description="the transport-activity distance")
    distance_type: str | None = Field(description="actual | sfd | gcd")
    distance_source: str | None
    daf: Figure = Field(description="distance adjustment factor applied to the emissions")
    emissions_distance_km: Figure = Field(description="distance_km × daf: the distance the emissions rest on")
    tkm: Figure = Field(description="mass × distance_km (before any DAF)")
    method: str | None = Field(description="activity | toc | fuel | hub")
    data_type: str | None = Field(description="primary | modelled | default")
    factor_id: str | None
    factor_pack: str | None
    factor_source: str | None
    factor_source_page: str | None
    fuel_factor_id: str | None
    adjustment_ids: str | None
    assumptions: str | None
    co2e_ttw_kg: Figure
    co2e_wtt_kg: Figure
    co2e_wtw_kg: Figure
    intensity_wtw_g_per_tkm: Figure = Field(description="co2e_wtw_kg per tkm, in g")
    error_code: str | None = Field(description="<column>.<reason> of the first error; null when computed")
    error: str | None = Field(description="why this leg could not be computed; null when it was")


class ShipmentEmissions(BaseModel):
    shipment_id: str
    complete: bool = Field(description="false when a leg could not be computed: totals then cover the others only")
    mass_kg: Figure
    tkm: Figure
    co2e_ttw_kg: Figure
    co2e_wtt_kg: Figure
    co2e_wtw_kg: Figure
    intensity_wtw_g_per_tkm: Figure
    primary_data_share: Figure = Field(description="share (0..1) of WTW from primary data")
    legs: list[LegEmissions]


LEG_FIELDS = tuple(LegEmissions.model_fields)
# Response fields named otherwise in the library's results (with provenance joined)
LEG_FIELD_SOURCES = {"factor_source": "source", "factor_source_page": "source_page"}
SHIPMENT_FIELDS = tuple(f for f in ShipmentEmissions.model_fields if f != "legs")


class EmissionsResponse(BaseModel):
    data: list[ShipmentEmissions]


class ExchangeResponse(BaseModel):
    """Exchange documents of the computed shipments (and of the TOCs/HOCs they use), and what could
    not be built."""

    data: list[dict[str, Any]]
    problems: list[str] = []


class JobCounts(BaseModel):
    rows_read: int | None = None
    computed: int | None = None
    rejected: int | None = None
    shipments: int | None = None
    footprints_new: int | None = None
    footprints: int | None = None
    tads: int | None = None


class Job(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    filename: str
    sha256: str
    share_with: list[str]
    attempts: int
    rows_done: int
    rows_total: int | None
    counts: JobCounts | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    links: dict[str, str] = {}
    own_tables: dict[str, str] = Field({}, description="the own TOC / HOC tables the job runs with (kind -> file)")


class OwnTable(BaseModel):
    """A carrier's own TOC or HOC table, as registered."""

    kind: Literal["tocs", "hocs"]
    filename: str
    sha256: str
    rows: int
    registered: datetime


class OwnTables(BaseModel):
    tocs: OwnTable | None = None
    hocs: OwnTable | None = None
