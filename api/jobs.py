"""Uploads and the jobs that compute them.

Receiving (``receive_upload``): the multipart body is parsed as it streams in; the file part goes
straight to ``<data>/uploads/<job>.part`` (hashed and counted on the way, 413 past the limit),
is fsynced and renamed, and only then is the job committed to the database and acknowledged.

Running (``JobWorker``, a thread): claim a queued job (or one whose worker died: its lease ran
out), stream the file through ``logistics.batch.run`` into ``<data>/jobs/<job>/`` (legs, shipments,
errors), build the PACT v2/v3 footprints and TADs per hash partition of shipments, spool them to
disk, then store them all and mark the job done in **one** transaction: a job killed at any point
leaves no footprint visible, and its next attempt starts again from the file. Footprint ids are
derived from their content, so a re-run or a re-upload stores nothing twice; a shipment recomputed
with other figures gets a new footprint that deprecates the earlier one (``Store.put_documents``).
Interrupted uploads' ``.part`` files are removed by the worker once stale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import AsyncIterator

import polars as pl
from python_multipart.multipart import MultipartParser, parse_options_header

from logistics import batch
from logistics.io import InputError, format_for_people

from .calc import Calculator
from .documents import footprint_row, tad_row
from .errors import ApiError
from .storage import Store, StoredDocument

log = logging.getLogger("logistics_api.jobs")

UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
PARTITION_ROWS = 200_000  # legs exported per partition: bounds the export's memory
SPOOL_CHUNK = 1000  # documents per insert while committing
PROBLEMS_KEPT = 100
SHARE_COLUMN = "share_with"  # optional legs column: client ids (separated by ; or |) per shipment
# An upload's .part file untouched this long belongs to a request that died with its process (a
# live upload writes to it continuously); the worker removes such files at start and then hourly.
STALE_PART_SECONDS = 3600.0


class _FilePart:
    """Receives one multipart body: the file part to disk, small text fields to memory."""

    FIELD_LIMIT = 64 * 1024

    def __init__(self, target: Path, limit: int):
        self.target, self.limit = target, limit
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.sha = hashlib.sha256()
        self._file = None
        self._name: str | None = None
        self._value = bytearray()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self.too_large = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _begin(self) -> None:
        self._headers, self._name, self._value = {}, None, bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options and self._name == "file":
            if self._file is not None:
                raise ApiError(422, "ValidationError", "send one file per upload")
            self.filename = Path(options[b"filename"].decode("utf-8", "replace")).name or "upload.csv"
            self._file = open(self.target, "wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None and self._name == "file" and self.filename is not None and not self._file.closed:
            self.size += len(chunk)
            if self.size > self.limit:
                self.too_large = True
                raise ApiError(413, "PayloadTooLarge", f"the upload exceeds the limit of {self.limit} bytes")
            self.sha.update(chunk)
            self._file.write(chunk)
        else:
            self._value.extend(chunk)
            if len(self._value) > self.FIELD_LIMIT:
                raise ApiError(413, "PayloadTooLarge", f"form field {self._name!r} exceeds {self.FIELD_LIMIT} bytes")

    def _end(self) -> None:
        if self._file is not None and not self._file.closed and self._name == "file":
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        elif self._name:
            self.fields[self._name] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()


async def receive_upload(stream: AsyncIterator[bytes], content_type: str, data_dir: Path, limit: int) -> dict:
    """Parse a multipart upload into ``<data_dir>/uploads``; returns the file's path, name, size,
    sha256 and the form's text fields."""
    kind, options = parse_options_header(content_type.encode("latin-1", "replace"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(400, "BadRequest", "send the file as multipart/form-data with a part named 'file'")
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    ident = uuid.uuid4().hex
    part = uploads / f"{ident}.part"
    receiver = _FilePart(part, limit)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
        receiver.close()
        if receiver.filename is None:
            raise ApiError(422, "ValidationError", "no file: send the legs file in a part named 'file'")
        suffix = Path(receiver.filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise ApiError(422, "ValidationError", f"{receiver.filename}: expected a .csv or .parquet file")
        final = uploads / f"{ident}{suffix}"
        os.replace(part, final)
        _fsync_dir(uploads)
    except ApiError:
        receiver.close()
        part.unlink(missing_ok=True)
        raise
    except Exception as exc:
        receiver.close()
        part.unlink(missing_ok=True)
        raise ApiError(400, "BadRequest", f"malformed multipart body: {exc}") from exc
    return {"id": ident, "path": str(final), "filename": receiver.filename, "size": receiver.size,
            "sha256": receiver.sha.hexdigest(), "fields": receiver.fields}


def sweep_partial_uploads(data_dir: Path, older_than: float = STALE_PART_SECONDS) -> list[Path]:
    """Remove ``.part`` files of uploads that were never completed; returns what was removed."""
    removed = []
    cutoff = time.time() - older_than
    for part in (data_dir / "uploads").glob("*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
                removed.append(part)
        except FileNotFoundError:  # completed or removed meanwhile
            continue
        except OSError as exc:  # not ours to remove (a directory, permissions): leave it, say so
            log.warning("cannot remove interrupted upload %s: %s", part, exc)
    if removed:
        log.info("removed %d interrupted upload(s): %s", len(removed), ", ".join(p.name for p in removed))
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_recipients(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace(";", ",").replace("|", ",").split(",") if p.strip()]


# ------------------------------------------------------------------------------------------------
# The worker


class JobWorker:
    def __init__(self, store: Store, calculator: Calculator, data_dir: Path, lease_seconds: float, attempts: int):
        self.store, self.calculator, self.data_dir = store, calculator, data_dir
        self.lease, self.attempts = lease_seconds, attempts
        self.wakeup = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wakeup.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        swept: float | None = None
        while not self._stop.is_set():
            try:
                if swept is None or time.monotonic() - swept > STALE_PART_SECONDS:
                    swept = time.monotonic()  # first: a sweep that fails must not keep jobs from running
                    sweep_partial_uploads(self.data_dir)
                if not self.run_once():
                    self.wakeup.wait(min(1.0, self.lease / 2))
                    self.wakeup.clear()
            except Exception:
                log.exception("job worker")
                self._stop.wait(1.0)

    def run_once(self) -> bool:
        """Run one claimable job; False when there was none."""
        job = self.store.claim_job(self.lease, self.attempts)
        if job is None:
            return False
        progress = {"rows": 0, "total": None}
        beat_stop = threading.Event()

        def heartbeat() -> None:  # keeps the lease while the job runs
            while not beat_stop.wait(self.lease / 3):
                self.store.job_progress(job["id"], progress["rows"], progress["total"], self.lease)

        beat = threading.Thread(target=heartbeat, name=f"lease-{job['id']}", daemon=True)
        beat.start()
        try:
            self._run(job, progress)
        except InputError as exc:
            self.store.fail_job(job["id"], str(exc))
        except Exception as exc:
            log.exception("job %s failed", job["id"])
            self.store.fail_job(job["id"], f"{type(exc).__name__}: {exc}")
        finally:
            beat_stop.set()
            beat.join()
        return True

    def _run(self, job: dict, progress: dict) -> None:
        workdir = self.data_dir / "jobs" / job["id"]
        shutil.rmtree(workdir, ignore_errors=True)  # an earlier attempt's leftovers
        workdir.mkdir(parents=True)
        calc = self.calculator

        def on_progress(rows: int, total: int | None) -> None:
            progress["rows"], progress["total"] = rows, total

        report = batch.run(job["path"], workdir / "legs.parquet", shipments_out=workdir / "shipments.parquet",
                           errors_out=workdir / "errors.csv", pack=calc.pack, tocs=calc.tocs, hocs=calc.hocs,
                           progress=on_progress)
        progress["rows"] = report.rows_read
        problems, counts = self._export(job, workdir)
        summary = format_for_people(report.as_dict())
        with self.store.tx(write=True) as tx:
            new = 0
            for chunk, share in _read_spool(workdir / "documents.jsonl"):
                new += self.store.put_documents(tx, chunk, share, job_id=job["id"])
            self.store.finish_job(tx, job["id"], {
                **summary, **counts, "footprints_new": new,
                "problems": problems[:PROBLEMS_KEPT], "problem_count": len(problems),
            })

    def _export(self, job: dict, workdir: Path) -> tuple[list[str], dict]:
        """Documents of every complete shipment, built per hash partition of shipment ids (a
        shipment's legs are all in one partition) and spooled to ``documents.jsonl``."""
        legs_path, shipments_path = workdir / "legs.parquet", workdir / "shipments.parquet"
        rows = pl.scan_parquet(legs_path).select(pl.len()).collect().item()
        parts = max(1, math.ceil(rows / PARTITION_ROWS))
        everyone = set(job["share_with"])
        known = {c.client_id for c in self.store.clients() if c.role == "recipient" and c.active}
        problems: list[str] = []
        counts = {"footprints": 0, "tads": 0}
        with open(workdir / "documents.jsonl", "w", encoding="utf8") as spool:
            for p in range(parts):
                part = pl.col("shipment_id").hash(seed=7) % parts == p
                legs = pl.scan_parquet(legs_path).filter(part).collect()
                if not legs.height:
                    continue
                shipments = pl.scan_parquet(shipments_path).filter(part).collect()
                documents, built_problems = self.calculator.export_documents(legs, shipments)
                problems += built_problems
                share, share_problems = _recipients(legs, documents, everyone, known)
                problems += share_problems
                rows_out = []
                leg_shipment = dict(zip(legs["leg_id"].to_list(), legs["shipment_id"].to_list()))
                for family in ("pact2", "pact3"):
                    rows_out += [footprint_row(d, family) for d in documents[family]]
                    counts["footprints"] += len(documents[family])
                rows_out += [tad_row(t, leg_shipment.get(t["activityId"], "")) for t in documents["tad"]]
                counts["tads"] += len(documents["tad"])
                for start in range(0, len(rows_out), SPOOL_CHUNK):
                    chunk = rows_out[start:start + SPOOL_CHUNK]
                    keys = {d.product_key for d in chunk}
                    spool.write(json.dumps({"documents": [asdict(d) for d in chunk],
                                            "share": {k: sorted(share.get(k, ())) for k in keys}}) + "\n")
            spool.flush()
            os.fsync(spool.fileno())
        return problems, counts


def _recipients(legs: pl.DataFrame, documents: dict[str, list[dict]], everyone: set[str],
                known: set[str]) -> tuple[dict[str, set[str]], list[str]]:
    """Who receives what: every shipment goes to the upload's recipients plus those named in its
    ``share_with`` cells; a TOC or HOC goes to everyone receiving a shipment that uses it."""
    share: dict[str, set[str]] = {}
    problems: list[str] = []
    per_shipment = legs.select("shipment_id").unique()
    if SHARE_COLUMN in legs.columns:
        named = (
            legs.select("shipment_id", pl.col(SHARE_COLUMN).cast(pl.String).str.split(by=";").alias("r"))
            .explode("r").with_columns(pl.col("r").str.split("|")).explode("r")
            .with_columns(pl.col("r").str.strip_chars()).filter(pl.col("r").is_not_null() & (pl.col("r") != ""))
            .unique()
        )
        unknown = sorted(set(named["r"].to_list()) - known)
        if unknown:
            problems.append(f"{SHARE_COLUMN}: unknown recipient client(s) {', '.join(unknown)}: not shared with them")
        for shipment_id, client in named.filter(pl.col("r").is_in(list(known))).iter_rows():
            share.setdefault(f"shipment:{shipment_id}", set()).add(client)
    for (shipment_id,) in per_shipment.iter_rows():
        share.setdefault(f"shipment:{shipment_id}", set()).update(everyone)
    for doc in documents["pact2"]:
        for extension in doc.get("extensions") or []:
            data = extension.get("data") or {}
            if "tces" not in data:
                continue
            receivers = share.get(f"shipment:{data['shipmentId']}", set())
            for tce in data["tces"]:
                for kind, key in (("toc", "tocId"), ("hoc", "hocId")):
                    if tce.get(key):
                        share.setdefault(f"{kind}:{tce[key]}", set()).update(receivers)
    return share, problems


def _read_spool(path: Path):
    with open(path, encoding="utf8") as spool:
        for line in spool:
            item = json.loads(line)
            yield [StoredDocument(**d) for d in item["documents"]], item["share"]
