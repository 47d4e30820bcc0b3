"""The /v1 API: calculate shipments, upload legs files, follow jobs, download their results."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse

import logistics

from . import own_tables, reports
from .documents import publishable
from .errors import ApiError, ErrorBody, FieldError
from .jobs import UPLOAD_SUFFIXES, parse_recipients, receive_form, receive_upload
from .models import (
    EmissionsResponse,
    ExchangeFormat,
    ExchangeResponse,
    Job,
    JobCounts,
    OwnTable,
    OwnTables,
    ShipmentBatch,
)
from .security import api_client, operator_client
from .storage import Client

router = APIRouter(prefix="/v1")

ERRORS = {
    400: {"model": ErrorBody, "description": "malformed body"},
    401: {"model": ErrorBody, "description": "missing, invalid (BadRequest) or expired (TokenExpired) access token"},
    413: {"model": ErrorBody, "description": "body larger than the service's limit (the message says it)"},
    422: {"model": ErrorBody, "description": "validation error: every invalid field with its path and reason"},
    500: {"model": ErrorBody, "description": "internal error"},
}
FORMAT = Query(None, alias="format", description="return exchange documents instead: iLEAP payloads, PACT v2.3 or v3.0 footprints")


async def _respond(request: Request, client: Client, shipments: list[logistics.Shipment], fmt: str | None) -> Any:
    state = request.app.state
    calculator = state.calculator
    # the client's own TOC/HOC tables where it registered them, else the service's
    tocs, hocs = await state.store.call(state.store.own_table_paths, client.client_id)
    own = (tocs or calculator.tocs, hocs or calculator.hocs)
    legs, totals, rows = await calculator.compute(shipments, frames=fmt is not None, own=own)
    if fmt is None:
        return _json(EmissionsResponse(data=calculator.emissions(rows)))
    built = await asyncio.to_thread(calculator.export, legs, totals, fmt, own)
    # a shipment with a leg that cannot be computed has no document, nor one that names a TOC or
    # HOC without a document: ``problems`` says why
    documents, unpublished = publishable(built.documents)
    return _json(ExchangeResponse(data=documents, problems=built.problems + unpublished))


def _json(body: EmissionsResponse | ExchangeResponse) -> Response:
    """The body serialized by its own model: the response model stays for the API's description,
    without FastAPI checking and encoding it once more (a third of a small request's time)."""
    return Response(body.model_dump_json(), media_type="application/json")


@router.post("/emissions/shipments", tags=["calculate"], response_model=EmissionsResponse | ExchangeResponse,
             responses=ERRORS)
async def calculate_shipment(request: Request, shipment: logistics.Shipment, fmt: ExchangeFormat | None = FORMAT,
                             client: Client = Depends(api_client)) -> Any:
    """One shipment's legs and hubs → per-leg and total TTW/WTT/WTW kg CO2e with factor provenance
    (GLEC Framework v3.0 / ISO 14083). A leg that cannot be computed carries its ``error``."""
    return await _respond(request, client, [shipment], fmt)


@router.post("/emissions/shipments/batch", tags=["calculate"], response_model=EmissionsResponse | ExchangeResponse,
             responses=ERRORS)
async def calculate_batch(request: Request, body: ShipmentBatch, fmt: ExchangeFormat | None = FORMAT,
                          client: Client = Depends(api_client)) -> Any:
    """Many shipments in one request: at most ``LOGISTICS_MAX_BATCH_SHIPMENTS`` (default 1000) and
    ``LOGISTICS_MAX_BODY_BYTES`` (default 4 MiB); larger → 413. Shipment ids must be unique."""
    limit = request.app.state.settings.max_batch_shipments
    if len(body.shipments) > limit:
        raise ApiError(413, "PayloadTooLarge", f"{len(body.shipments)} shipments: at most {limit} per request")
    seen: dict[str, int] = {}
    duplicates = []
    for n, shipment in enumerate(body.shipments):
        if shipment.shipment_id in seen:
            duplicates.append(FieldError(path=f"shipments[{n}].shipment_id",
                                         reason=f"duplicate of shipments[{seen[shipment.shipment_id]}]"))
        seen.setdefault(shipment.shipment_id, n)
    if duplicates:
        raise ApiError(422, "ValidationError", "shipment ids must be unique within a batch", duplicates)
    return await _respond(request, client, body.shipments, fmt)


# ------------------------------------------------------------------------------------------------
# Uploads and jobs

TABLE_PART = {"type": "string", "format": "binary",
              "description": "optional: the carrier's own {} table (.csv or .parquet) for this upload only"}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "legs table, .csv or .parquet"},
        "share_with": {"type": "string", "description": "recipient client ids (comma-separated) to share the footprints with"},
        "tocs": {**TABLE_PART, "description": TABLE_PART["description"].format("TOC")},
        "hocs": {**TABLE_PART, "description": TABLE_PART["description"].format("HOC")},
    },
}}}}}


def _job_view(request: Request, job: dict) -> Job:
    report = job["report"]
    base = f"{request.app.state.settings.base_url()}/v1/jobs/{job['id']}"
    links = {"self": base}
    if job["status"] == "done":
        links.update(results=f"{base}/results", shipments=f"{base}/shipments", errors=f"{base}/errors",
                     report=f"{base}/report")
    counts = JobCounts(**{k: report.get(k) for k in JobCounts.model_fields}) if report else None
    return Job(id=job["id"], status=job["status"], filename=job["filename"], sha256=job["sha256"],
               share_with=job["share_with"], attempts=job["attempts"], rows_done=job["rows_done"],
               rows_total=job["rows_total"], counts=counts, report=report, error=job["error"], links=links,
               own_tables={k: Path(p).name for k, p in (("tocs", job.get("tocs_path")), ("hocs", job.get("hocs_path"))) if p})


def queue_upload(state, client: Client, received: dict, idempotency_key: str | None,
                 column_mapping: dict | None = None) -> tuple[dict, bool]:
    """Check the upload's recipients and own tables and commit its job (in a thread: database,
    polars). Returns (job, created); nothing is kept of a refused upload. ``column_mapping``: the
    file's own columns (``logistics.mapping``'s dict shape), applied by the job."""
    files = [Path(received["path"])] + [t.path for t in received["tables"].values()]
    try:
        recipients = parse_recipients(received["fields"].get("share_with"))
        known = {c.client_id: c for c in state.store.clients()}
        unknown = [r for r in recipients if r not in known or known[r].role != "recipient" or not known[r].active]
        if unknown:
            raise ApiError(422, "ValidationError", "unknown recipient client(s)",
                           [FieldError(path="share_with", reason=f"{r}: no such recipient client") for r in unknown])
        paths = dict(zip(own_tables.KINDS, state.store.own_table_paths(client.client_id), strict=True))
        pack = state.calculator.pack
        for kind, table in received["tables"].items():
            own_tables.check(table.path, kind, table.filename, pack)
        for kind, table in received["tables"].items():
            paths[kind] = str(own_tables.keep(table.path, state.settings.data_dir, kind, table.sha256))
    except BaseException:
        for path in files:
            path.unlink(missing_ok=True)
        raise
    job, created = state.store.create_job({
        "id": received["id"], "owner": client.client_id, "idempotency_key": idempotency_key,
        "sha256": received["sha256"], "filename": received["filename"], "path": received["path"],
        "share_with": recipients, "tocs_path": paths["tocs"], "hocs_path": paths["hocs"], "column_mapping": column_mapping,
    })
    if not created:
        Path(received["path"]).unlink(missing_ok=True)
    return job, created


@router.post("/uploads", tags=["uploads"], status_code=202, response_model=Job, openapi_extra=UPLOAD_BODY,
             responses={**ERRORS, 200: {"model": Job, "description": "the job already created with this Idempotency-Key"},
                        403: {"model": ErrorBody, "description": "not an operator client"},
                        409: {"model": ErrorBody, "description": "Idempotency-Key reused for a different file"}})
async def upload(request: Request, response: Response, client: Client = Depends(operator_client),
                 idempotency_key: str | None = Header(None, max_length=200)) -> Job:
    """Upload a legs file (multipart, part ``file``); starts a job. With an ``Idempotency-Key``
    header, sending the same file again returns the same job instead of starting another.
    Optional parts ``tocs`` / ``hocs``: the carrier's own TOC / HOC tables for this upload (else
    those registered with ``PUT /v1/own-tables/{kind}``, else none); checked on arrival (422
    naming the row and column of a bad table). A body cut off before its closing boundary, or
    shorter than its Content-Length, is refused (400) and starts nothing."""
    state = request.app.state
    received = await receive_upload(request.stream(), request.headers.get("content-type", ""),
                                    state.settings.data_dir, state.settings.max_upload_bytes,
                                    request.headers.get("content-length"))
    job, created = await state.store.call(queue_upload, state, client, received, idempotency_key)
    if not created:
        if job["sha256"] != received["sha256"]:
            raise ApiError(409, "Conflict", "this Idempotency-Key was used for a different file")
        response.status_code = 200
    elif state.worker is not None:
        state.worker.wakeup.set()
    return _job_view(request, job)


async def _own_job(request: Request, job_id: str, client: Client) -> dict:
    store = request.app.state.store
    job = await store.call(store.job, job_id)
    if job is None or job["owner"] != client.client_id:
        raise ApiError(404, "NotFound", f"no job {job_id!r}")
    return job


JOB_ERRORS = {**ERRORS, 403: {"model": ErrorBody, "description": "not an operator client"},
              404: {"model": ErrorBody, "description": "no such job (or not yours)"}}


@router.get("/jobs/{job_id}", tags=["uploads"], response_model=Job, responses=JOB_ERRORS)
async def get_job(request: Request, job_id: str, client: Client = Depends(operator_client)) -> Job:
    """Status (queued, running, done, failed), progress, counts and download links."""
    return _job_view(request, await _own_job(request, job_id, client))


def job_file(request: Request, job: dict, name: str, fmt: str) -> FileResponse:
    """A done job's output file, as CSV or Parquet (converted once, then kept)."""
    job_id = job["id"]
    if job["status"] != "done":
        raise ApiError(409, "Conflict", f"job {job_id} is {job['status']}: results exist once it is done")
    workdir = request.app.state.settings.data_dir / "jobs" / job_id
    source = workdir / name
    if fmt == "csv" and source.suffix == ".parquet":
        target = source.with_suffix(".csv")
        if not target.exists():  # converted once, streaming, then served from disk
            tmp = target.with_suffix(".csv.tmp")
            pl.scan_parquet(source).sink_csv(tmp)
            tmp.replace(target)
        source = target
    elif fmt == "parquet" and source.suffix == ".csv":
        target = source.with_suffix(".parquet")
        if not target.exists():
            tmp = target.with_suffix(".parquet.tmp")
            pl.scan_csv(source, infer_schema=False).sink_parquet(tmp)
            tmp.replace(target)
        source = target
    media = "text/csv" if source.suffix == ".csv" else "application/vnd.apache.parquet"
    return FileResponse(source, media_type=media, filename=f"{job_id}-{source.name}")


DOWNLOAD = Query("csv", alias="format", pattern="^(csv|parquet)$")
FILE_RESPONSE = {200: {"description": "the file", "content": {"text/csv": {}, "application/vnd.apache.parquet": {}}},
                 409: {"model": ErrorBody, "description": "the job is not done"}, **JOB_ERRORS}


@router.get("/jobs/{job_id}/results", tags=["uploads"], response_class=FileResponse, responses=FILE_RESPONSE)
async def job_results(request: Request, job_id: str, fmt: str = DOWNLOAD, client: Client = Depends(operator_client)):
    """Per-leg results: the input columns with distance, activity, factor provenance, emissions, error."""
    return await asyncio.to_thread(job_file, request, await _own_job(request, job_id, client), "legs.parquet", fmt)


@router.get("/jobs/{job_id}/shipments", tags=["uploads"], response_class=FileResponse, responses=FILE_RESPONSE)
async def job_shipments(request: Request, job_id: str, fmt: str = DOWNLOAD, client: Client = Depends(operator_client)):
    """One row per shipment: totals, tkm, intensity, primary data share, completeness."""
    return await asyncio.to_thread(job_file, request, await _own_job(request, job_id, client), "shipments.parquet", fmt)


@router.get("/jobs/{job_id}/errors", tags=["uploads"], response_class=FileResponse, responses=FILE_RESPONSE)
async def job_errors(request: Request, job_id: str, fmt: str = DOWNLOAD, client: Client = Depends(operator_client)):
    """Rejected rows with their input line and the reason."""
    return await asyncio.to_thread(job_file, request, await _own_job(request, job_id, client), "errors.csv", fmt)


REPORT_LANG = Query("en", pattern="^(en|ja)$", description="en or ja")
DOCUMENT_FORMAT = Query("html", alias="format", pattern="^(html|pdf)$", description="html (one offline file) or pdf")
DOCUMENT_RESPONSE = {200: {"description": "the document", "content": {"text/html": {}, "application/pdf": {}}},
                     409: {"model": ErrorBody, "description": "the job is not done"}}


def _document(path: Path, fmt: str, filename: str) -> FileResponse:
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    return FileResponse(path, media_type=media, filename=filename if fmt == "pdf" else None)


@router.get("/jobs/{job_id}/report", tags=["uploads"], response_class=FileResponse,
            responses={**JOB_ERRORS, **DOCUMENT_RESPONSE})
async def job_report(request: Request, job_id: str, lang: str = REPORT_LANG, fmt: str = DOCUMENT_FORMAT,
                     by: list[str] = Query([], max_length=8, description="breakdowns: customer, lane, month, mode, tag_<name>, ..."),
                     client: Client = Depends(operator_client)):
    """The job's emissions report as ISO 14083 and the GLEC Framework ask a reporting party to
    disclose (totals, per mode and kind of TCE, data quality, methodology, breakdowns, charts),
    linking each shipment to its calculation sheet."""
    job = await _own_job(request, job_id, client)
    settings = request.app.state.settings
    base = settings.base_url()
    path = await asyncio.to_thread(
        reports.job_report, settings.data_dir, job, lang=lang, by=by, entity=request.app.state.calculator.exchange_config.company_name,
        pdf=fmt == "pdf", sheet_href=lambda sid: f"{base}{reports.sheet_path(job_id, sid)}?lang={lang}", back_href=None)
    return _document(path, fmt, f"{job_id}-report.pdf")


@router.get("/jobs/{job_id}/shipments/{shipment_id}/sheet", tags=["uploads"], response_class=FileResponse,
            responses={**ERRORS, **DOCUMENT_RESPONSE,
                       404: {"model": ErrorBody, "description": "no such job or shipment, or not yours nor shared with you"}})
async def shipment_sheet(request: Request, job_id: str, shipment_id: str, lang: str = REPORT_LANG,
                         fmt: str = DOCUMENT_FORMAT, client: Client = Depends(api_client)):
    """A shipment's calculation sheet, for verification: every TCE with its inputs as read, how its
    distance was found, its factor row (source, edition, page), the formula with its numbers and
    the result, stamped with the project version, the pack's edition and tables hash and the input
    file's hash. For the job's owner and the clients its footprint is shared with."""
    state = request.app.state
    job = await state.store.call(state.store.job, job_id)
    allowed = job is not None and (job["owner"] == client.client_id or await state.store.call(
        state.store.shipment_shared, client.client_id, job_id, shipment_id))
    if not allowed:
        raise ApiError(404, "NotFound", f"no shipment {shipment_id!r} of job {job_id!r}")
    path = await asyncio.to_thread(reports.job_sheet, state.settings.data_dir, job, shipment_id, lang=lang,
                                   pdf=fmt == "pdf", back_href=None)
    return _document(path, fmt, f"{job_id}-{shipment_id}-sheet.pdf")


# ------------------------------------------------------------------------------------------------
# The carrier's own TOC / HOC tables

OwnKind = Literal["tocs", "hocs"]
TABLE_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "the table, .csv or .parquet, with the columns of the factor pack's tocs / hocs"}},
}}}}}
TABLE_ERRORS = {**ERRORS, 403: {"model": ErrorBody, "description": "not an operator client"}}


def _table_view(kind: str, row: dict) -> OwnTable:
    return OwnTable(kind=kind, filename=row["filename"], sha256=row["sha256"], rows=row["rows"],
                    registered=datetime.fromtimestamp(row["registered_us"] / 1e6, UTC))


def _register(state, client: Client, kind: str, table) -> dict:
    try:
        rows = own_tables.check(table.path, kind, table.filename, state.calculator.pack)
        kept = own_tables.keep(table.path, state.settings.data_dir, kind, table.sha256)
    except BaseException:
        table.path.unlink(missing_ok=True)
        raise
    state.store.set_own_table(client.client_id, kind, str(kept), table.filename, table.sha256, rows)
    return state.store.own_tables(client.client_id)[kind]


@router.put("/own-tables/{kind}", tags=["own tables"], response_model=OwnTable, openapi_extra=TABLE_BODY,
            responses=TABLE_ERRORS)
async def register_own_table(request: Request, kind: OwnKind, client: Client = Depends(operator_client)) -> OwnTable:
    """Register the carrier's own TOC or HOC table (multipart, part ``file``): the jobs of later
    uploads use it (an upload may still bring its own). Checked as the engine reads it: a bad table
    is a 422 naming the row and column; an id that is also the pack's is refused."""
    state = request.app.state
    _, files, _ = await receive_form(request.stream(), request.headers.get("content-type", ""),
                                     request.headers.get("content-length"), state.settings.data_dir,
                                     {"file": own_tables.MAX_BYTES})
    table = files.get("file")
    if table is None:
        raise ApiError(422, "ValidationError", "no file: send the table in a part named 'file'")
    if Path(table.filename).suffix.lower() not in UPLOAD_SUFFIXES:
        table.path.unlink(missing_ok=True)
        raise ApiError(422, "ValidationError", f"{table.filename}: expected a .csv or .parquet file")
    return _table_view(kind, await state.store.call(_register, state, client, kind, table))


@router.get("/own-tables", tags=["own tables"], response_model=OwnTables, responses=TABLE_ERRORS)
async def list_own_tables(request: Request, client: Client = Depends(operator_client)) -> OwnTables:
    """The TOC and HOC tables the carrier registered (null: none)."""
    store = request.app.state.store
    tables = await store.call(store.own_tables, client.client_id)
    return OwnTables(**{kind: _table_view(kind, tables[kind]) if kind in tables else None for kind in own_tables.KINDS})


@router.delete("/own-tables/{kind}", tags=["own tables"], status_code=204,
               responses={**TABLE_ERRORS, 404: {"model": ErrorBody, "description": "no such table registered"}})
async def drop_own_table(request: Request, kind: OwnKind, client: Client = Depends(operator_client)) -> Response:
    """Stop using the registered table for new uploads (jobs already queued keep theirs)."""
    store = request.app.state.store
    if not await store.call(store.drop_own_table, client.client_id, kind):
        raise ApiError(404, "NotFound", f"no {kind} table registered")
    return Response(status_code=204)
