"""Calculation methods that plug into the engine (e.g. the Japanese methods).

A plug-in names the ``method`` values it computes. The engine reads, checks and places those legs
like any other (distance, DAF, mass), then hands them to the plug-in, which returns its own result
columns, a factor id and an error per leg; the engine merges them into the results and sums the
plug-in's ``sums`` per shipment. The core never imports a plug-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import polars as pl

from ..schema import DType


class MethodPlugin(Protocol):
    methods: Mapping[str, str]  # method -> the ISO 14083 data type of its results
    inputs: tuple[str, ...]  # leg columns it reads beyond the engine's (schema.LEG_COLUMNS names)
    columns: Mapping[str, DType]  # result columns it adds
    sums: tuple[str, ...]  # of those, the ones totalled per shipment

    def compute(self, legs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``legs``: ``__row``, ``method``, ``mode``, ``mass_kg``, ``distance_km`` (the distance
        the emissions rest on, DAF applied), ``fuel_amount``, ``fuel_unit``, ``energy_carrier`` and
        ``inputs``. Returns (per leg: ``__row``, ``columns``, ``factor_id``, ``co2e_ttw_kg`` and
        ``co2e_wtw_kg`` (null unless its figures are to be counted as CO2e), ``error_code`` and
        ``error``; the factors-table rows of its factor ids, schema.FACTOR_COLUMNS)."""
        ...
