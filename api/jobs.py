"""Uploads and the jobs that compute them.

Receiving (``receive_upload``): the multipart body is parsed as it streams in (off the event
loop); each file part (the legs ``file``, optional own ``tocs`` / ``hocs`` tables) goes straight
to ``<data>/uploads/<job>-<part>.part…`` (hashed and counted on the way, 413 past the limit) and
is fsynced. A body cut off before its closing boundary, or not as long as its Content-Length, is
refused with 400 and leaves nothing. Only then is the legs file renamed into place, the own tables
checked and kept (``own_tables``), and the job committed to the database and acknowledged.

Running (``JobWorker``, a thread): claim a queued job (or one whose worker died: its lease ran
out), stream the file through ``logistics.batch.run`` into ``<data>/jobs/<job>/`` (legs, shipments,
errors), build the PACT v2/v3 footprints and TADs per hash partition of shipments, spool them to
disk, then store them all and mark the job done in **one** transaction: a job killed at any point
leaves no footprint visible, and its next attempt starts again from the file. Footprint ids are
derived from their content, so a re-run or a re-upload stores nothing twice; a shipment recomputed
with other figures gets a new footprint that deprecates the earlier one (``Store.put_documents``).
Interrupted uploads' ``.part`` files are removed by the worker once stale. The worker survives
whatever a job raises (a polars panic included): the job is marked failed with the reason. With
several workers (processes) on one database, a job is claimed by one of them; a worker that lost
its lease (its job taken over) stores nothing (``Store.finish_job``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from python_multipart.multipart import MultipartParser, parse_options_header

from logistics import batch, exchange
from logistics.calculator import calculator_for
from logistics.io import InputError, format_for_people

from . import own_tables, reports
from .calc import Calculator
from .documents import footprint_row, publishable, tad_row
from .errors import ApiError
from .storage import LostJob, Store, StoredDocument

log = logging.getLogger("logistics_api.jobs")

UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
PARTITION_ROWS = 200_000  # legs exported per partition: bounds the export's memory
SPOOL_CHUNK = 1000  # documents per insert while committing
PROBLEMS_KEPT = 100
SHARE_COLUMN = "share_with"  # optional legs column: client ids (separated by ; or |) per shipment
# The job worker survives every error, including polars' PanicException (a BaseException, as
# native panics are); only the interpreter's own exit requests stop it.
STOPS = (KeyboardInterrupt, SystemExit)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
# An upload's .part file untouched this long belongs to a request that died with its process (a
# live upload writes to it continuously); the worker removes such files at start and then hourly.
STALE_PART_SECONDS = 3600.0


@dataclass
class ReceivedFile:
    """A file part of an upload, on disk as ``path`` (``.part`` until the body is complete)."""

    path: Path
    filename: str
    limit: int
    size: int = 0
    sha: Any = field(default_factory=hashlib.sha256)
    handle: Any = None

    @property
    def sha256(self) -> str:
        return self.sha.hexdigest()


class _Form:
    """Receives one multipart body: the file parts named in ``limits`` each to its own file under
    ``directory`` (hashed and counted on the way), small text fields to memory; ``complete`` once
    the closing boundary was read."""

    FIELD_LIMIT = 64 * 1024

    def __init__(self, directory: Path, ident: str, limits: dict[str, int]):
        self.directory, self.ident, self.limits = directory, ident, limits
        self.fields: dict[str, str] = {}
        self.files: dict[str, ReceivedFile] = {}
        self.complete = False
        self._current: ReceivedFile | None = None
        self._name: str | None = None
        self._value = bytearray()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_end": self._finished,
        }

    def _begin(self) -> None:
        self._headers, self._name, self._value, self._current = {}, None, bytearray(), None

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options and self._name in self.limits:
            if self._name in self.files:
                raise ApiError(422, "ValidationError", f"send one {self._name!r} part per upload")
            filename = Path(options[b"filename"].decode("utf-8", "replace")).name or f"{self._name}.csv"
            # "<id>-<part>.part<.csv>": marked partial for the sweep, and readable by its suffix
            suffix = Path(filename).suffix.lower()[:10]
            part = ReceivedFile(self.directory / f"{self.ident}-{self._name}.part{suffix}", filename, self.limits[self._name])
            part.handle = open(part.path, "wb")
            self.files[self._name] = self._current = part

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        part = self._current
        if part is not None:
            part.size += len(chunk)
            if part.size > part.limit:
                raise ApiError(413, "PayloadTooLarge", f"the {self._name!r} part exceeds the limit of {part.limit} bytes")
            part.sha.update(chunk)
            part.handle.write(chunk)
        else:
            self._value.extend(chunk)
            if len(self._value) > self.FIELD_LIMIT:
                raise ApiError(413, "PayloadTooLarge", f"form field {self._name!r} exceeds {self.FIELD_LIMIT} bytes")

    def _end(self) -> None:
        if self._current is not None:
            self._current.handle.flush()
            os.fsync(self._current.handle.fileno())
            self._current.handle.close()
            self._current = None
        elif self._name:
            self.fields[self._name] = self._value.decode("utf-8", "replace")

    def _finished(self) -> None:
        self.complete = True

    def discard(self) -> None:
        for part in self.files.values():
            if part.handle is not None and not part.handle.closed:
                part.handle.close()
            part.path.unlink(missing_ok=True)


WRITE_CHUNK = 1024 * 1024  # body bytes handed to the parser (and the disk) at once, off the event loop


async def receive_form(stream: AsyncIterator[bytes], content_type: str, content_length: str | None, data_dir: Path,
                       limits: dict[str, int]) -> tuple[str, dict[str, ReceivedFile], dict[str, str]]:
    """Parse a multipart body into ``<data_dir>/uploads``: (its id, the file parts named in
    ``limits`` as ``.part`` files, the text fields). Refused with 400 (and nothing kept) unless the
    body is complete: its closing boundary read and as long as its Content-Length says."""
    kind, options = parse_options_header(content_type.encode("latin-1", "replace"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(400, "BadRequest", "send the file as multipart/form-data with a part named 'file'")
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    ident = uuid.uuid4().hex
    form = _Form(uploads, ident, limits)
    parser = MultipartParser(boundary, form.callbacks())
    received = 0
    try:
        pending = bytearray()
        async for chunk in stream:
            received += len(chunk)
            pending += chunk
            if len(pending) >= WRITE_CHUNK:
                await asyncio.to_thread(parser.write, bytes(pending))
                pending.clear()
        await asyncio.to_thread(parser.write, bytes(pending))
        parser.finalize()
        if content_length is not None and content_length.isdigit() and int(content_length) != received:
            raise ApiError(400, "BadRequest", f"the body has {received} bytes but its Content-Length says {content_length}")
        if not form.complete:
            raise ApiError(400, "BadRequest", "the multipart body ends without its closing boundary (was it cut off?); "
                                              "nothing was stored")
    except ApiError:
        form.discard()
        raise
    except Exception as exc:
        form.discard()
        raise ApiError(400, "BadRequest", f"malformed or interrupted multipart body: {exc}") from exc
    return ident, form.files, form.fields


async def receive_upload(stream: AsyncIterator[bytes], content_type: str, data_dir: Path, limit: int,
                         content_length: str | None = None) -> dict:
    """Receive a legs upload (part ``file``; optional own tables ``tocs``, ``hocs``): the legs file
    is fsynced and renamed into place; returns its path, name, size, sha256, the own tables as
    ``ReceivedFile`` (still ``.part``: check them, then ``own_tables.keep``) and the text fields."""
    limits = {"file": limit, **{kind: own_tables.MAX_BYTES for kind in own_tables.KINDS}}
    ident, files, fields = await receive_form(stream, content_type, content_length, data_dir, limits)
    try:
        legs = files.get("file")
        if legs is None:
            raise ApiError(422, "ValidationError", "no file: send the legs file in a part named 'file'")
        suffix = Path(legs.filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise ApiError(422, "ValidationError", f"{legs.filename}: expected a .csv or .parquet file")
        for kind in own_tables.KINDS:
            if kind in files and Path(files[kind].filename).suffix.lower() not in UPLOAD_SUFFIXES:
                raise ApiError(422, "ValidationError", f"{kind}: {files[kind].filename}: expected a .csv or .parquet file")
        final = data_dir / "uploads" / f"{ident}{suffix}"
        await asyncio.to_thread(_place, legs.path, final)
    except BaseException:
        for part in files.values():
            part.path.unlink(missing_ok=True)
        raise
    return {"id": ident, "path": str(final), "filename": legs.filename, "size": legs.size, "sha256": legs.sha256,
            "tables": {k: files[k] for k in own_tables.KINDS if k in files}, "fields": fields}


def _place(part: Path, final: Path) -> None:
    os.replace(part, final)
    _fsync_dir(final.parent)


def sweep_partial_uploads(data_dir: Path, older_than: float = STALE_PART_SECONDS) -> list[Path]:
    """Remove ``.part`` files of uploads that were never completed; returns what was removed."""
    removed = []
    cutoff = time.time() - older_than
    for part in (data_dir / "uploads").glob("*.part*"):
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


STALE_STAGED_SECONDS = 7 * 24 * 3600.0  # an upload left waiting for its column mapping (the pages)


def staged_path(data_dir: Path, ident: str) -> Path:
    """Where an upload waiting for its column mapping is described (``logistics_api.pages``): its
    owner, the received file and its header, beside the file."""
    if not ident.isalnum():
        raise ApiError(404, "NotFound", "no such upload")
    return data_dir / "uploads" / f"{ident}.staged.json"


def sweep_staged_uploads(data_dir: Path, older_than: float = STALE_STAGED_SECONDS) -> list[Path]:
    """Remove uploads whose column mapping was never given, and their files; returns what was removed."""
    removed = []
    cutoff = time.time() - older_than
    for staged in (data_dir / "uploads").glob("*.staged.json"):
        try:
            if staged.stat().st_mtime >= cutoff:
                continue
            upload = Path(json.loads(staged.read_text(encoding="utf8"))["received"]["path"])
            if upload.parent == staged.parent:  # never anything outside the uploads folder
                upload.unlink(missing_ok=True)
            staged.unlink()
            removed.append(staged)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("cannot remove the waiting upload %s: %s", staged, exc)
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
    def __init__(self, store: Store, calculator: Calculator, data_dir: Path, lease_seconds: float, attempts: int,
                 public_url: str | None = None):
        self.store, self.calculator, self.data_dir = store, calculator, data_dir
        self.public_url = public_url  # where the service is reached: the footprints name their calculation sheet
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
                    sweep_staged_uploads(self.data_dir)
                if not self.run_once():
                    self.wakeup.wait(min(1.0, self.lease / 2))
                    self.wakeup.clear()
            except BaseException as exc:  # e.g. the database away for a moment: try again, never die
                if isinstance(exc, STOPS):
                    raise
                log.exception("job worker")
                self._stop.wait(1.0)

    def run_once(self) -> bool:
        """Run one claimable job; False when there was none. Whatever the job raises (a polars
        panic included) marks it failed with the reason, and the worker goes on."""
        job = self.store.claim_job(self.lease, self.attempts, WORKER_ID)
        if job is None:
            return False
        attempt = job["attempts"]
        progress = {"rows": 0, "total": None}
        beat_stop = threading.Event()

        def heartbeat() -> None:  # keeps the lease while the job runs
            while not beat_stop.wait(self.lease / 3):
                try:
                    if not self.store.job_progress(job["id"], attempt, progress["rows"], progress["total"], self.lease):
                        log.warning("job %s: attempt %d was taken over by another worker", job["id"], attempt)
                except Exception:
                    log.exception("job %s: cannot extend the lease", job["id"])

        beat = threading.Thread(target=heartbeat, name=f"lease-{job['id']}", daemon=True)
        beat.start()
        try:
            self._run(job, progress)
        except InputError as exc:
            self.store.fail_job(job["id"], str(exc), attempt)
        except LostJob as exc:
            log.warning("%s", exc)
        except BaseException as exc:
            if isinstance(exc, STOPS):
                raise
            log.exception("job %s failed", job["id"])
            self.store.fail_job(job["id"], f"{type(exc).__name__}: {exc}"[:2000], attempt)
        finally:
            beat_stop.set()
            beat.join()
        return True

    def _run(self, job: dict, progress: dict) -> None:
        workdir = self.data_dir / "jobs" / job["id"]
        shutil.rmtree(workdir, ignore_errors=True)  # an earlier attempt's leftovers
        workdir.mkdir(parents=True)
        calc = self.calculator
        tocs, hocs = self.tables(job)

        def on_progress(rows: int, total: int | None) -> None:
            progress["rows"], progress["total"] = rows, total

        # full provenance: the exporter reads each leg's factor provenance and the file's own columns
        # (share_with, departure_at, ...)
        report = batch.run(job["path"], workdir / "legs.parquet", shipments_out=workdir / "shipments.parquet",
                           errors_out=workdir / "errors.csv", factors_out=workdir / "factors.parquet",
                           calculator=calculator_for(calc.pack, tocs=tocs, hocs=hocs), provenance="full",
                           progress=on_progress, columns=job.get("column_mapping"))
        progress["rows"] = report.rows_read
        problems, counts = self._export(job, workdir, tocs, hocs)
        summary = format_for_people(report.as_dict())
        with self.store.tx(write=True) as tx:
            new = 0
            for chunk, share in _read_spool(workdir / "documents.jsonl"):
                new += self.store.put_documents(tx, chunk, share, job_id=job["id"])
            self.store.finish_job(tx, job["id"], job["attempts"], {
                **summary, **counts, "footprints_new": new,
                "problems": problems[:PROBLEMS_KEPT], "problem_count": len(problems),
            })

    def tables(self, job: dict) -> tuple[str | None, str | None]:
        """The own (tocs, hocs) a job runs with: those its upload brought or its owner had
        registered when it was queued, else the service's (LOGISTICS_TOCS / LOGISTICS_HOCS)."""
        return job.get("tocs_path") or self.calculator.tocs, job.get("hocs_path") or self.calculator.hocs

    def documents(self, legs: pl.DataFrame, shipments: pl.DataFrame, tocs: str | None,
                  hocs: str | None) -> tuple[dict[str, list[dict]], list[str]]:
        """PACT v2 and v3 footprints and iLEAP TADs of computed legs (built with the job's own
        tables), and what could not be built or published."""
        calc = self.calculator
        out: dict[str, list[dict]] = {}
        problems: list[str] = []
        for fmt, family in (("pact-v2", "pact2"), ("pact-v3", "pact3")):
            built = exchange.build_export(legs, shipments, fmt, calc.exchange_config, pack=calc.pack, tocs=tocs, hocs=hocs)
            out[family], unpublished = publishable(built.documents)
            problems += [p for p in built.problems + unpublished if p not in problems]
        out["tad"] = []
        if {"departure_at", "arrival_at"} & set(legs.columns):
            out["tad"], tad_problems = exchange.tad_payloads(exchange.export.prepare_legs(legs))
            problems += tad_problems
        return out, problems

    def _export(self, job: dict, workdir: Path, tocs: str | None, hocs: str | None) -> tuple[list[str], dict]:
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
                documents, built_problems = self.documents(legs, shipments, tocs, hocs)
                if self.public_url:
                    name_sheets(documents, self.public_url, job["id"])
                problems += built_problems
                share, share_problems = _recipients(legs, documents, everyone, known)
                problems += share_problems
                rows_out = []
                leg_shipment = dict(zip(legs["leg_id"].to_list(), legs["shipment_id"].to_list(), strict=True))
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


def name_sheets(documents: dict[str, list[dict]], public_url: str, job_id: str) -> None:
    """Each shipment footprint names its calculation sheet in its ``comment``, the place PACT has
    for free text (v2.3 and v3.0; the iLEAP data has none). The footprint's id does not change."""
    for family in ("pact2", "pact3"):
        for doc in documents.get(family, ()):
            for extension in doc.get("extensions") or []:
                shipment_id = (extension.get("data") or {}).get("shipmentId")
                if shipment_id and "tces" in extension["data"]:
                    url = public_url + reports.sheet_path(job_id, shipment_id)
                    doc["comment"] = " ".join(t for t in (doc.get("comment"), f"Calculation sheet: {url}") if t)


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
