"""iLEAP v1.0.0 payloads from engine results: ShipmentFootprint (with its TCEs), TOC, HOC, TAD.

Mapping (iLEAP Technical Specifications v1.0.0, SINE Foundation and Smart Freight Centre, 2025-05-27;
section "Data Model": ShipmentFootprint, TCE, TOC, HOC, TAD):

- one ShipmentFootprint per shipment; one TCE per leg or hub, in ``leg_seq`` order, each naming the
  one before it in ``prevTceIds`` (``[]`` for the first);
- ``TCE.transportActivity`` = the engine's ``tkm`` (= mass_t × distance_km, before any DAF), hubs
  ``0`` with ``distance.actual = 0`` (hubs have zero distance, GLEC Framework v3.0 p.22);
- ``TCE.distance`` carries the distance under its type (actual / sfd / gcd); ``co2eWTW`` /
  ``co2eTTW`` are the leg's kg CO2e including its DAF;
- ``tocId`` names the TOC the leg used: the factor row's id; ``<id>~<adjustment ids>`` when the
  pack derived the intensity with adjustments (e.g. Asia road = Europe road × 1.22), since that is
  a different intensity; ``measured~<leg_id>`` for a leg computed from its own measured fuel (it
  is its own, primary, operation category). Hubs name the HOC row in ``hocId``.

The TOC/HOC payloads are built from the factor rows (``tocs``/``hocs`` tables of the pack or the
carrier's own, ``logistics.factors.SCHEMAS``). iLEAP requires each to list its energy carriers with
their emission factors: ``ExchangeConfig.energy_carriers[<id>]`` when the publisher states them,
else the row's ``energy_carriers`` (the mix the intensity assumes, which every default row of the
shipped packs names, citing its page) or its single ``energy_carrier`` descriptor, each with its
factor from the ``fuels`` table; else the document cannot be built (said so, never guessed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ..factors import energy_mix
from .config import ExchangeConfig
from .decimals import decimal_expr, decimal_string
from .models import HOC, TOC

MODES = {"road": "Road", "rail": "Rail", "sea": "Sea", "inland_waterway": "InlandWaterway", "air": "Air"}
HUB_TYPES = {
    "transshipment": "Transshipment",
    "storage_transshipment": "StorageAndTransshipment",
    "warehouse": "Warehouse",
    "liquid_bulk_terminal": "LiquidBulkTerminal",
    "maritime_container_terminal": "MaritimeContainerTerminal",
}
# Pack energy carrier ids -> iLEAP EnergyCarrier values. Blends and bio variants map to the base
# carrier; their own emission factors travel with them. Carriers iLEAP has no value for (ethanol,
# biodiesel, natural gas, light fuel oil, ...) need ExchangeConfig.energy_carriers.
ENERGY_CARRIERS = {
    "diesel": "Diesel",
    **{f"diesel_b{n}": "Diesel" for n in (1, 2, 5, 7, 10, 20, 50)},
    "hvo": "HVO",
    "gasoline": "Petrol",
    "petrol": "Petrol",
    "cng": "CNG",
    "bio_cng": "CNG",
    "lng": "LNG",
    "bio_lng": "LNG",
    "lng_ship_medium_speed": "LNG",
    "lng_ship_slow_speed": "LNG",
    "lpg": "LPG",
    "hfo": "HFO",
    "vlsfo": "HFO",
    "ulsfo": "HFO",
    "mgo": "MGO",
    "mdo": "MGO",
    "jet_kerosene": "Aviation fuel",
    "hydrogen": "Hydrogen",
    "methanol": "Methanol",
    "electricity": "Electric",
}
FLIGHT_LENGTHS = {"short_haul": "short-haul", "long_haul": "long-haul"}
AIR_SHIPPING_OPTIONS = {"freighter": "freighter", "belly": "belly freight"}
FUEL_UNIT_PREFERENCE = ("kg", "l", "kWh", "MJ")
# Optional pass-through leg columns -> TCE fields.
TCE_PASSTHROUGH = {"consignment_id": "consignmentId", "flight_no": "flightNo", "voyage_no": "voyageNo", "incoterms": "incoterms"}


class ExchangeError(ValueError):
    """A document that cannot be built; the message says which and why."""


@dataclass
class BuiltShipment:
    """A ShipmentFootprint payload and the totals its ProductFootprint declares."""

    shipment_id: str
    payload: dict[str, Any]
    tkm: float
    co2e_wtw_kg: float
    primary_data_share: float  # 0..1 of WTW
    toc_ids: list[str]
    hoc_ids: list[str]
    ttw_as_wtw: list[str] = field(default_factory=list)  # TCE ids whose TTW is reported as WTW
    secondary_sources: list[tuple[str, str]] = field(default_factory=list)
    first_date: date | None = None  # the legs' dates (``leg_dates``)
    last_date: date | None = None
    date_error: str | None = None
    adjusted: list[str] = field(default_factory=list)  # "<TCE id>: <distance type> x DAF <daf>" where DAF != 1


def _without_nulls(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def drop_nulls(value: Any) -> Any:
    """Absent, not null: iLEAP/PACT receivers reject ``null`` for optional fields."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) if isinstance(v, (dict, list)) else v for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Locations: per distinct place code, then joined (iLEAP Location needs city and country).

_UNLOCODE = Path(__file__).resolve().parent.parent / "data" / "unlocode.parquet"
_LOCATION_SCHEMA = {"code": pl.String, "city": pl.String, "country": pl.String, "iata": pl.String,
                    "locode": pl.String, "lat": pl.Float64, "lng": pl.Float64}


def places(codes: pl.Series) -> pl.DataFrame:
    """City, country and coordinates of IATA airport codes (airportsdata) and UN/LOCODEs (the
    project's UN/LOCODE table), one row per distinct code that resolves."""
    distinct = codes.drop_nulls().str.strip_chars().str.to_uppercase().unique()
    found = []
    iata = distinct.filter(distinct.str.contains(r"^[A-Z]{3}$"))
    if iata.len():
        import airportsdata

        airports = airportsdata.load("IATA")
        rows = [airports[c] for c in iata.to_list() if c in airports]
        found.append(pl.DataFrame(
            {"code": [r["iata"] for r in rows], "city": [r["city"] for r in rows], "country": [r["country"] for r in rows],
             "iata": [r["iata"] for r in rows], "locode": [None] * len(rows),
             "lat": [float(r["lat"]) for r in rows], "lng": [float(r["lon"]) for r in rows]},
            schema=_LOCATION_SCHEMA,
        ))
    locodes = distinct.filter(distinct.str.replace(" ", "").str.contains(r"^[A-Z]{2}[A-Z2-9]{3}$"))
    if locodes.len() and _UNLOCODE.exists():
        table = (
            pl.scan_parquet(_UNLOCODE)
            .filter(pl.col("locode").is_in(locodes.str.replace(" ", "").to_list()))
            .select(pl.col("locode").alias("code"), pl.col("name").alias("city"), "country", "iata", "locode",
                    "lat", pl.col("lon").alias("lng"))
            .collect()
        )
        found.append(table.select((pl.col(c).cast(t) for c, t in _LOCATION_SCHEMA.items())))
    return pl.concat(found).unique("code", keep="first") if found else pl.DataFrame(schema=_LOCATION_SCHEMA)


def _location(legs: pl.DataFrame, side: str) -> pl.Expr:
    """The Location struct of ``origin``/``destination``; explicit ``<side>_city`` and
    ``<side>_country`` columns win over the lookup. Null where city or country stays unknown."""
    def given(name: str) -> pl.Expr:
        col = f"{side}_{name}"
        return pl.col(col).cast(pl.String) if col in legs.columns else pl.lit(None, pl.String)

    city = pl.coalesce(given("city"), pl.col(f"_{side}_city"))
    country = pl.coalesce(given("country"), pl.col(f"_{side}_country"))
    struct = pl.struct(
        city=city,
        country=country,
        iata=pl.col(f"_{side}_iata"),
        locode=pl.col(f"_{side}_locode"),
        lat=decimal_expr(pl.col(f"_{side}_lat")),
        lng=decimal_expr(pl.col(f"_{side}_lng")),
    )
    return pl.when(city.is_not_null() & country.is_not_null()).then(struct).alias(side)


def with_locations(legs: pl.DataFrame) -> pl.DataFrame:
    """``legs`` plus ``origin_location`` / ``destination_location`` structs (or null)."""
    code_cols = [c for c in ("origin", "destination") if c in legs.columns]
    table = places(pl.concat([legs[c].cast(pl.String) for c in code_cols])) if code_cols else pl.DataFrame(schema=_LOCATION_SCHEMA)
    out = legs
    for side in ("origin", "destination"):
        renamed = table.rename({c: f"_{side}_{c}" for c in table.columns if c != "code"})
        if side in legs.columns:
            key = pl.col(side).cast(pl.String).str.strip_chars().str.to_uppercase().str.replace(" ", "")
            out = (out.with_columns(_key=key)
                   .join(renamed, left_on="_key", right_on="code", how="left", maintain_order="left").drop("_key"))
        else:
            out = out.with_columns(pl.lit(None, t).alias(f"_{side}_{c}") for c, t in _LOCATION_SCHEMA.items() if c != "code")
        out = out.with_columns(_location(out, side).alias(f"{side}_location"))
        out = out.drop([f"_{side}_{c}" for c in _LOCATION_SCHEMA if c != "code"])
    return out


def timestamps(values: pl.Series) -> pl.Series:
    """ISO 8601 UTC strings (``2025-06-24T15:06:29Z``) from datetimes or text, once per distinct
    text value. Text without a time zone is not guessed: it becomes null."""
    if isinstance(values.dtype, pl.Datetime):
        utc = values.dt.replace_time_zone("UTC") if values.dtype.time_zone is None else values.dt.convert_time_zone("UTC")
        return utc.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ").str.replace(r"\.0*Z$", "Z")

    def one(text: str) -> str | None:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    text = values.cast(pl.String)
    mapping = {v: one(v) for v in text.drop_nulls().unique().to_list()}
    return text.replace_strict(mapping, default=None, return_dtype=pl.String)


def leg_dates(legs: pl.DataFrame) -> pl.DataFrame:
    """``_date`` (the day of each leg) and ``_date_error``: the leg's ``date`` column (an ISO 8601
    date, ``2025-03-14``; a Date or Datetime column as it is), else the UTC date of its
    ``departure_at``; null when neither is given. A ``date`` cell that is not a date is an error
    naming it."""
    if "date" in legs.columns and legs.schema["date"] in (pl.Date, pl.Datetime):
        given = pl.col("date").cast(pl.Date)
        return legs.with_columns(_date=given, _date_error=pl.lit(None, pl.String))
    departure = (
        pl.lit(timestamps(legs["departure_at"])).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        if "departure_at" in legs.columns else pl.lit(None, pl.Date)
    )
    if "date" not in legs.columns:
        return legs.with_columns(_date=departure, _date_error=pl.lit(None, pl.String))
    text = pl.col("date").cast(pl.String).str.strip_chars().replace("", None)
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    return legs.with_columns(
        _date=pl.coalesce(parsed, departure),
        _date_error=pl.when(text.is_not_null() & parsed.is_null())
        .then(pl.format("leg {}: date '{}' is not an ISO 8601 date (YYYY-MM-DD)", "leg_id", text)),
    )


# ----------------------------------------------------------------------------------------------
# ShipmentFootprint


def toc_reference() -> pl.Expr:
    """The tocId a transport leg names (see the module docstring)."""
    adjusted = pl.col("adjustment_ids").is_not_null()
    return (
        pl.when(pl.col("mode") == "hub").then(None)
        .when(pl.col("method") == "fuel").then(pl.lit("measured~") + pl.col("leg_id"))
        .when(adjusted).then(pl.col("factor_id") + "~" + pl.col("adjustment_ids").str.replace_all("+", "~", literal=True))
        .otherwise(pl.col("factor_id"))
    )


def ttw_or_upper_bound(columns) -> pl.Expr:
    """A TCE's TTW for iLEAP, which requires one: the leg's TTW, or its WTW when its factor gives no
    split (an upper bound), plus add-on emissions that have no split (e.g. tank cleaning; iLEAP has
    no field for non-transport emissions, so they are in co2eWTW and, as an upper bound, co2eTTW)."""
    ttw = pl.coalesce("co2e_ttw_kg", "co2e_wtw_kg")
    if "addon_co2e_wtw_kg" in columns:
        unsplit = pl.col("co2e_ttw_kg").is_not_null() & pl.col("addon_co2e_ttw_kg").is_null()
        ttw = ttw + pl.when(unsplit).then(pl.col("addon_co2e_wtw_kg").fill_null(0.0)).otherwise(0.0)
    return ttw


def shipment_footprints(legs: pl.DataFrame, shipments: pl.DataFrame, config: ExchangeConfig) -> list[BuiltShipment]:
    """One ShipmentFootprint per shipment of ``shipments`` (which must all be complete: every leg
    computed). ``legs`` are the engine's result rows of those shipments."""
    is_hub = pl.col("mode") == "hub"
    ttw_missing = pl.col("co2e_ttw_kg").is_null()
    if config.ttw_when_unknown == "error":
        bad = legs.filter(ttw_missing)
        if bad.height:
            raise ExchangeError(
                f"TCE {bad['leg_id'][0]} (shipment {bad['shipment_id'][0]}): its factor gives no TTW emissions; "
                "set ttw_when_unknown = \"wtw\" to report WTW as TTW"
            )
    # Shipments in the order they first appear, each one's TCEs in leg_seq order.
    legs = leg_dates(with_locations(legs.with_row_index("_row"))).sort(pl.col("_row").min().over("shipment_id"), "leg_seq")
    daf = pl.col("daf") if "daf" in legs.columns else pl.lit(None, pl.Float64)
    adjusted = ~is_hub & daf.is_not_null() & (daf != 1)
    teu_given = pl.col("teu").is_not_null() & ~pl.col("assumptions").fill_null("").str.contains("teu=", literal=True)
    distance = decimal_expr(pl.col("distance_km"))
    mass_kg = pl.coalesce("mass_kg", pl.col("mass_t") * 1000)  # the engine derives mass_t from TEU when no mass is given
    # Any: a str -> Expr mapping spread into pl.struct cannot match its overloads' eager= keyword
    passthrough: dict[str, Any] = {field: pl.col(col).cast(pl.String) for col, field in TCE_PASSTHROUGH.items() if col in legs.columns}
    for col, name in (("departure_at", "departureAt"), ("arrival_at", "arrivalAt")):
        if col in legs.columns:
            passthrough[name] = pl.lit(timestamps(legs[col]))
    tce = pl.struct(
        tceId=pl.col("leg_id"),
        prevTceIds=pl.concat_list(pl.col("leg_id").shift(1).over("shipment_id")).list.drop_nulls(),
        tocId=toc_reference(),
        hocId=pl.when(is_hub).then(pl.col("factor_id")),
        shipmentId=pl.col("shipment_id"),
        mass=decimal_expr(mass_kg),
        packagingOrTrEqType=pl.when(teu_given).then(pl.lit("Container-TEU")),
        packagingOrTrEqAmount=pl.when(teu_given).then(decimal_expr(pl.col("teu"))),
        distance=pl.struct(
            actual=pl.when(is_hub).then(pl.lit("0")).when(pl.col("distance_type") == "actual").then(distance),
            gcd=pl.when(~is_hub & (pl.col("distance_type") == "gcd")).then(distance),
            sfd=pl.when(~is_hub & (pl.col("distance_type") == "sfd")).then(distance),
        ),
        origin=pl.col("origin_location"),
        destination=pl.col("destination_location"),
        transportActivity=pl.when(is_hub).then(pl.lit("0")).otherwise(decimal_expr(pl.col("tkm"))),
        co2eWTW=decimal_expr(pl.col("co2e_wtw_kg")),
        co2eTTW=decimal_expr(ttw_or_upper_bound(legs.columns)),
        **passthrough,
    )
    secondary = pl.col("data_type").is_in(["default", "modelled"])
    per_shipment = (
        legs.with_columns(
            _tce=tce,
            _toc=toc_reference(),
            _hoc=pl.when(is_hub).then(pl.col("factor_id")),
            _source=pl.when(secondary).then(pl.struct(
                name=pl.col("factor_source"),
                version=pl.col("factor_pack").str.extract(r"@(.+)$").fill_null(pl.col("factor_pack")),
            )),
        )
        .group_by("shipment_id", maintain_order=True)
        .agg(
            pl.col("_tce").alias("tces"),
            pl.col("tkm").filter(~is_hub).sum().alias("tkm"),
            pl.col("co2e_wtw_kg").sum().alias("wtw"),
            pl.col("co2e_wtw_kg").filter(pl.col("data_type") == "primary").sum().alias("primary_wtw"),
            pl.col("_toc").drop_nulls().unique(maintain_order=True).alias("toc_ids"),
            pl.col("_hoc").drop_nulls().unique(maintain_order=True).alias("hoc_ids"),
            pl.col("leg_id").filter(ttw_missing).alias("ttw_as_wtw"),
            pl.col("_source").drop_nulls().unique(maintain_order=True).alias("sources"),
            mass_kg.filter(~is_hub).max().alias("leg_mass_kg"),
            pl.col("_date").min().alias("first_date"),
            pl.col("_date").max().alias("last_date"),
            pl.col("_date_error").drop_nulls().first().alias("date_error"),
            pl.format("{}: {} x DAF {}", "leg_id", "distance_type", daf.round(6)).filter(adjusted).alias("adjusted"),
        )
        .join(shipments.select("shipment_id", pl.col("mass_kg").alias("shipment_mass_kg")), on="shipment_id", how="left",
              maintain_order="left")
        .with_columns(mass=decimal_expr(pl.coalesce("shipment_mass_kg", "leg_mass_kg")))
    )
    # Polars writes each payload as JSON; reading it back drops the nulls (absent, not null).
    payloads = per_shipment.select(
        pl.struct(mass="mass", shipmentId="shipment_id", tces="tces").struct.json_encode()
    ).to_series()
    built = []
    for row, text in zip(per_shipment.drop("tces").iter_rows(named=True), payloads, strict=True):
        payload = json.loads(text, object_pairs_hook=_without_nulls)
        wtw = row["wtw"] or 0.0
        built.append(BuiltShipment(
            shipment_id=row["shipment_id"],
            payload=payload,
            tkm=row["tkm"] or 0.0,
            co2e_wtw_kg=wtw,
            primary_data_share=(row["primary_wtw"] or 0.0) / wtw if wtw > 0 else 0.0,
            toc_ids=row["toc_ids"],
            hoc_ids=row["hoc_ids"],
            ttw_as_wtw=row["ttw_as_wtw"],
            secondary_sources=sorted({(s["name"], s["version"]) for s in row["sources"] if s["name"] and s["version"]}),
            first_date=row["first_date"],
            last_date=row["last_date"],
            date_error=row["date_error"],
            adjusted=row["adjusted"],
        ))
    return built


# ----------------------------------------------------------------------------------------------
# TOC and HOC


@dataclass
class BuiltCategory:
    """A TOC or HOC payload and what its ProductFootprint declares."""

    kind: str  # "toc" | "hoc"
    ident: str
    payload: dict[str, Any]
    activity_unit: str  # tkm | TEUkm | tonnes | TEU
    primary: bool
    source: tuple[str, str] | None  # secondary emission factor source (name, version)
    ttw_as_wtw: bool


def _single(value: str | None) -> str | None:
    """A descriptor cell naming exactly one value (``EU|SA`` names two)."""
    return value if value and "|" not in value else None


def _fuel_factor(fuels: pl.DataFrame, carrier: str | None, unit: str | None, region: str | None) -> dict | None:
    """The fuel row the engine would use: the row's unit (else kg, l, kWh, MJ in that order) and
    region, else the highest WTW among regions (GLEC Framework v3.0 p.76)."""
    if carrier is None:
        return None
    rows = fuels.filter(pl.col("energy_carrier") == carrier)
    if not rows.height:
        return None
    units = [unit] if unit else [u for u in FUEL_UNIT_PREFERENCE if u in rows["unit"].to_list()]
    if not units:
        return None
    rows = rows.filter(pl.col("unit") == units[0])
    exact = rows.filter(pl.col("fuel_region") == region) if region else rows.clear()
    pick = exact if exact.height else rows.sort("wtw_kg_co2e_per_unit", descending=True)
    return pick.row(0, named=True) if pick.height else None


def row_energy_mix(row: dict) -> list[tuple[str, float]]:
    """The (carrier, share) pairs a TOC/HOC row assumes: its ``energy_carriers``, else its single
    ``energy_carrier`` descriptor, else none."""
    mix = energy_mix(row.get("energy_carriers"))
    single = _single(row.get("energy_carrier"))
    return mix or ([(single, 1.0)] if single else [])


def energy_carriers(
    ident: str, mix: list[tuple[str, float]], fuels: pl.DataFrame, config: ExchangeConfig, *,
    unit: str | None = None, region: str | None = None, consumption: float | None = None,
) -> tuple[list[dict], bool]:
    """The ``energyCarriers`` of a TOC/HOC from the publisher's config, else from ``mix``
    ((carrier, share) pairs) with each carrier's fuel factor; and whether a TTW factor had to be
    reported as WTW. ``unit`` and ``consumption`` (energy per activity) apply to a single carrier."""
    if ident in config.energy_carriers:
        return [c.to_document() for c in config.energy_carriers[ident]], False
    if not mix:
        raise ExchangeError(f"{ident}: cannot list energyCarriers (its factor row names no energy carrier); "
                            f"add energy_carriers.{ident} to the exchange config")
    documents, ttw_guessed = [], False
    for carrier, share in mix:
        name = ENERGY_CARRIERS.get(carrier)
        fuel = _fuel_factor(fuels, carrier, unit if len(mix) == 1 else None, region) if name else None
        if fuel is None:
            why = f"its energy carrier {carrier!r} has no iLEAP equivalent" if not name else f"no fuel factor for {carrier!r}"
            raise ExchangeError(f"{ident}: cannot list energyCarriers ({why}); add energy_carriers.{ident} to the exchange config")
        ttw = fuel["ttw_kg_co2e_per_unit"]
        if ttw is None and config.ttw_when_unknown == "error":
            raise ExchangeError(f"{ident}: fuel factor {fuel['factor_id']} has no TTW value")
        document = {
            "energyCarrier": name,
            "relativeShare": decimal_string(share),
            "emissionFactorWTW": decimal_string(fuel["wtw_kg_co2e_per_unit"]),
            "emissionFactorTTW": decimal_string(ttw if ttw is not None else fuel["wtw_kg_co2e_per_unit"]),
            "energyConsumptionUnit": fuel["unit"],
        }
        if consumption is not None and len(mix) == 1:
            document["energyConsumption"] = decimal_string(consumption)
        documents.append(document)
        ttw_guessed |= ttw is None
    return documents, ttw_guessed


def _intensities(row: dict, per_activity: tuple[str, str], per_teu: tuple[str, str]) -> tuple[float, float | None, str]:
    """(WTW, TTW or None, basis) of a factor row: per activity unit when given, else per TEU."""
    for (wtw, ttw), basis in ((per_activity, "activity"), (per_teu, "teu")):
        if row.get(wtw) is not None:
            return row[wtw], row.get(ttw), basis
    raise ExchangeError(f"{row.get('toc_id') or row.get('hoc_id')}: the factor row has no WTW intensity")


def _description(row: dict, what: str, adjustments: str | None = None) -> str:
    descriptors = ", ".join(f"{k}={row[k]}" for k in ("mode", "vehicle", "energy_carrier", "region", "load_type",
                                                     "temperature_control", "trade_lane", "flight_length", "hub_type")
                            if row.get(k))
    text = f"{what} ({descriptors}); {row.get('data_type')} data: {row.get('source')}"
    if row.get("source_page"):
        text += f", {row['source_page']}"
    if adjustments:
        text += f"; adjusted by {adjustments} (multiplier {row.get('_multiplier'):g})"
    return text


def toc_payload(row: dict, fuels: pl.DataFrame, config: ExchangeConfig, *, pack_version: str | None = None,
                adjustment_ids: str | None = None, multiplier: float = 1.0) -> BuiltCategory:
    """A TOC from a ``tocs`` row (g CO2e per tkm or per TEU-km, or energy per tkm + ``fuels``).
    With ``adjustment_ids`` the TOC is the pack's derived one (intensities × ``multiplier``)."""
    ident = row["toc_id"] if not adjustment_ids else f"{row['toc_id']}~{adjustment_ids.replace('+', '~')}"
    mode = MODES.get(row["mode"])
    if mode is None:
        raise ExchangeError(f"{ident}: mode {row['mode']!r} is not an iLEAP transport mode")
    mix = row_energy_mix(row)
    carrier = _single(row.get("energy_carrier")) or (mix[0][0] if len(mix) == 1 else None)
    region = (row.get("region") or "").split("|")[0] or None
    carriers, ttw_guessed = energy_carriers(
        ident, mix, fuels, config, unit=row.get("energy_unit"), region=region, consumption=row.get("energy_per_tkm"),
    )
    if row.get("wtw_g_co2e_per_tkm") is None and row.get("energy_per_tkm") is not None:
        # Energy-based row: intensity = energy per tkm × the fuel factor the engine uses.
        fuel = _fuel_factor(fuels, carrier, row.get("energy_unit"), region)
        if fuel is None:
            raise ExchangeError(f"{ident}: no fuel factor for {carrier!r} per {row.get('energy_unit')} to turn its energy into CO2e")
        energy_g = row["energy_per_tkm"] * 1000
        ttw_ef = fuel["ttw_kg_co2e_per_unit"]
        wtw, ttw, basis = energy_g * fuel["wtw_kg_co2e_per_unit"], None if ttw_ef is None else energy_g * ttw_ef, "activity"
    else:
        wtw, ttw, basis = _intensities(row, ("wtw_g_co2e_per_tkm", "ttw_g_co2e_per_tkm"),
                                       ("wtw_g_co2e_per_teu_km", "ttw_g_co2e_per_teu_km"))
    if ttw is None and config.ttw_when_unknown == "error":
        raise ExchangeError(f"{ident}: the factor row gives no TTW intensity")
    kg = 1 / 1000 * multiplier  # pack intensities are in g
    load_factor, empty = row.get("load_factor"), row.get("empty_running")
    payload = {
        "tocId": ident,
        "certifications": config.certifications.get(ident) or None,
        "description": _description({**row, "_multiplier": multiplier}, f"Transport operation category {ident}", adjustment_ids),
        "mode": mode,
        "loadFactor": decimal_string(load_factor) if load_factor is not None and 0 < load_factor <= 1 else None,
        "emptyDistanceFactor": decimal_string(empty) if empty is not None and 0 <= empty < 1 else None,
        "temperatureControl": _single(row.get("temperature_control")),
        "airShippingOption": AIR_SHIPPING_OPTIONS.get(row.get("vehicle") or "") if row["mode"] == "air" else None,
        "flightLength": FLIGHT_LENGTHS.get(row.get("flight_length") or ""),
        "energyCarriers": carriers,
        "co2eIntensityWTW": decimal_string(wtw * kg),
        "co2eIntensityTTW": decimal_string((ttw if ttw is not None else wtw) * kg),
        "transportActivityUnit": "tkm" if basis == "activity" else "TEUkm",
    }
    payload = TOC.model_validate(drop_nulls(payload)).to_document()
    return BuiltCategory("toc", ident, payload, payload["transportActivityUnit"], row.get("data_type") == "primary",
                         _source(row, pack_version), ttw is None or ttw_guessed)


def measured_toc_payload(leg: dict, fuels: pl.DataFrame, config: ExchangeConfig) -> BuiltCategory:
    """The one-leg TOC of a leg computed from its own measured fuel: intensity = its emissions /
    its tkm; the energy carrier's factor is the fuel row the engine used."""
    ident = f"measured~{leg['leg_id']}"
    if not leg.get("tkm"):
        raise ExchangeError(f"{ident}: the leg has no transport activity (tkm) to express an intensity")
    fuel = fuels.filter(pl.col("factor_id") == leg.get("fuel_factor_id"))
    if ident in config.energy_carriers:
        carriers, ttw_guessed = energy_carriers(ident, [], fuels, config)
    elif not fuel.height or leg.get("energy_carrier") not in ENERGY_CARRIERS:
        raise ExchangeError(f"{ident}: fuel factor {leg.get('fuel_factor_id')!r} / energy carrier "
                            f"{leg.get('energy_carrier')!r} cannot be listed; add energy_carriers.{ident} to the exchange config")
    else:
        f = fuel.row(0, named=True)
        # energy per tkm = (emissions / factor) / tkm, in the factor's unit
        carriers, ttw_guessed = energy_carriers(ident, [(leg["energy_carrier"], 1.0)], fuel, config, unit=f["unit"],
                                                consumption=leg["co2e_wtw_kg"] / f["wtw_kg_co2e_per_unit"] / leg["tkm"])
    ttw = leg.get("co2e_ttw_kg")
    if ttw is None and config.ttw_when_unknown == "error":
        raise ExchangeError(f"{ident}: the leg has no TTW emissions")
    mode = MODES.get(leg["mode"])
    payload = {
        "tocId": ident,
        "certifications": config.certifications.get(ident) or None,
        "description": (f"Measured fuel of leg {leg['leg_id']} (shipment {leg['shipment_id']}); "
                        f"primary data: {leg.get('factor_source')}"),
        "mode": mode,
        "temperatureControl": _single(leg.get("temperature_control")),
        "energyCarriers": carriers,
        "co2eIntensityWTW": decimal_string(leg["co2e_wtw_kg"] / leg["tkm"]),
        "co2eIntensityTTW": decimal_string((ttw if ttw is not None else leg["co2e_wtw_kg"]) / leg["tkm"]),
        "transportActivityUnit": "tkm",
    }
    payload = TOC.model_validate(drop_nulls(payload)).to_document()
    return BuiltCategory("toc", ident, payload, "tkm", True, None, ttw is None or ttw_guessed)


def hoc_payload(row: dict, fuels: pl.DataFrame, config: ExchangeConfig, *, pack_version: str | None = None) -> BuiltCategory:
    """A HOC from a ``hocs`` row (kg CO2e per outbound tonne, or per TEU), its energy carriers from
    the config or the row's ``energy_carriers``."""
    ident = row["hoc_id"]
    hub_type = HUB_TYPES.get(row.get("hub_type") or "")
    if hub_type is None:
        raise ExchangeError(f"{ident}: hub_type {row.get('hub_type')!r} is not one of {', '.join(HUB_TYPES)}")
    carriers, ttw_guessed = energy_carriers(ident, row_energy_mix(row), fuels, config)
    wtw, ttw, basis = _intensities(row, ("wtw_kg_co2e_per_t", "ttw_kg_co2e_per_t"), ("wtw_kg_co2e_per_teu", "ttw_kg_co2e_per_teu"))
    if ttw is None and config.ttw_when_unknown == "error":
        raise ExchangeError(f"{ident}: the factor row gives no TTW intensity")
    payload = {
        "hocId": ident,
        "description": _description(row, f"Hub operation category {ident}"),
        "certifications": config.certifications.get(ident) or None,
        "hubType": hub_type,
        "temperatureControl": _single(row.get("temperature_control")),
        "energyCarriers": carriers,
        "co2eIntensityWTW": decimal_string(wtw),
        "co2eIntensityTTW": decimal_string(ttw if ttw is not None else wtw),
        "hubActivityUnit": "tonnes" if basis == "activity" else "TEU",
    }
    payload = HOC.model_validate(drop_nulls(payload)).to_document()
    return BuiltCategory("hoc", ident, payload, payload["hubActivityUnit"], row.get("data_type") == "primary",
                         _source(row, pack_version), ttw is None or ttw_guessed)


def _source(row: dict, pack_version: str | None) -> tuple[str, str] | None:
    if row.get("data_type") == "primary" or not row.get("source"):
        return None
    return row["source"], row.get("pack_version") or pack_version or "unversioned"


# ----------------------------------------------------------------------------------------------
# TAD


def tad_payloads(legs: pl.DataFrame) -> tuple[list[dict], list[str]]:
    """One TAD per computed transport leg that has what a TAD requires (origin and destination
    places, ``departure_at`` and ``arrival_at``), and a message for each leg that has not."""
    transport = legs.filter((pl.col("mode") != "hub") & pl.col("error").is_null())
    if not transport.height:
        return [], []
    transport = with_locations(transport)
    times = {
        name: timestamps(transport[col]) if col in transport.columns else pl.Series(name, [None] * transport.height, pl.String)
        for col, name in (("departure_at", "departureAt"), ("arrival_at", "arrivalAt"))
    }
    consignments = pl.col("consignment_id").cast(pl.String) if "consignment_id" in transport.columns else pl.col("shipment_id")
    distance = decimal_expr(pl.col("distance_km"))
    whole_teu = pl.col("teu").is_not_null() & (pl.col("teu") == pl.col("teu").round(0))
    temperature = pl.col("temperature_control") if "temperature_control" in transport.columns else pl.lit(None, pl.String)
    load_factor = pl.col("load_factor") if "load_factor" in transport.columns else pl.lit(None, pl.Float64)
    frame = transport.with_columns(departureAt=pl.lit(times["departureAt"]), arrivalAt=pl.lit(times["arrivalAt"])).select(
        "leg_id",
        pl.struct(
            activityId=pl.col("leg_id"),
            consignmentIds=pl.concat_list(consignments),
            distance=pl.struct(
                actual=pl.when(pl.col("distance_type") == "actual").then(distance),
                gcd=pl.when(pl.col("distance_type") == "gcd").then(distance),
                sfd=pl.when(pl.col("distance_type") == "sfd").then(distance),
            ),
            mass=decimal_expr(pl.col("mass_kg")),
            loadFactor=pl.when((load_factor > 0) & (load_factor <= 1)).then(decimal_expr(load_factor)),
            origin=pl.col("origin_location"),
            destination=pl.col("destination_location"),
            departureAt=pl.col("departureAt"),
            arrivalAt=pl.col("arrivalAt"),
            mode=pl.col("mode").replace_strict(MODES, default=None),
            packagingOrTrEqType=pl.when(whole_teu).then(pl.lit("Container-TEU")),
            packagingOrTrEqAmount=pl.when(whole_teu).then(pl.col("teu").cast(pl.Int64)),
            temperatureControl=pl.when(temperature.is_in(["ambient", "refrigerated"])).then(temperature),
        ).alias("tad"),
        pl.concat_list(
            pl.when(pl.col("origin_location").is_null()).then(pl.lit("origin place unknown (needs city and country)")),
            pl.when(pl.col("destination_location").is_null()).then(pl.lit("destination place unknown (needs city and country)")),
            pl.when(pl.col("departureAt").is_null()).then(pl.lit("departure_at missing or without time zone")),
            pl.when(pl.col("arrivalAt").is_null()).then(pl.lit("arrival_at missing or without time zone")),
        ).list.drop_nulls().alias("missing"),
    )
    ok = frame.filter(pl.col("missing").list.len() == 0)
    documents = [json.loads(text, object_pairs_hook=_without_nulls) for text in ok["tad"].struct.json_encode()]
    problems = [f"TAD {r['leg_id']}: not built: {'; '.join(r['missing'])}"
                for r in frame.filter(pl.col("missing").list.len() > 0).select("leg_id", "missing").iter_rows(named=True)]
    return documents, problems
