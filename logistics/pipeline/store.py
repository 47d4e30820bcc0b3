"""Work resolved once per distinct key and kept between calls (vocabulary keys, factors, places)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence

import polars as pl


class ResolvedStore:
    """Rows resolved per distinct key, kept in one table with a dict from key to row.

    ``rows(keys, resolve)`` returns the rows of ``keys`` in that order, calling ``resolve`` for the
    keys it has not seen (it must return one row per key, in order). Thread-safe: resolving runs
    under the store's lock, so two threads never resolve the same key twice. Bounded: when the
    table would exceed ``max_rows`` it starts afresh (a file with more distinct keys is resolved
    batch by batch)."""

    def __init__(self, max_rows: int = 100_000):
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._index: dict[Hashable, int] = {}
        self._table: pl.DataFrame | None = None
        self._records: list[dict] = []  # the table's rows as dicts, for callers working in Python
        self._schema: tuple[pl.DataFrame, pl.Schema] | None = None

    def rows(self, keys: Sequence[Hashable], resolve: Callable[[list], pl.DataFrame]) -> pl.DataFrame:
        """The rows of ``keys``, in order, as a frame."""
        positions, table, _ = self._positions(keys, resolve)
        return table[positions]

    def records(self, keys: Sequence[Hashable], resolve: Callable[[list], pl.DataFrame]) -> list[dict]:
        """The rows of ``keys``, in order, as dicts (no polars call once resolved)."""
        positions, _, records = self._positions(keys, resolve)
        return [records[i] for i in positions]

    def _positions(self, keys: Sequence[Hashable], resolve: Callable[[list], pl.DataFrame]) -> tuple[list[int], pl.DataFrame, list[dict]]:
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._index))
            if missing:
                if self._table is None or self._table.height + len(missing) > self.max_rows:
                    self._index, self._table, self._records = {}, None, []
                    missing = list(dict.fromkeys(keys))
                new = resolve(missing)
                if new.height != len(missing):
                    raise RuntimeError(f"resolved {new.height} rows for {len(missing)} keys")
                if self._table is None:
                    self._table = new.clear()
                start = self._table.height
                self._table = pl.concat([self._table, new], how="vertical_relaxed")
                self._records = [*self._records, *new.to_dicts()]
                self._index.update((k, start + i) for i, k in enumerate(missing))
            positions = [self._index[k] for k in keys]
            table, records = self._table, self._records
        if table is None:
            raise ValueError("no keys given and nothing resolved yet: the table's columns are unknown")
        return positions, table, records

    @property
    def schema(self) -> pl.Schema | None:
        """The columns and types of the rows (None before the first resolve)."""
        table = self._table
        if table is None:
            return None
        if self._schema is None or self._schema[0] is not table:  # a frame's schema is built anew on each ask
            self._schema = (table, table.schema)
        return self._schema[1]

    def clear(self) -> None:
        with self._lock:
            self._index, self._table, self._records = {}, None, []

    def __len__(self) -> int:
        return len(self._index)
