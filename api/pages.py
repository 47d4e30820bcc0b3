"""The service's pages (server-rendered, no script, nothing from another host), under ``/pages``.

- A carrier (an ``operator`` client) signs in, uploads a legs file, maps its own column names and
  units when they are not ours (the mapping is kept for its next upload), follows the job's
  progress, then reads its summary, the rows not computed, the report and the calculation
  sheets, and downloads the files.
- A shipper (a ``recipient`` client) signs in and sees the shipment footprints shared with it, a
  shipment's legs (its TCEs) and sheet, and a report on its shipments.

Sign-in takes the client's id and secret, checked as the token endpoint checks them (failed
attempts limited the same way); the session is an access token of ``logistics_api.auth`` in an
HttpOnly, SameSite=Strict cookie, so pages and API share one authentication and one tenancy:
a carrier sees only its jobs, a shipper only what is shared with it. Every form carries a token
bound to the session (and a POST from another origin is refused). Pages speak English or
Japanese: ``?lang=``, else the browser's ``Accept-Language``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FunctionLoader, StrictUndefined, select_autoescape

import logistics
from logistics.io import LINE_ERROR, InputError, open_legs
from logistics.mapping import UNITS, Mapping, MappingError, read_header, suggest
from logistics.report import numbers
from logistics.report.render import stylesheet
from logistics.report.terms import LANGUAGES, TERMS, negotiate, value_label
from logistics.schema import LEG_COLUMNS, LINE_COLUMN, PASS_THROUGH_COLUMNS, PASS_THROUGH_PREFIX
from logistics.vocabulary import MODES

from . import reports
from .errors import ApiError
from .jobs import receive_upload, staged_path
from .pact import authenticate
from .security import token_client
from .storage import Client
from .v1 import job_file, queue_upload

router = APIRouter(prefix="/pages", include_in_schema=False)

SESSION_COOKIE = "lc2_session"
LANG_COOKIE = "lc2_lang"
# No script at all; the styles are inside each page; forms post to this origin only.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
PREVIEW_ROWS = 5
VALUE_SAMPLE_ROWS = 5000  # rows read to find the spellings of a mapped mode column
ERROR_ROWS_SHOWN = 50
FILES = {"results": "legs.parquet", "shipments": "shipments.parquet", "errors": "errors.csv", "factors": "factors.parquet"}
REQUIRED = ("shipment_id", "mode")  # and mass_kg or teu

# The pages' own words (the report's are in logistics.report.terms).
WORDS: dict[str, tuple[str, str]] = {
    "sign_in": ("Sign in", "サインイン"),
    "sign_out": ("Sign out", "サインアウト"),
    "sign_in_help": ("Sign in with your client id and secret (the same credentials as the API).",
                     "クライアントIDとシークレット（APIと同じ認証情報）でサインインしてください。"),
    "client_id": ("Client id", "クライアントID"),
    "client_secret": ("Client secret", "クライアントシークレット"),
    "failed": ("Sign-in failed: check the client id and the secret.",
               "サインインに失敗しました。クライアントIDとシークレットを確認してください。"),
    "throttled": ("Too many failed attempts: try again later.", "失敗が続いたため、しばらくしてから再度お試しください。"),
    "other_language": ("日本語", "English"),
    "carrier_home": ("Uploads", "アップロード"),
    "upload_title": ("Upload a legs file", "輸送区間ファイルのアップロード"),
    "upload_help": ("CSV or Parquet, one row per transport leg or hub. Your own column names and units are fine: "
                    "you map them in the next step, once.",
                    "CSVまたはParquet、輸送区間・拠点ごとに1行。独自の列名や単位のままで構いません。次の画面で一度だけ対応付けます。"),
    "file": ("File", "ファイル"),
    "share_with": ("Share the footprints with (client ids, comma-separated)", "フットプリントの共有先（クライアントID、カンマ区切り）"),
    "upload": ("Upload", "アップロード"),
    "jobs": ("Your uploads", "アップロード履歴"),
    "no_jobs": ("No upload yet.", "アップロードはまだありません。"),
    "status": ("Status", "状態"),
    "queued": ("queued", "待機中"),
    "running": ("running", "処理中"),
    "done": ("done", "完了"),
    "failed_status": ("failed", "失敗"),
    "uploaded": ("Uploaded", "アップロード日時"),
    "rows": ("Rows", "行数"),
    "columns_title": ("Map your columns", "列の対応付け"),
    "columns_help": ("Say which legs column each of your columns is, and the unit of its numbers. Columns left "
                     "unused are kept as they are. The mapping is kept for your next upload.",
                     "各列がどの項目に当たるか、数値の単位とともに指定してください。使用しない列はそのまま残ります。"
                     "対応付けは次回のアップロードのために保存されます。"),
    "your_column": ("Your column", "ファイルの列"),
    "examples": ("First values", "先頭の値"),
    "legs_column": ("Legs column", "対応する項目"),
    "unit": ("Unit", "単位"),
    "tag_name": ("tag name (for tag_…)", "タグ名（tag_…の場合）"),
    "not_used": ("— not used —", "— 使用しない —"),
    "as_tag": ("a tag: tag_<name>", "タグ: tag_<名前>"),
    "mode_values": ("Your spellings of the mode", "輸送モードの表記"),
    "mode_values_help": ("Your file writes the mode its own way: say which mode each spelling is.",
                         "ファイル独自の輸送モードの表記を、それぞれ対応する輸送モードに指定してください。"),
    "calculate": ("Calculate with this mapping", "この対応付けで算定する"),
    "needs": ("These legs columns are needed: {columns}.", "次の項目が必要です: {columns}。"),
    "progress": ("Progress", "進捗"),
    "rows_of": ("{done} of {total} rows", "{total}行中{done}行"),
    "rows_done": ("{done} rows", "{done}行"),
    "refreshes": ("This page refreshes by itself.", "このページは自動で更新されます。"),
    "summary": ("Summary", "概要"),
    "job_failed": ("The job failed", "処理に失敗しました"),
    "open_report": ("Open the report", "報告書を開く"),
    "report_pdf": ("Report (PDF)", "報告書（PDF）"),
    "downloads": ("Downloads", "ダウンロード"),
    "results_file": ("Per-leg results", "区間別の結果"),
    "shipments_file": ("Shipment totals", "出荷別の合計"),
    "errors_file": ("Rows not computed", "算定できなかった行"),
    "factors_file": ("Emission factors used", "使用した排出係数"),
    "rejected_rows": ("Rows not computed", "算定できなかった行"),
    "more_rows": ("The first {n} are shown; the file has them all.", "先頭{n}行を表示しています。全行はファイルにあります。"),
    "mapped_columns": ("Columns mapped", "列の対応付け"),
    "footprints": ("Shipment footprints shared with you", "共有された出荷フットプリント"),
    "none_shared": ("No footprint is shared with you yet.", "共有されたフットプリントはまだありません。"),
    "report_mine": ("Report on my shipments", "自社出荷の報告書"),
    "carrier": ("Carrier", "輸送事業者"),
    "legs_title": ("Legs of shipment {id}", "出荷 {id} の輸送区間"),
    "toc_hoc": ("TOC / HOC", "TOC / HOC"),
    "mass": ("Mass", "重量"),
    "distance": ("Distance", "距離"),
    "tce_id": ("TCE", "TCE"),
    "legs_link": ("Legs", "輸送区間"),
    "home": ("Home", "ホーム"),
    "signed_in_as": ("Signed in as {name}", "{name} でサインイン中"),
    "not_found": ("Not found.", "見つかりません。"),
    "bad_form": ("The form has expired: open the page again.", "フォームの有効期限が切れました。ページを開き直してください。"),
}


def word(key: str, lang: str, **values) -> str:
    pair = WORDS.get(key) or TERMS[key]
    text = pair[LANGUAGES.index(lang)]
    return text.format(**values) if values else text


# ---------------------------------------------------------------------- templates

@lru_cache(maxsize=1)
def _environment() -> Environment:
    def source(name: str):
        return resources.files("logistics_api").joinpath("templates", name).read_text(encoding="utf8"), None, lambda: True

    env = Environment(loader=FunctionLoader(source), autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(numbers.FILTERS)
    return env


def _page(request: Request, template: str, lang: str, client: Client | None, status: int = 200, **values) -> HTMLResponse:
    html = _environment().get_template(template).render(
        lang=lang, W=lambda key, **v: word(key, lang, **v), V=lambda column, value: value_label(column, value, lang),
        css=stylesheet(), client=client, csrf=_csrf(request), path=request.url.path, version=logistics.__version__,
        numbers=numbers, quote=lambda text: quote(str(text), safe=""), **values)
    response = HTMLResponse(html, status_code=status, headers=_page_headers())
    _remember_language(request, response, lang)
    return response


def _page_headers() -> dict[str, str]:
    # same-origin, not the service's no-referrer: under no-referrer a browser posts a form with
    # "Origin: null", and the pages refuse a form whose origin is not theirs
    return {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


# ---------------------------------------------------------------------- language and session

def _language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGUAGES:
        return kept
    return negotiate(request.headers.get("accept-language"))


def _remember_language(request: Request, response: Response, lang: str) -> None:
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="strict", path="/pages",
                            secure=_secure(request))


def _secure(request: Request) -> bool:
    return request.app.state.settings.base_url().startswith("https://")


def _csrf(request: Request) -> str:
    """A form token bound to the session: HMAC of the session cookie under the token key."""
    session = request.cookies.get(SESSION_COOKIE, "")
    key = request.app.state.settings.token_key.encode()
    digest = hmac.new(key, b"pages-form:" + session.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _same_origin(request: Request) -> bool:
    """A browser names where a POST comes from: refuse another origin's (login CSRF included)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    expected = urlsplit(request.app.state.settings.base_url())
    given = urlsplit(origin)
    return (given.scheme, given.netloc) == (expected.scheme, expected.netloc)


def _form_ok(request: Request, token: str | None) -> bool:
    return _same_origin(request) and token is not None and hmac.compare_digest(token, _csrf(request))


async def _signed_in(request: Request) -> Client | None:
    return await token_client(request, request.cookies.get(SESSION_COOKIE))


def _to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse("/pages/sign-in", status_code=303)


def _refused(request: Request, lang: str, client: Client | None, status: int, key: str) -> HTMLResponse:
    return _page(request, "message.html", lang, client, status=status, message=word(key, lang))


# ---------------------------------------------------------------------- sign-in

@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return _page(request, "sign_in.html", _language(request), None, problem=None, client_id="")


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    lang = _language(request)
    if not _same_origin(request):
        return _refused(request, lang, None, 403, "bad_form")
    form = await request.form()
    client_id, secret = str(form.get("client_id") or "").strip(), str(form.get("client_secret") or "")
    client, problem = (await authenticate(request, client_id, secret)) if client_id and secret else (None, "failed")
    if client is None:
        return _page(request, "sign_in.html", lang, None, status=429 if problem == "throttled" else 401,
                     problem=word(problem or "failed", lang), client_id=client_id)
    state = request.app.state
    response = RedirectResponse("/pages", status_code=303)
    response.set_cookie(SESSION_COOKIE, state.tokens.issue(client.client_id), max_age=state.tokens.lifetime,
                        httponly=True, samesite="strict", secure=_secure(request), path="/pages")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    form = await request.form()
    response = RedirectResponse("/pages/sign-in", status_code=303)
    if _form_ok(request, form.get("csrf")):
        response.delete_cookie(SESSION_COOKIE, path="/pages")
    return response


# ---------------------------------------------------------------------- home

@router.get("")
async def home(request: Request) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    state = request.app.state
    if client.role == "operator":
        jobs = await state.store.call(state.store.jobs_of, client.client_id)
        return _page(request, "carrier.html", lang, client, jobs=[_job_row(j) for j in jobs])
    shared = await state.store.call(state.store.shared_shipments, client.client_id)
    return _page(request, "shipper.html", lang, client, footprints=[_footprint_row(s) for s in shared])


def _when(us: int | None) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M UTC") if us else ""


def _job_row(job: dict) -> dict:
    report = job.get("report") or {}
    return {"id": job["id"], "filename": job["filename"], "status": job["status"], "created": _when(job["created_us"]),
            "rows": report.get("rows_read", job.get("rows_done")), "wtw_t": report.get("co2e_wtw_t"),
            "rejected": report.get("rejected")}


def _decimal(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _shipment_data(doc: dict) -> dict:
    for extension in doc.get("extensions") or []:
        data = extension.get("data") or {}
        if "tces" in data:
            return data
    return {"tces": []}


def _footprint_row(item: dict) -> dict:
    doc = json.loads(item["body"])
    data = _shipment_data(doc)
    wtw = [_decimal(t.get("co2eWTW")) for t in data["tces"]]
    pcf = doc.get("pcf") or {}
    return {"doc_id": item["doc_id"], "shipment_id": item["shipment_id"], "job_id": item["job_id"],
            "carrier": doc.get("companyName"), "tces": len(data["tces"]),
            "wtw_kg": sum(w for w in wtw if w is not None) if any(w is not None for w in wtw) else None,
            "tkm": _decimal(pcf.get("unitaryProductAmount")), "primary_share": pcf.get("primaryDataShare"),
            "period": f"{(pcf.get('referencePeriodStart') or '')[:10]} – {(pcf.get('referencePeriodEnd') or '')[:10]}"}


# ---------------------------------------------------------------------- a carrier's uploads

def _complete(columns) -> bool:
    columns = set(columns)
    return set(REQUIRED) <= columns and bool({"mass_kg", "teu"} & columns)


def _read_staged(data_dir: Path, ident: str, client: Client) -> dict | None:
    path = staged_path(data_dir, ident)
    if not path.exists():
        return None
    staged = json.loads(path.read_text(encoding="utf8"))
    return staged if staged["owner"] == client.client_id else None


def _sample(path: str, rows: int) -> pl.DataFrame:
    """The first rows of an upload, as text (read as the job will read them)."""
    with open_legs(path) as legs:
        first = next(legs.batches(rows), None)
        frame = first if first is not None else pl.DataFrame(schema=legs.schema)
    return frame.head(rows).drop(LINE_COLUMN, LINE_ERROR, strict=False).with_columns(pl.all().cast(pl.String))


@router.post("/uploads")
async def upload(request: Request) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    if client.role != "operator":
        return _refused(request, lang, client, 403, "not_found")
    state = request.app.state
    settings = state.settings
    if not _same_origin(request):
        return _refused(request, lang, client, 403, "bad_form")
    received = await receive_upload(request.stream(), request.headers.get("content-type", ""), settings.data_dir,
                                    settings.max_upload_bytes, request.headers.get("content-length"))
    if not _form_ok(request, received["fields"].get("csrf")):
        Path(received["path"]).unlink(missing_ok=True)
        return _refused(request, lang, client, 403, "bad_form")
    received["tables"] = {}
    try:
        header = await asyncio.to_thread(read_header, received["path"])
    except InputError as exc:
        Path(received["path"]).unlink(missing_ok=True)
        raise ApiError(422, "ValidationError", str(exc)) from exc
    saved = await state.store.call(state.store.column_mapping, client.client_id)
    mapping = _fitting(saved, header)
    if mapping is not None or _complete(header):
        job, _ = await state.store.call(queue_upload, state, client, received, None, mapping.to_dict() if mapping else None)
        if state.worker is not None:
            state.worker.wakeup.set()
        return RedirectResponse(f"/pages/jobs/{job['id']}", status_code=303)
    staged = {"owner": client.client_id, "received": received, "header": header}
    staged_path(settings.data_dir, received["id"]).write_text(json.dumps(staged), encoding="utf8")
    return RedirectResponse(f"/pages/columns/{received['id']}", status_code=303)


def _fitting(saved: dict | None, header: list[str]) -> Mapping | None:
    """The client's saved mapping when it fits this file and gives the required columns."""
    if not saved:
        return None
    try:
        mapping = Mapping.from_dict(saved)
        mapping.check(header)
    except InputError:
        return None
    return mapping if _complete(mapping.output_columns(header)) and not _complete(header) else None


def _targets() -> list[str]:
    return [*LEG_COLUMNS, *PASS_THROUGH_COLUMNS]


def _choices(header: list[str], mapping: Mapping) -> list[dict]:
    return [{"header": h, "to": mapping.columns[h].to if h in mapping.columns else "",
             "unit": mapping.columns[h].unit if h in mapping.columns else None} for h in header]


async def _columns_page(request: Request, client: Client, lang: str, ident: str, staged: dict, choices: list[dict],
                        problems: list[str], mode_values: list[str] | None = None, status: int = 200) -> Response:
    received = staged["received"]
    header = staged["header"]
    sample = await asyncio.to_thread(_sample, received["path"], PREVIEW_ROWS)
    examples = {h: [v for v in sample[h].to_list() if v not in (None, "")][:3] for h in header if h in sample.columns}
    return _page(request, "columns.html", lang, client, status=status, ident=ident, filename=received["filename"],
                 choices=choices, examples=examples, targets=_targets(), units=UNITS, problems=problems,
                 mode_values=mode_values or [], modes=MODES, tag_prefix=PASS_THROUGH_PREFIX)


@router.get("/columns/{ident}")
async def columns_page(request: Request, ident: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    state = request.app.state
    staged = _read_staged(state.settings.data_dir, ident, client)
    if staged is None:
        return _refused(request, lang, client, 404, "not_found")
    header = staged["header"]
    saved = await state.store.call(state.store.column_mapping, client.client_id)
    guess = suggest(header)
    if saved:  # what the client chose before, for the headers this file has too
        try:
            kept = Mapping.from_dict(saved)
            guess = Mapping({**guess.columns, **{h: t for h, t in kept.columns.items() if h in header}}, kept.values)
        except InputError:
            pass
    return await _columns_page(request, client, lang, ident, staged, _choices(header, guess), [])


def _mapping_from_form(form, header: list[str]) -> tuple[dict, list[str]]:
    columns: dict[str, Any] = {}
    problems: list[str] = []
    for i, h in enumerate(header):
        to = str(form.get(f"to_{i}") or "")
        if not to:
            continue
        if to == "tag":
            name = "".join(c if c.isalnum() else "_" for c in str(form.get(f"tag_{i}") or "").strip().lower()).strip("_")
            if not name:
                problems.append(f"{h!r}: give the tag a name")
                continue
            to = PASS_THROUGH_PREFIX + name
        unit = str(form.get(f"unit_{i}") or "") or None
        columns[h] = {"to": to, "unit": unit} if unit and to in UNITS and unit not in ("kg", "km", "km_per_l") else to
    values = {}
    spellings = {str(form.get(k)): str(form.get(k.replace("value_", "mode_"))) for k in form.keys() if k.startswith("value_")}
    spellings = {k: v for k, v in spellings.items() if v in MODES}
    if spellings:
        values["mode"] = spellings
    return {"columns": columns, **({"values": values} if values else {})}, problems


def _unknown_modes(path: str, column: str, mapping: Mapping) -> list[str]:
    """Spellings of the mode in a sample of the file that are not exactly ours and not yet mapped
    (``Air`` too: asked, with air chosen, rather than left to how each stage reads a cell)."""
    sample = _sample(path, VALUE_SAMPLE_ROWS)
    if column not in sample.columns:
        return []
    known = set(MODES) | set(mapping.values.get("mode", {}))
    seen = sample[column].drop_nulls().str.strip_chars().unique().sort().to_list()
    return [v for v in seen if v and v not in known][:30]


@router.post("/columns/{ident}")
async def columns_submit(request: Request, ident: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    state = request.app.state
    staged = _read_staged(state.settings.data_dir, ident, client)
    form = await request.form()
    if staged is None:
        return _refused(request, lang, client, 404, "not_found")
    if not _form_ok(request, form.get("csrf")):
        return _refused(request, lang, client, 403, "bad_form")
    header = staged["header"]
    body, problems = _mapping_from_form(form, header)
    mapping = None
    if not problems:
        try:
            mapping = Mapping.from_dict(body)
            mapping.check(header)
        except MappingError as exc:
            problems = exc.problems
        except InputError as exc:
            problems = [str(exc)]
    if mapping is not None and not problems and not _complete(mapping.output_columns(header)):
        problems = [word("needs", lang, columns="shipment_id, mode, mass_kg (or teu)")]
    choices = [{"header": h, "to": str(form.get(f"to_{i}") or ""), "unit": str(form.get(f"unit_{i}") or "") or None,
                "tag": str(form.get(f"tag_{i}") or "")} for i, h in enumerate(header)]
    if problems or mapping is None:
        return await _columns_page(request, client, lang, ident, staged, choices, problems, status=422)
    received = staged["received"]
    unknown = await asyncio.to_thread(_unknown_modes, received["path"], mapping.source_of("mode"), mapping)
    if unknown and form.get("values_asked") is None:
        return await _columns_page(request, client, lang, ident, staged, choices, [], mode_values=unknown)
    await state.store.call(state.store.set_column_mapping, client.client_id, mapping.to_dict())
    job, _ = await state.store.call(queue_upload, state, client, received, None, mapping.to_dict())
    staged_path(state.settings.data_dir, ident).unlink(missing_ok=True)
    if state.worker is not None:
        state.worker.wakeup.set()
    return RedirectResponse(f"/pages/jobs/{job['id']}", status_code=303)


# ---------------------------------------------------------------------- a carrier's job

async def _own_job(request: Request, client: Client, job_id: str) -> dict | None:
    store = request.app.state.store
    job = await store.call(store.job, job_id)
    return job if job is not None and job["owner"] == client.client_id else None


def _rejected_rows(folder: Path) -> tuple[list[dict], int]:
    path = folder / "errors.csv"
    if not path.exists():
        return [], 0
    errors = pl.read_csv(path, infer_schema=False, n_rows=ERROR_ROWS_SHOWN)
    shown = [c for c in ("input_line", "shipment_id", "leg_id", "error_code", "error") if c in errors.columns]
    return errors.select(shown).to_dicts(), errors.height


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    job = await _own_job(request, client, job_id)
    if job is None:
        return _refused(request, lang, client, 404, "not_found")
    rejected, count = ([], 0)
    if job["status"] == "done":
        rejected, count = await asyncio.to_thread(_rejected_rows, reports.job_dir(request.app.state.settings.data_dir, job))
    mapping = Mapping.from_dict(job["column_mapping"]) if job.get("column_mapping") else None
    return _page(request, "job.html", lang, client, job=job, summary=job.get("report") or {}, rejected=rejected,
                 rejected_shown=count, mapping=mapping, files=FILES)


def _entity(request: Request) -> str | None:
    return request.app.state.calculator.exchange_config.company_name


def _by(request: Request) -> list[str]:
    return [b for b in request.query_params.getlist("by") if b][:8]


@router.get("/jobs/{job_id}/report")
async def job_report(request: Request, job_id: str) -> Response:
    return await _job_report(request, job_id, pdf=False)


@router.get("/jobs/{job_id}/report.pdf")
async def job_report_pdf(request: Request, job_id: str) -> Response:
    return await _job_report(request, job_id, pdf=True)


async def _job_report(request: Request, job_id: str, pdf: bool) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    job = await _own_job(request, client, job_id)
    if job is None or job["status"] != "done":
        return _refused(request, lang, client, 404, "not_found")
    quoted = quote(job_id, safe="")
    path = await asyncio.to_thread(
        reports.job_report, request.app.state.settings.data_dir, job, lang=lang, by=_by(request), entity=_entity(request),
        pdf=pdf, sheet_href=lambda sid: f"/pages/jobs/{quoted}/sheets/{quote(sid, safe='')}?lang={lang}",
        back_href=f"/pages/jobs/{quoted}?lang={lang}")
    return _file(path, pdf, f"{job_id}-report.pdf")


def _file(path: Path, pdf: bool, filename: str) -> FileResponse:
    if pdf:
        return FileResponse(path, media_type="application/pdf", filename=filename, headers=_page_headers())
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=_page_headers())


@router.get("/jobs/{job_id}/sheets/{shipment_id}")
async def job_sheet(request: Request, job_id: str, shipment_id: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    job = await _own_job(request, client, job_id)
    if job is None or job["status"] != "done":
        return _refused(request, lang, client, 404, "not_found")
    back = f"/pages/jobs/{quote(job_id, safe='')}/report?lang={lang}"
    path = await asyncio.to_thread(reports.job_sheet, request.app.state.settings.data_dir, job, shipment_id,
                                   lang=lang, pdf=False, back_href=back)
    return _file(path, False, "")


@router.get("/jobs/{job_id}/files/{kind}")
async def job_download(request: Request, job_id: str, kind: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    job = await _own_job(request, client, job_id)
    fmt = request.query_params.get("format", "csv")
    if job is None or kind not in FILES or fmt not in ("csv", "parquet") or job["status"] != "done":
        return _refused(request, lang, client, 404, "not_found")
    return await asyncio.to_thread(job_file, request, job, FILES[kind], fmt)


# ---------------------------------------------------------------------- a shipper's footprints

async def _shared(request: Request, client: Client) -> list[dict]:
    store = request.app.state.store
    return await store.call(store.shared_shipments, client.client_id)


@router.get("/shipments/{doc_id}")
async def shipment_page(request: Request, doc_id: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    item = next((s for s in await _shared(request, client) if s["doc_id"] == doc_id), None)
    if item is None:
        return _refused(request, lang, client, 404, "not_found")
    doc = json.loads(item["body"])
    return _page(request, "shipment.html", lang, client, footprint=_footprint_row(item), tces=_shipment_data(doc)["tces"])


@router.get("/shipments/{doc_id}/sheet")
async def shipment_sheet(request: Request, doc_id: str) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    item = next((s for s in await _shared(request, client) if s["doc_id"] == doc_id), None)
    store = request.app.state.store
    job = await store.call(store.job, item["job_id"]) if item and item["job_id"] else None
    if job is None or job["status"] != "done":
        return _refused(request, lang, client, 404, "not_found")
    path = await asyncio.to_thread(reports.job_sheet, request.app.state.settings.data_dir, job, item["shipment_id"],
                                   lang=lang, pdf=False, back_href=f"/pages/shipments/{quote(doc_id, safe='')}?lang={lang}")
    return _file(path, False, "")


@router.get("/report")
async def shipper_report(request: Request) -> Response:
    return await _shipper_report(request, pdf=False)


@router.get("/report.pdf")
async def shipper_report_pdf(request: Request) -> Response:
    return await _shipper_report(request, pdf=True)


async def _shipper_report(request: Request, pdf: bool) -> Response:
    client = await _signed_in(request)
    if client is None:
        return _to_sign_in(request)
    lang = _language(request)
    state = request.app.state
    shared = await _shared(request, client)
    jobs = {}
    for job_id in {s["job_id"] for s in shared if s["job_id"]}:
        job = await state.store.call(state.store.job, job_id)
        if job is not None:
            jobs[job_id] = job
    doc_of = {s["shipment_id"]: s["doc_id"] for s in reversed(shared)}  # the newest footprint of each shipment
    try:
        body = await asyncio.to_thread(
            reports.recipient_report, state.settings.data_dir, jobs, shared, lang=lang, by=_by(request), entity=client.name,
            pdf=pdf, sheet_href=lambda sid: f"/pages/shipments/{quote(doc_of.get(sid, ''), safe='')}/sheet?lang={lang}",
            back_href=f"/pages?lang={lang}")
    except ApiError as exc:
        if exc.status == 404:
            return _page(request, "message.html", lang, client, status=404, message=word("none_shared", lang))
        raise
    if pdf:
        return Response(body, media_type="application/pdf", headers={
            **_page_headers(), "Content-Disposition": 'attachment; filename="report.pdf"'})
    return Response(body, media_type="text/html; charset=utf-8", headers=_page_headers())


def install(app) -> None:
    """The pages, and ``/`` leading to them."""
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/pages", status_code=307)

