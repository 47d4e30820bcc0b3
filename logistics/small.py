"""The engine's results for a few shipments at a time, without polars' fixed cost per operation.

Every polars operation hands its work to a thread pool and waits for it: about a tenth of a
millisecond on a small virtual machine, whatever the size of the frame. ``engine.calculate`` runs a
few dozen of them, which is nothing next to a file of legs but 20 ms for a single 3-leg shipment.
``SmallCalculator`` computes the same results for such requests:

- the work per distinct vocabulary key (reading, defaults, method, checks) and per factor key is
  done by the engine's own functions, once per key, and kept;
- the arithmetic per leg runs vectorised in NumPy with the engine's formulas in the engine's order
  of operations, and shipment totals are summed the way polars sums (Kahan), so the numbers are
  the same to the last bit (``tests/test_small.py`` compares both on random shipments).

Distances from places (``origin`` / ``destination``) come from ``logistics.geo`` as in the engine,
once per distinct (mode, origin, destination), and are kept too.

It only takes shipments it can compute completely. A shipment with a leg the engine would reject
(and explain), or with an identifier or place in surrounding spaces (which the engine trims), gets
``None``: it belongs to ``engine.calculate``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from . import engine as E
from . import factors as F
from .japan import JP_METHODS
from .model import MODES, Shipment

# Entries kept per cache (vocabulary keys, factor keys, place pairs); a cache that would grow past
# it starts afresh. Only keys that resolved without an error are kept.
MAX_KEYS = 10_000
NUMBERS = ("mass_kg", "teu", "distance_km", "daf", "fuel_amount")
ROW_TEXT = E.ROW_TEXT_COLUMNS
KEY_FLAGS = tuple(E.key_assumptions()[0])  # assumption flags worked out per vocabulary key

# A key not known (learn=False) or not kept (an error): its legs go to the engine.
UNKNOWN_KEY = dict.fromkeys([*E.VOCABULARY, "_kf", *KEY_FLAGS]) | {"_key_error": "unknown key"}

# What logistics.geo gives a leg from its places; NO_DISTANCE for legs that were not looked up.
PLACE_KEY = ("mode", "origin", "destination")
LAT_LON = ("origin_lat", "origin_lon", "destination_lat", "destination_lon")
PLACE_DISTANCE = ("distance_km", "distance_type", "distance_source", "distance_error")
NO_DISTANCE = (None, None, None, "not looked up")

ShipmentResult = tuple[list[dict[str, Any]], dict[str, Any]]  # its legs' result rows, its totals row


class SmallCalculator:
    """``calculate(shipments)``: per shipment its legs' result rows and its totals row, as
    ``engine.calculate(legs, pack, tocs=tocs, hocs=hocs)`` gives them (``Result.legs`` /
    ``Result.shipments`` rows, no ``defaults`` or ``daf`` overrides), or ``None``. Each shipment is
    computed on its own, as in an engine call where shipment ids are unique. A change to the own
    TOC/HOC files (path and modification time) is picked up as by the engine."""

    def __init__(self, pack: str | F.Pack = F.DEFAULT_PACK, *, tocs=None, hocs=None):
        self.pack = F.load_pack(pack)
        self.tocs, self.hocs = tocs, hocs
        parameter = self.pack.parameter
        self.t_per_teu = parameter("teu_mass_t_average", 10.0)
        self.short_haul_max_km = parameter("flight_short_haul_max_km", 1500.0)
        self.air_added_km = parameter(E.GCD_DAF_PARAMETERS["air"])
        self.gcd_daf = {mode: parameter(name) for mode, name in E.GCD_DAF_PARAMETERS.items() if mode != "air"}
        self.assumption_texts = E.assumption_texts(self.t_per_teu)
        self._keys: dict[tuple, dict] = {}  # raw vocabulary cells + KEY_ROW_FLAGS -> the key's row
        self._factors: dict[tuple, dict] = {}  # (vocabulary key, flight_length) -> FACTOR_COLUMNS
        self._distances: dict[tuple, tuple] = {}  # (mode, origin, destination) -> PLACE_DISTANCE columns
        self._own = E.own_signature(tocs, hocs)

    # ---- keys: the engine's work, once per key

    @staticmethod
    def _vocabulary_key(row: dict) -> tuple:
        return (*(row.get(c) for c in E.VOCABULARY), row.get("fuel_amount") is not None, row.get("teu") is not None)

    @staticmethod
    def _new(cache: dict, keys: Iterable) -> list:
        """The keys not in ``cache`` (which starts afresh when they would not fit)."""
        new = [k for k in dict.fromkeys(keys) if k not in cache]
        if len(cache) + len(new) > MAX_KEYS:
            cache.clear()
        return new[:MAX_KEYS]

    def _learn_keys(self, keys: Iterable[tuple]) -> None:
        new = self._new(self._keys, keys)
        if not new:
            return
        columns = [*E.VOCABULARY, *E.KEY_ROW_FLAGS]
        frame = pl.DataFrame([dict(zip(columns, k)) for k in new],
                             schema={**dict.fromkeys(E.VOCABULARY, pl.String), **dict.fromkeys(E.KEY_ROW_FLAGS, pl.Boolean)})
        frame = frame.with_columns(_k=pl.struct(*columns).hash(seed=0))
        schema = tuple((c, pl.String) for c in E.VOCABULARY)
        known = E.vocabulary_keys(frame, schema, {}, self.pack)
        rows = frame.select("_k").join(known, on="_k", how="left", maintain_order="left").drop("_k")
        self._keys.update((k, row) for k, row in zip(new, rows.iter_rows(named=True)) if row["_key_error"] is None)

    def _learn_factors(self, keys: Iterable[tuple]) -> None:
        new = self._new(self._factors, keys)
        if not new:
            return
        rows = []
        for n, (key, flight_length) in enumerate(new):
            info = self._keys[key]
            rows.append({**{c: info[c] for c in E.VOCABULARY}, "flight_length": flight_length, "_kf": info["_kf"],
                         "_error": None, "_i": n})
        frame = pl.DataFrame(rows, schema={**dict.fromkeys(E.VOCABULARY, pl.String), "_kf": pl.UInt64,
                                           "_error": pl.String, "_i": pl.Int64})
        got = E.resolve_factors(frame, self.pack, *E.own_tables(self.pack, self.tocs, self.hocs)).sort("_i")
        self._factors.update((k, f) for k, f in zip(new, got.select(*E.FACTOR_COLUMNS).iter_rows(named=True))
                             if f["factor_error"] is None)

    def _learn_distances(self, pairs: Iterable[tuple]) -> None:
        new = self._new(self._distances, pairs)
        if not new:
            return
        from . import geo

        places = pl.DataFrame({"_leg": range(len(new)), **{c: [p[n] for p in new] for n, c in enumerate(PLACE_KEY)}},
                              schema={"_leg": pl.Int64, **dict.fromkeys(PLACE_KEY, pl.String)})
        places = places.with_columns(pl.lit(None, pl.Float64).alias(c) for c in LAT_LON)
        got = geo.resolve_distances(places, pack=self.pack, daf={}).sort("_leg")
        self._distances.update((p, d) for p, d in zip(new, got.select(PLACE_DISTANCE).iter_rows()) if d[3] is None)

    # ---- the calculation

    def calculate(self, shipments: list[Shipment], *, learn: bool = True) -> list[ShipmentResult | None]:
        """Per shipment (in order) its results, or ``None`` where ``engine.calculate`` must do it.
        ``learn=False`` runs no polars at all: shipments with keys not seen before get ``None``."""
        rows: list[dict] = []
        starts = []
        for shipment in shipments:
            starts.append(len(rows))
            rows.extend(shipment.rows())
        if not rows:
            return []
        own = E.own_signature(self.tocs, self.hocs)  # None for frames: the same objects every call
        if own != self._own:  # the own TOC/HOC files changed: their factors are learnt again
            self._factors.clear()
            self._own = own
        n = len(rows)
        keys = [self._vocabulary_key(r) for r in rows]
        if learn:
            self._learn_keys(keys)
        info = [self._keys.get(k, UNKNOWN_KEY) for k in keys]
        mode = np.array([i["mode"] for i in info], dtype=object)
        is_hub = mode == "hub"

        def number(c: str) -> np.ndarray:
            return np.array([r.get(c) for r in rows], dtype=float)  # None -> NaN, the engine's null

        mass, teu, given_distance, given_daf, fuel = (number(c) for c in NUMBERS)
        from_places = ~is_hub & np.isnan(given_distance)
        pairs = [(m, r.get("origin"), r.get("destination")) for m, r in zip(mode, rows)]
        if learn:
            self._learn_distances(p for p, f, i in zip(pairs, from_places, info) if f and i["_key_error"] is None)
        placed = [self._distances.get(p, NO_DISTANCE) if f else NO_DISTANCE for p, f in zip(pairs, from_places)]
        distance = np.where(is_hub, 0.0, np.where(from_places, np.array([d[0] for d in placed], dtype=float), given_distance))
        distance_type = np.array([i["distance_type"] or "actual" for i in info], dtype=object)
        distance_source = np.full(n, "given", dtype=object)
        distance_type[from_places] = [d[1] for d, f in zip(placed, from_places) if f]
        distance_source[from_places] = [d[2] for d, f in zip(placed, from_places) if f]
        distance_type[is_hub] = distance_source[is_hub] = None
        place_error = from_places & np.array([d[3] is not None for d in placed])
        daf = np.where(np.isnan(given_daf), self._daf_rule(mode, distance_type, distance), given_daf)
        daf[is_hub] = np.nan

        flight_length = np.array([i["flight_length"] for i in info], dtype=object)
        from_distance = (mode == "air") & np.equal(flight_length, None) & ~np.isnan(distance)
        flight_length[from_distance] = np.where(distance < self.short_haul_max_km, "short_haul", "long_haul")[from_distance]
        factor_keys = list(zip(keys, flight_length.tolist()))
        if learn:
            self._learn_factors(fk for fk, i in zip(factor_keys, info) if i["_key_error"] is None)
        no_factor = {c: None for c in E.FACTOR_COLUMNS} | {"factor_error": "unknown key"}
        factor = [self._factors.get(fk, no_factor) for fk in factor_keys]

        ok = self._computable(rows, info, factor, mass, teu, given_distance, given_daf, fuel, is_hub) & ~place_error
        ok &= is_hub | ~(np.isnan(distance) | np.isnan(daf))

        mass_t = np.where(np.isnan(mass), teu * self.t_per_teu, mass * E.T_PER_KG)
        tkm = np.where(is_hub, np.nan, mass_t * distance)
        teu_eff = np.where(np.isnan(teu), mass_t * (1 / self.t_per_teu), teu)
        basis = np.array([f["basis"] or "" for f in factor])
        by_teu = (basis == "teu_km") | (basis == "teu")
        activity = np.select(
            [basis == "tkm", basis == "teu_km", basis == "fuel", basis == "t", basis == "teu"],
            [tkm * daf, teu_eff * distance * daf, fuel, mass_t, teu_eff], np.nan,
        ) * np.array([f["factor_multiplier"] for f in factor], dtype=float)
        co2e = {x: activity * np.array([f[f"fx_{x}"] for f in factor], dtype=float) for x in ("ttw", "wtt", "wtw")}
        with np.errstate(divide="ignore", invalid="ignore"):
            intensity = np.where(tkm > 0, co2e["wtw"] * 1000 / tkm, np.nan)
        flags = {
            **{flag: [bool(i[flag]) for i in info] for flag in KEY_FLAGS},
            "_a_mass": np.isnan(mass) & ~np.isnan(teu),
            "_a_teu": by_teu & np.isnan(teu),
        }
        assumptions = ["; ".join(text for flag, text in self.assumption_texts.items() if flags[flag][j]) or None
                       for j in range(n)]
        computed = {
            "leg_seq": self._leg_seq(rows, starts),
            "distance_km": distance, "distance_type": distance_type,
            "distance_source": distance_source,
            "daf": daf, "mass_t": mass_t, "teu": np.where(by_teu, teu_eff, teu), "tkm": tkm,
            "flight_length": flight_length, "assumptions": assumptions,
            "co2e_ttw_kg": co2e["ttw"], "co2e_wtt_kg": co2e["wtt"], "co2e_wtw_kg": co2e["wtw"],
            "intensity_wtw_g_per_tkm": intensity,
            "jp_co2_ttw_kg": None, "jp_fuel_l": None, "jp_energy_gj": None, "error": None,
        }
        columns = E.result_columns(rows[0])
        values = [self._column(c, rows, info, factor, computed) for c in columns]
        legs = [dict(zip(columns, row)) for row in zip(*values)]
        for leg in legs:
            leg["leg_id"] = leg["leg_id"] if leg["leg_id"] is not None else f"{leg['shipment_id']}-{leg['leg_seq']}"

        bounds = [*starts, n]
        totals = self._totals(legs, bounds, mass_t, is_hub, tkm, co2e)
        out: list[ShipmentResult | None] = []
        for s, (a, b) in enumerate(pairwise(bounds)):
            its_legs = legs[a:b]
            unique_leg_ids = len({leg["leg_id"] for leg in its_legs}) == len(its_legs)
            out.append((its_legs, totals[s]) if ok[a:b].all() and unique_leg_ids else None)
        return out

    def _computable(self, rows, info, factor, mass, teu, given_distance, given_daf, fuel, is_hub) -> np.ndarray:
        """Legs whose input the engine accepts, with a factor and not a Japanese method."""
        text_ok = np.array([all(r.get(c) is None or (isinstance(r[c], str) and r[c] and r[c] == r[c].strip())
                                for c in ROW_TEXT) and r.get("shipment_id") is not None for r in rows])
        nan_given = np.array([any(r.get(c) is not None and math.isnan(r[c]) for c in NUMBERS) for r in rows])
        key_ok = np.array([i["_key_error"] is None and i["mode"] in MODES and i["method"] not in JP_METHODS for i in info])
        factor_ok = np.array([f["factor_error"] is None for f in factor])
        with np.errstate(invalid="ignore"):
            rejected = (
                (np.isnan(mass) & np.isnan(teu)) | (mass <= 0) | (mass > E.MAX_MASS_KG) | (teu <= 0) | (teu > E.MAX_TEU)
                | (~is_hub & (given_distance <= 0)) | (given_distance > E.MAX_DISTANCE_KM) | (fuel < 0)
                | (given_daf <= 0) | (given_daf > E.MAX_DAF)
            )
        return text_ok & ~nan_given & key_ok & factor_ok & ~rejected

    def _daf_rule(self, mode: np.ndarray, distance_type: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """engine.daf_rule without overrides: 1 unless the distance is a GCD."""
        gcd = distance_type == "gcd"
        rule = np.ones(len(mode))
        air = gcd & (mode == "air")
        with np.errstate(divide="ignore", invalid="ignore"):
            rule[air] = np.nan if self.air_added_km is None else ((distance + self.air_added_km) / distance)[air]
        for m, value in self.gcd_daf.items():
            rule[gcd & (mode == m)] = np.nan if value is None else value
        return rule

    @staticmethod
    def _leg_seq(rows: list[dict], starts: list[int]) -> list[int]:
        """Given, or the position in its shipment (as the engine numbers a shipment's rows)."""
        position = np.arange(len(rows)) - np.repeat(starts, np.diff([*starts, len(rows)])) + 1
        return [r["leg_seq"] if r.get("leg_seq") is not None else int(p) for r, p in zip(rows, position)]

    @staticmethod
    def _column(c: str, rows: list[dict], info: list[dict], factor: list[dict], computed: dict) -> list:
        """Result column ``c`` as Python values (NaN is null): computed, from the factor key, from
        the vocabulary key, or as given."""
        if c in computed:
            v = computed[c]
            if v is None:
                return [None] * len(rows)
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                return [None if math.isnan(x) else x for x in v.tolist()]
            return v.tolist() if isinstance(v, np.ndarray) else v
        if c in E.FACTOR_COLUMNS:
            return [f[c] for f in factor]
        if c in UNKNOWN_KEY:
            return [i[c] for i in info]
        return [r.get(c) for r in rows]

    @staticmethod
    def _totals(legs: list[dict], bounds: list[int], mass_t, is_hub, tkm, co2e) -> list[dict]:
        """engine.shipments for each shipment's legs (all computed), summed as polars sums."""
        primary = np.array([leg["data_type"] == "primary" for leg in legs])
        sums = {
            "tkm": tkm, "co2e_ttw_kg": co2e["ttw"], "co2e_wtt_kg": co2e["wtt"], "co2e_wtw_kg": co2e["wtw"],
            "co2e_wtw_unsplit_kg": np.where(np.isnan(co2e["ttw"]), co2e["wtw"], np.nan),
            "primary_wtw_kg": np.where(primary, co2e["wtw"], np.nan),
        }
        t = dict(zip(sums, _kahan_sums(np.vstack(list(sums.values())), bounds)))
        with np.errstate(divide="ignore", invalid="ignore"):
            mass = np.fmax.reduceat(np.where(is_hub, np.nan, mass_t), bounds[:-1]) * 1000
            intensity = np.where(t["tkm"] > 0, t["co2e_wtw_kg"] * 1000 / t["tkm"], np.nan)
            share = np.where(t["co2e_wtw_kg"] > 0, t["primary_wtw_kg"] / t["co2e_wtw_kg"], np.nan)
        columns = {**t, "mass_kg": mass, "intensity_wtw_g_per_tkm": intensity, "primary_data_share": share}
        out = []
        for s, (a, b) in enumerate(pairwise(bounds)):
            row = {"shipment_id": legs[a]["shipment_id"], "legs": b - a, "error_legs": 0, "jp_co2_ttw_kg": 0.0,
                   "complete": True, **{c: _value(v[s]) for c, v in columns.items()}}
            out.append({c: row[c] for c in E.SHIPMENT_COLUMNS})
        return out


def _value(v):
    """A NumPy scalar as the engine's row value: NaN is null."""
    return None if math.isnan(v) else float(v)


def _kahan_sums(values: np.ndarray, bounds: list[int]) -> np.ndarray:
    """For each row of ``values`` and each segment [bounds[s], bounds[s+1]) of its columns, the
    compensated sum of the segment in order, NaN (null) skipped: what polars' sum gives. In plain
    Python: a few hundred additions cost less than a NumPy step per position."""
    out = np.zeros((values.shape[0], len(bounds) - 1))
    for r, row in enumerate(values.tolist()):
        for s, (a, b) in enumerate(pairwise(bounds)):
            total = compensation = 0.0
            for v in row[a:b]:
                if not math.isnan(v):
                    y = v - compensation
                    t = total + y
                    compensation = (t - total) - y
                    total = t
            out[r, s] = total
    return out
