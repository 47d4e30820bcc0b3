"""The summary of a run: rows read, computed and rejected (by reason), and the run's totals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .pipeline.shipments import OK, SUMMED, summed


@dataclass
class Summary:
    rows_read: int = 0
    computed: int = 0
    rejected: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)  # error_code -> rows
    totals: dict[str, float | None] = field(default_factory=dict)  # SUMMED names (units in the names); None: no leg gave one
    shipments: int = 0
    seconds: float = 0.0
    encoding: str = "utf8"
    unread_columns: dict[str, str | None] = field(default_factory=dict)  # input columns not read -> the column meant, if guessed

    def add(self, legs: pl.DataFrame) -> None:
        """Count a batch of result legs and add its totals (the same sums as the shipment totals)."""
        sums = summed(legs.columns)
        row = legs.select(
            OK.sum().alias("__ok"),
            *(expr.filter(OK).sum().alias(name) for name, expr in sums.items()),
            *(expr.filter(OK).count().alias(f"{name}__n") for name, expr in sums.items()),
        ).row(0, named=True)
        self.rows_read += legs.height
        self.computed += row["__ok"]
        self.rejected += legs.height - row["__ok"]
        for name in SUMMED:
            if row[f"{name}__n"]:
                self.totals[name] = (self.totals.get(name) or 0.0) + row[name]
            else:
                self.totals.setdefault(name, None)
        if legs.height > row["__ok"]:
            codes = legs.filter(~OK)["error_code"].fill_null("other").value_counts()
            self.rejected_by_reason.update(dict(codes.iter_rows()))

    def merge(self, other: Summary) -> None:
        """Add the counts and totals of another part of the same run (e.g. a Spark partition's)."""
        self.rows_read += other.rows_read
        self.computed += other.computed
        self.rejected += other.rejected
        self.rejected_by_reason.update(other.rejected_by_reason)
        self.unread_columns.update(other.unread_columns)
        for name, value in other.totals.items():
            if value is None:
                self.totals.setdefault(name, None)
            else:
                self.totals[name] = (self.totals.get(name) or 0.0) + value

    @property
    def rejected_by_column(self) -> Counter:
        out: Counter = Counter()
        for code, count in self.rejected_by_reason.items():
            out[code.split(".", 1)[0]] += count
        return out

    def total_t(self, name: str) -> float | None:
        kg = self.totals.get(name)
        return None if kg is None else kg / 1000

    @property
    def primary_data_share(self) -> float | None:
        wtw, primary = self.totals.get("co2e_wtw_kg"), self.totals.get("primary_wtw_kg")
        return (primary or 0.0) / wtw if wtw else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read, "computed": self.computed, "rejected": self.rejected,
            "rejected_by_column": _by_count(self.rejected_by_column),
            "rejected_by_reason": _by_count(self.rejected_by_reason),
            "shipments": self.shipments,
            "co2e_wtw_t": self.total_t("co2e_wtw_kg"), "co2e_ttw_t": self.total_t("co2e_ttw_kg"),
            "co2e_wtt_t": self.total_t("co2e_wtt_kg"), "co2e_wtw_unsplit_t": self.total_t("co2e_wtw_unsplit_kg"),
            "tkm": self.totals.get("tkm"), "primary_data_share": self.primary_data_share,
            "seconds": round(self.seconds, 2), "encoding": self.encoding, "unread_columns": self.unread_columns,
        }


def _by_count(counts: Counter) -> dict[str, int]:
    """Most frequent first, then by name: the same order on every run."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
