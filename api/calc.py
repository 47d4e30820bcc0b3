"""The service's bridge to the library: calculation of posted shipments, result shaping, exports.

Concurrent requests are coalesced: while one round runs, newly arriving shipments queue up, and the
next round computes all of them at once with the service's ``logistics.Calculator``, in a worker
thread so that the event loop keeps serving. The calculator keeps what it resolved per distinct
descriptor and place between rounds, and takes a round of up to 1,000 legs on its NumPy path (a
few milliseconds), larger ones in one polars query. Each request's shipment ids are prefixed with its
position in the round while computing (two clients may both send ``S1``) and restored afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field

import polars as pl

import logistics
from logistics import exchange
from logistics.calculator import calculator_for
from logistics.model import leg_schema
from logistics.vocabulary import default_leg_id

from .models import LEG_FIELD_SOURCES, LEG_FIELDS, SHIPMENT_FIELDS, ShipmentEmissions

TAG = "api_request"
MAX_ROWS_PER_ROUND = 20_000
SLOW_ROUND_SECONDS = 2.0

log = logging.getLogger("logistics_api.calc")


_ROUND_PREFIX_IN_ERROR = re.compile(r"in shipment '\d+:")  # the round's prefix, "<n>:", in a leg's error


def _untagged(frame: pl.DataFrame) -> pl.DataFrame:
    """A round's result frame with its request's position in TAG and the shipment ids as posted."""
    return frame.with_columns(pl.col("shipment_id").str.extract(r"^(\d+):", 1).cast(pl.Int32).alias(TAG),
                              pl.col("shipment_id").str.replace(r"^\d+:", ""))


class CalculationFailed(RuntimeError):
    pass


Computed = tuple[pl.DataFrame | None, pl.DataFrame | None, list[dict]]  # legs, totals (frames) and response rows
Own = tuple[str | None, str | None]  # the (tocs, hocs) tables a request is computed with


@dataclass
class _Pending:
    shipments: list[logistics.Shipment]
    frames: bool  # the caller needs the result frames (exports)
    future: asyncio.Future | None = None  # None only outside the service (bench_api times rounds directly)
    own: Own = (None, None)
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = sum(len(s.legs) for s in self.shipments)


def _load_place_tables() -> None:
    from logistics import geo

    try:
        geo.unlocode_table(), geo.airport_table(), geo.sea_network()
    except Exception:  # a request that needs them reports the failure with its leg
        log.exception("loading the place tables failed")


class Calculator:
    def __init__(self, pack: str, tocs: str | None = None, hocs: str | None = None,
                 exchange_config: str | None = None):
        self.tocs, self.hocs = tocs or None, hocs or None
        self.calculator = logistics.Calculator(pack, tocs=self.tocs, hocs=self.hocs)  # a bad table fails here, at start
        self.pack = self.calculator.pack
        self.exchange_config = exchange.load_config(exchange_config)
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        self._warm: asyncio.Task | None = None

    # ---- lifecycle

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._rounds(), name="calculator")
        # the place tables and the sea network (about 2 s) load beside the first requests, not in one
        self._warm = asyncio.create_task(asyncio.to_thread(_load_place_tables), name="place tables")

    async def stop(self) -> None:
        if self._warm:
            await asyncio.gather(self._warm, return_exceptions=True)  # a thread: it cannot be cancelled
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    # ---- calculation

    def calculator_for(self, own: Own) -> logistics.Calculator:
        """The library calculator of a (tocs, hocs) pair: the service's own, or one kept per pair
        (two carriers may use one TOC id with other figures)."""
        if own == (self.tocs, self.hocs):
            return self.calculator
        return calculator_for(self.pack, tocs=own[0], hocs=own[1])

    def calculate_frame(self, legs: pl.DataFrame, own: Own | None = None) -> logistics.Result:
        return self.calculator_for(own or (self.tocs, self.hocs)).calculate(legs)

    async def compute(self, shipments: list[logistics.Shipment], *, frames: bool = False, own: Own | None = None) -> Computed:
        """These shipments computed in a coalesced round, as response rows (totals with their legs
        nested, in the order posted); with ``frames``, also the (legs, shipments) result frames,
        which are otherwise None. ``own``: the (tocs, hocs) tables to use (default: the service's)."""
        if self._queue is None:
            raise RuntimeError("Calculator.start() was not awaited")
        pending = _Pending(shipments, frames, asyncio.get_running_loop().create_future(), own or (self.tocs, self.hocs))
        await self._queue.put(pending)
        return await pending.future

    async def _rounds(self) -> None:
        while True:
            batch = [await self._queue.get()]
            rows = batch[0].rows
            while not self._queue.empty() and rows < MAX_ROWS_PER_ROUND:
                batch.append(self._queue.get_nowait())
                rows += batch[-1].rows
            try:
                results = await asyncio.to_thread(self._compute_round, batch)
            except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # incl. a panic in native code: the loop must survive it
                log.exception("calculation round of %d requests failed; first request: %.2000s", len(batch),
                              [s.model_dump_json() for s in batch[0].shipments])
                results = [exc] if len(batch) == 1 else await self._one_by_one(batch)
            for p, result in zip(batch, results, strict=True):
                if p.future.done():
                    continue  # the client went away
                if isinstance(result, BaseException):
                    p.future.set_exception(CalculationFailed(f"the calculation failed: {type(result).__name__}: {result}"))
                else:
                    p.future.set_result(result)

    async def _one_by_one(self, batch: list[_Pending]) -> list:
        """One request's input must not fail the others: after a failed round, each alone."""
        results: list = []
        for p in batch:
            try:
                results.extend(await asyncio.to_thread(self._compute_round, [p]))
            except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:
                results.append(exc)
        return results

    def _compute_round(self, batch: list[_Pending]) -> list[Computed]:
        """A round, one library call per (tocs, hocs) pair among its requests."""
        done: dict[int, Computed] = {}
        for own in dict.fromkeys(p.own for p in batch):
            positions = [n for n, p in enumerate(batch) if p.own == own]
            computed = self._engine_round([batch[n].shipments for n in positions], own,
                                          frames=[batch[n].frames for n in positions])
            done.update(zip(positions, computed, strict=True))
        return [done[n] for n in range(len(batch))]

    def _engine_round(self, requests: list[list[logistics.Shipment]], own: Own | None = None,
                      frames: list[bool] | None = None) -> list[Computed]:
        """The requests' results: response rows for each, and the result frames for those whose
        ``frames`` flag is set (all when None)."""
        rows = []  # the round's legs, built as one frame (a frame per shipment costs more than the engine)
        for n, shipments in enumerate(requests):
            for shipment in shipments:
                for row in shipment.rows():
                    if row["leg_id"] is None:  # the engine's default id, given before the round's prefix
                        row["leg_id"] = default_leg_id(row["shipment_id"], row["leg_seq"])
                    row["shipment_id"] = f"{n}:{row['shipment_id']}"
                    rows.append(row)
        started = time.perf_counter()
        legs_in = pl.DataFrame(rows, schema=leg_schema(rows[0]))
        result = self.calculate_frame(legs_in, own)
        totals = result.shipments
        seconds = time.perf_counter() - started
        if seconds > SLOW_ROUND_SECONDS:
            log.warning("slow calculation: %d legs of %d requests took %.1f s; first legs: %s", legs_in.height,
                        len(requests), seconds, legs_in.head(3).to_dicts())
        rows_by = self._response_rows(result, totals, len(requests))
        frames_by: dict[int, tuple[pl.DataFrame, pl.DataFrame]] = {}
        wanted = [n for n in range(len(requests)) if frames is None or frames[n]]
        if wanted:
            legs = _untagged(result.with_provenance()).with_columns(
                pl.col("error").str.replace_all(_ROUND_PREFIX_IN_ERROR.pattern, "in shipment '"))
            legs_by = legs.partition_by(TAG, as_dict=True, include_key=False)
            totals_by = _untagged(totals).partition_by(TAG, as_dict=True, include_key=False)
            frames_by = {n: (legs_by[(n,)], totals_by[(n,)]) for n in wanted}
        return [(*frames_by.get(n, (None, None)), rows_by[n]) for n in range(len(requests))]

    # ---- shaping and export

    @staticmethod
    def _response_rows(result: logistics.Result, totals: pl.DataFrame, requests: int) -> list[list[dict]]:
        """Each request's shipments (``ShipmentEmissions`` fields) with their legs nested, in the
        order posted: shaped in one pass over the round's rows, which are few (a polars query per
        round costs more than the whole calculation)."""
        legs = result.legs
        own_fields = [c for c in LEG_FIELDS if c in legs.columns]
        factor_fields = {c: LEG_FIELD_SOURCES.get(c, c) for c in LEG_FIELDS if c not in legs.columns}
        factors = {f["factor_id"]: f for f in result.factors.select(
            "factor_id", *(s for s in factor_fields.values() if s in result.factors.columns)).to_dicts()}
        nested: dict[str, list[dict]] = {}
        for leg in legs.select("shipment_id", *own_fields).to_dicts():
            factor = factors.get(leg["factor_id"], {})
            leg.update((c, factor.get(source)) for c, source in factor_fields.items())
            if leg["error"] is not None:
                leg["error"] = _ROUND_PREFIX_IN_ERROR.sub("in shipment '", leg["error"])
            nested.setdefault(leg.pop("shipment_id"), []).append(leg)
        by_request: list[list[dict]] = [[] for _ in range(requests)]
        for shipment in totals.select(*SHIPMENT_FIELDS).to_dicts():
            tagged = shipment["shipment_id"]
            n, shipment["shipment_id"] = tagged.split(":", 1)
            shipment["legs"] = nested.get(tagged, [])
            by_request[int(n)].append(shipment)
        return by_request

    @staticmethod
    def emissions(rows: list[dict]) -> list[ShipmentEmissions]:
        return [ShipmentEmissions.model_validate(row) for row in rows]

    def export(self, legs: pl.DataFrame, shipments: pl.DataFrame | None, fmt: str, own: Own | None = None) -> exchange.Export:
        tocs, hocs = own or (self.tocs, self.hocs)
        return exchange.build_export(legs, shipments, fmt, self.exchange_config, pack=self.pack, tocs=tocs, hocs=hocs)
