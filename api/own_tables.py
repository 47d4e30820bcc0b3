"""Carriers' own TOC / HOC tables over HTTP.

An operator registers its tables once (``PUT /v1/own-tables/{tocs|hocs}``) or sends them with an
upload (parts ``tocs`` / ``hocs`` beside ``file``). Either way a table is checked when it arrives,
as the engine will read it (``logistics.factors.conform_table``, and its ids must not be the
pack's), so a bad table is a 422 naming the row and column instead of a failed job later. Tables
are kept content-addressed under ``<data>/own/`` and a job records the paths it was queued with: a
table registered later does not change a queued job, and the engine's per-path caches stay valid.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from logistics import factors
from logistics.io import InputError, read_table

from .errors import ApiError, FieldError

KINDS = ("tocs", "hocs")
MAX_BYTES = 64 * 1024 * 1024  # a table of a few thousand categories is well under 1 MiB


def check(path: Path, kind: str, filename: str, pack: factors.Pack) -> int:
    """The number of rows of the ``kind`` table at ``path``; ApiError 422 naming the first problem
    (row and column) otherwise. ``filename`` is how the client named the file."""
    try:
        raw = read_table(path)
        table = factors.conform_table(raw.with_columns(pl.col(c).cast(pl.String) for c in raw.columns), kind, filename)
    except (InputError, factors.PackError) as exc:
        message = str(exc).replace(str(path), filename)
        raise ApiError(422, "ValidationError", f"{kind}: {message}", [FieldError(path=kind, reason=message)]) from exc
    key = factors.KEYS[kind][0]
    taken = set(pack.table(kind)[key].to_list())
    for n, ident in enumerate(table[key].to_list()):
        if ident in taken:  # the engine refuses a table whose ids collide with the pack's
            reason = (f"{filename}: row {n + 2}, column {key}: {ident!r} is also in pack {pack.name}; "
                      "use another id")
            raise ApiError(422, "ValidationError", f"{kind}: {reason}", [FieldError(path=kind, reason=reason)])
    if not table.height:
        reason = f"{filename}: the table has no rows"
        raise ApiError(422, "ValidationError", f"{kind}: {reason}", [FieldError(path=kind, reason=reason)])
    return table.height


def keep(path: Path, data_dir: Path, kind: str, sha256: str) -> Path:
    """Move a checked table to its content-addressed place and return that (a table already kept
    is not written twice)."""
    directory = data_dir / "own"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{kind}-{sha256}{path.suffix.lower()}"
    if target.exists():
        path.unlink(missing_ok=True)
    else:
        os.replace(path, target)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return target
