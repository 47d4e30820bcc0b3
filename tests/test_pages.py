"""The service's pages, in process: sign-in, a carrier's upload with its own columns, the job's
summary, report and sheets, a shipper's footprints and report; tenancy between clients."""

from __future__ import annotations

import re

import polars as pl
import pytest
from test_api_support import DEMO_LEGS, app_client, bearer, register, settings_for

import logistics
from logistics.cli import SAMPLES
from logistics.io import read_table
from logistics.mapping import Mapping
from logistics.report import numbers
from logistics_api.jobs import JobWorker, sweep_staged_uploads

TMS, TMS_COLUMNS = SAMPLES / "tms_export.csv", SAMPLES / "tms_export.columns.toml"
ORIGIN = {"Origin": "http://testserver"}


def run_jobs(http) -> None:
    state = http.app.state
    worker = JobWorker(state.store, state.calculator, state.settings.data_dir, 30, 3, public_url="http://testserver")
    while worker.run_once():
        pass


def sign_in(http, client_id: str, secret: str):
    answer = http.post("/pages/sign-in", data={"client_id": client_id, "client_secret": secret}, headers=ORIGIN,
                       follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def upload(http, path, share_with: str = ""):
    home = http.get("/pages")
    with open(path, "rb") as f:
        return http.post("/pages/uploads", files={"file": (path.name, f, "text/csv")},
                         data={"csrf": csrf(home.text), "share_with": share_with}, headers=ORIGIN, follow_redirects=False)


def figure(html: str, name: str) -> tuple[str, str]:
    match = re.search(rf'data-figure="{name}" data-value="([^"]*)">([^<]*)<', html)
    assert match, name
    return match.group(1), match.group(2)


@pytest.fixture
def service(tmp_path):
    settings = settings_for(tmp_path)
    carrier = register(settings, "Carrier Ops", "operator", client_id="carrier")
    shipper = register(settings, "Shipper Co", client_id="shipper")
    other = register(settings, "Other Shipper", client_id="other")
    rival = register(settings, "Rival Carrier", "operator", client_id="rival")
    with app_client(settings) as http:
        yield http, {"carrier": carrier, "shipper": shipper, "other": other, "rival": rival}


def test_sign_in_and_sessions(service):
    http, clients = service
    assert http.get("/", follow_redirects=False).headers["location"] == "/pages"
    assert http.get("/pages", follow_redirects=False).headers["location"] == "/pages/sign-in"
    page = http.get("/pages/sign-in")
    assert page.status_code == 200 and "script-src" not in page.headers["content-security-policy"]
    assert "form-action 'self'" in page.headers["content-security-policy"]
    wrong = http.post("/pages/sign-in", data={"client_id": "carrier", "client_secret": "nope"}, headers=ORIGIN)
    assert wrong.status_code == 401 and "Sign-in failed" in wrong.text
    # a form posted from another site is refused (login CSRF)
    assert http.post("/pages/sign-in", data=dict(zip(("client_id", "client_secret"), clients["carrier"], strict=True)),
                     headers={"Origin": "https://evil.example"}).status_code == 403
    answer = sign_in(http, *clients["carrier"])
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    home = http.get("/pages")
    assert "Upload a legs file" in home.text and "Carrier Ops" in home.text
    # the page's language follows the browser, or ?lang=
    assert "輸送区間ファイルのアップロード" in http.get("/pages", headers={"Accept-Language": "ja,en;q=0.5"}).text
    assert "輸送区間ファイルのアップロード" in http.get("/pages?lang=ja").text
    http.post("/pages/sign-out", data={"csrf": "forged"}, headers=ORIGIN)
    assert http.get("/pages", follow_redirects=False).status_code == 200  # not signed out by a forged form
    http.post("/pages/sign-out", data={"csrf": csrf(http.get("/pages").text)}, headers=ORIGIN)
    assert http.get("/pages", follow_redirects=False).status_code == 303


def test_carrier_maps_columns_then_reads_summary_report_and_sheet(service):
    http, clients = service
    sign_in(http, *clients["carrier"])
    answer = upload(http, TMS, share_with="shipper")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/pages/columns/")
    page = http.get(answer.headers["location"])
    assert page.status_code == 200
    # the suggestion: Weight (t) -> mass_kg in t; the form posts the choices by column index
    header = re.findall(r'<tr data-header="([^"]+)">', page.text)
    assert header[:4] == ["Consignment", "Leg", "Transport mode", "Weight (t)"]
    mapping = Mapping.read(TMS_COLUMNS)
    form = {"csrf": csrf(page.text)}
    for i, h in enumerate(header):
        target = mapping.columns.get(h)
        if target is None:
            continue
        if target.to.startswith("tag_"):
            form[f"to_{i}"], form[f"tag_{i}"] = "tag", target.to[4:]
        else:
            form[f"to_{i}"] = target.to
        if target.unit:
            form[f"unit_{i}"] = target.unit
    asked = http.post(answer.headers["location"], data=form, headers=ORIGIN, follow_redirects=False)
    # the mode is written its own way (Truck, Ocean, Air, ...): the page asks what each spelling is
    assert asked.status_code == 200 and 'data-field="mode-values"' in asked.text
    spellings = re.findall(r'name="value_(\d+)" value="([^"]+)"', asked.text)
    assert sorted(v for _, v in spellings) == ["Air", "Barge", "Hub", "Ocean", "Rail", "Truck", "Zeppelin"]
    assert '<option value="air" selected>' in asked.text  # the obvious ones chosen already
    form.update({"values_asked": "1", **{f"value_{i}": v for i, v in spellings},
                 **{f"mode_{i}": mapping.values["mode"].get(v, "") for i, v in spellings}})
    done = http.post(answer.headers["location"], data=form, headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/pages/jobs/")
    job_url = done.headers["location"]
    queued = http.get(job_url)
    assert '<meta http-equiv="refresh" content="2">' in queued.text
    run_jobs(http)
    page = http.get(job_url)
    expected = logistics.calculate(mapping.apply(read_table(TMS)))
    s = expected.summary()
    value, shown = figure(page.text, "co2e_wtw_t")  # the job's summary: figures for people, 6 digits
    assert float(value) == pytest.approx(s["co2e_wtw_t"], rel=5e-6) and shown == numbers.fixed(s["co2e_wtw_t"], 3)
    assert "mass_kg.not_a_number" in page.text and "mode.unknown_value" in page.text  # the two rows not computed
    assert "Weight (t)" in page.text  # the mapping used
    # the mapping is kept: the next upload of the same layout goes straight to a job
    again = upload(http, TMS)
    assert again.status_code == 303 and again.headers["location"].startswith("/pages/jobs/")
    report = http.get(job_url + "/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    value, _ = figure(report.text, "co2e_wtw_kg")
    assert float(value) == pytest.approx(s["co2e_wtw_t"] * 1000, rel=1e-12)
    assert 'id="by-customer"' in report.text and "Sakura Electronics" in report.text
    sheet_link = re.search(r'href="(/pages/jobs/[^"]+/sheets/C26-0001\?lang=en)"', report.text).group(1)
    sheet = http.get(sheet_link)
    assert sheet.status_code == 200 and "Inputs as read" in sheet.text and "Weight (t)" in sheet.text
    assert "line 2 of the input file" in sheet.text and "✓" in sheet.text
    japanese = http.get(job_url + "/report?lang=ja")
    assert "輸送トンキロ" in japanese.text
    results = http.get(job_url + "/files/results?format=csv")
    assert results.status_code == 200 and pl.read_csv(results.content).height == 50
    # the API names the report and serves the sheet too
    headers = bearer(http, *clients["carrier"])
    job_id = job_url.rsplit("/", 1)[1]
    assert http.get(f"/v1/jobs/{job_id}", headers=headers).json()["links"]["report"].endswith(f"/v1/jobs/{job_id}/report")
    api_sheet = http.get(f"/v1/jobs/{job_id}/shipments/C26-0001/sheet", headers=headers)
    assert api_sheet.status_code == 200 and "C26-0001" in api_sheet.text
    api_report = http.get(f"/v1/jobs/{job_id}/report", params={"lang": "ja", "by": ["tag_branch"]}, headers=headers)
    assert api_report.status_code == 200 and 'id="by-tag_branch"' in api_report.text and "輸送トンキロ" in api_report.text
    assert f"http://testserver/v1/jobs/{job_id}/shipments/C26-0001/sheet?lang=ja" in api_report.text
    assert http.get(f"/v1/jobs/{job_id}/report", headers=bearer(http, *clients["rival"])).status_code == 404


def test_tenancy_and_the_shipper_pages(service):
    http, clients = service
    sign_in(http, *clients["carrier"])
    job_url = upload(http, DEMO_LEGS, share_with="shipper").headers["location"]
    run_jobs(http)
    job_id = job_url.rsplit("/", 1)[1]
    assert http.get(job_url).status_code == 200
    # another carrier sees nothing of this one's job
    http.cookies.clear()
    sign_in(http, *clients["rival"])
    for path in (job_url, job_url + "/report", job_url + "/sheets/DEMO-001", job_url + "/files/results"):
        assert http.get(path).status_code == 404, path
    assert job_id not in http.get("/pages").text
    rival = bearer(http, *clients["rival"])
    assert http.get(f"/v1/jobs/{job_id}/shipments/DEMO-001/sheet", headers=rival).status_code == 404
    # the shipper sees the footprints shared with it, a shipment's legs and sheet, and a report
    http.cookies.clear()
    sign_in(http, *clients["shipper"])
    home = http.get("/pages")
    assert home.status_code == 200 and 'data-key="DEMO-001"' in home.text
    doc = re.search(r'href="/pages/shipments/([^"/]+)"', home.text).group(1)
    legs = http.get(f"/pages/shipments/{doc}")
    assert legs.status_code == 200 and "DEMO-" in legs.text
    expected = logistics.calculate(DEMO_LEGS)
    report = http.get("/pages/report")
    value, _ = figure(report.text, "co2e_wtw_kg")
    assert float(value) == pytest.approx(expected.summary()["co2e_wtw_t"] * 1000, rel=1e-12)
    assert "Shipper Co" in report.text  # the reporting entity
    sheet = http.get(f"/pages/shipments/{doc}/sheet")
    assert sheet.status_code == 200 and "Calculation sheet" in sheet.text
    shipper = bearer(http, *clients["shipper"])
    shipped = re.search(r'data-key="(DEMO-\d+)"', home.text).group(1)
    # the PACT footprint names its calculation sheet, which the shipper can fetch with its token
    footprints = http.get("/2/footprints", headers=shipper).json()["data"]
    named = {re.search(r"Calculation sheet: (\S+)", d["comment"]).group(1) for d in footprints if "shipment:" in d["productIds"][0]}
    assert f"http://testserver/v1/jobs/{job_id}/shipments/{shipped}/sheet" in named
    sheet = http.get(f"/v1/jobs/{job_id}/shipments/{shipped}/sheet", headers=shipper)
    assert sheet.status_code == 200 and shipped in sheet.text
    assert http.get(f"/pages/jobs/{job_id}").status_code == 404  # a job page is its owner's
    # a shipper with nothing shared sees nothing
    http.cookies.clear()
    sign_in(http, *clients["other"])
    assert 'data-key="DEMO-' not in http.get("/pages").text
    assert http.get(f"/pages/shipments/{doc}").status_code == 404 and http.get(f"/pages/shipments/{doc}/sheet").status_code == 404
    assert http.get("/pages/report").status_code == 404
    assert http.get(f"/v1/jobs/{job_id}/shipments/{shipped}/sheet", headers=bearer(http, *clients["other"])).status_code == 404


def test_an_upload_left_waiting_for_its_mapping_is_swept(service):
    http, clients = service
    sign_in(http, *clients["carrier"])
    waiting = upload(http, TMS).headers["location"]
    uploads = http.app.state.settings.data_dir / "uploads"
    assert len(list(uploads.glob("*.staged.json"))) == 1 and len(list(uploads.glob("*.csv"))) == 1
    assert sweep_staged_uploads(http.app.state.settings.data_dir) == []  # not stale yet
    assert len(sweep_staged_uploads(http.app.state.settings.data_dir, older_than=-1)) == 1
    assert not list(uploads.iterdir())
    assert http.get(waiting).status_code == 404


def test_a_continental_export_is_mapped_too(service, tmp_path):
    # semicolons and decimal commas, as a German TMS writes them: the preview reads them as the job will
    http, clients = service
    legs = tmp_path / "export.csv"
    legs.write_text("Sendung;Art;Gewicht (t);Strecke (km)\nS1;road;12,5;410\n", encoding="utf8")
    sign_in(http, *clients["carrier"])
    page = http.get(upload(http, legs).headers["location"])
    assert page.status_code == 200 and "12,5" in page.text


def test_forms_need_the_session_token(service):
    http, clients = service
    sign_in(http, *clients["carrier"])
    with open(DEMO_LEGS, "rb") as f:
        answer = http.post("/pages/uploads", files={"file": ("legs.csv", f, "text/csv")}, data={"csrf": "forged"},
                           headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 403
    assert not list((http.app.state.settings.data_dir / "uploads").glob("*.csv"))  # nothing kept
    sign_in(http, *clients["shipper"])
    assert upload(http, DEMO_LEGS).status_code == 403  # uploads are a carrier's
