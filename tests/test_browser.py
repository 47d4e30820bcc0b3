"""The pages in a real browser: headless Chromium (Debian's, driven by Playwright; never a
downloaded browser) against the service on 127.0.0.1. A carrier uploads the TMS sample, maps its
columns on the page, waits for the job and opens the report, whose figures must equal the
library's; a shipper opens the report on the shipments shared with it.

Screenshots are kept as test artifacts in ``LOGISTICS_TEST_ARTIFACTS`` (default
``test-artifacts/browser``); with ``LOGISTICS_UPDATE_SCREENSHOT=1`` the report's also replaces
``api/demo/report.png`` (the README's). ``.ci/browser.sh`` installs Chromium and the fonts; CI sets
``LOGISTICS_TEST_CHROMIUM`` so that a missing browser fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from test_api_support import REPO, ServerProcess, free_port, register, settings_for

import logistics
from logistics.cli import SAMPLES
from logistics.io import read_table
from logistics.mapping import Mapping
from logistics.report import numbers

pytestmark = pytest.mark.slow

TMS, TMS_COLUMNS = SAMPLES / "tms_export.csv", SAMPLES / "tms_export.columns.toml"
CHROMIUM = os.environ.get("LOGISTICS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("LOGISTICS_TEST_ARTIFACTS", REPO / "test-artifacts" / "browser"))
JOB_SECONDS = 120  # bound for the job on a busy 2-core machine
STEP_MS = 30_000  # bound for each page to load


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("LOGISTICS_TEST_CHROMIUM"):
            pytest.fail(f"LOGISTICS_TEST_CHROMIUM={CHROMIUM}: no such browser (bash .ci/browser.sh installs it)")
        pytest.skip("no Chromium here (bash .ci/browser.sh installs Debian's)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=STEP_MS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    settings = settings_for(tmp)
    clients = {"carrier": register(settings, "Example Logistics (carrier)", "operator", client_id="carrier"),
               "shipper": register(settings, "Acme Foods (shipper)", client_id="shipper")}
    with ServerProcess(tmp) as server:
        yield server, clients


def _page(browser, server, lang: str = "en-GB"):
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900}, locale=lang)
    context.set_default_timeout(STEP_MS)
    return context, context.new_page()


def _sign_in(page, client_id: str, secret: str) -> None:
    page.goto("/pages")
    assert page.url.endswith("/pages/sign-in")
    page.fill("#client_id", client_id)
    page.fill("#client_secret", secret)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/pages$"))


def _figure(page, name: str) -> tuple[float, str]:
    element = page.locator(f'[data-figure="{name}"]').first
    shown = element.evaluate("e => e.childNodes[0].textContent")  # the number, without its unit
    return float(element.get_attribute("data-value")), shown.strip()


def _shot(page, name: str, full: bool = False) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full)
    return path


def test_carrier_uploads_maps_and_reads_the_report(browser, service):
    server, clients = service
    context, page = _page(browser, server)
    try:
        _sign_in(page, *clients["carrier"])
        page.set_input_files("#file", str(TMS))
        page.fill("#share_with", "shipper")
        page.click("#upload")
        page.wait_for_url(re.compile(r".*/pages/columns/\w+$"))
        # the page guessed most columns from the header (Weight (t) -> mass_kg in t); the branch
        # becomes a tag
        assert page.locator('tr[data-header="Weight (t)"] select[name^="to_"]').input_value() == "mass_kg"
        assert page.locator('tr[data-header="Weight (t)"] select[name^="unit_"]').input_value() == "t"
        branch = page.locator('tr[data-header="Branch"]')
        branch.locator('select[name^="to_"]').select_option("tag")
        branch.locator('input[name^="tag_"]').fill("branch")
        _shot(page, "columns.png", full=True)
        page.click("#calculate")
        # then the spellings of the mode
        page.wait_for_selector('[data-field="mode-values"]')
        mapping = Mapping.read(TMS_COLUMNS)
        for select in page.locator('select[name^="mode_"]').all():
            spelling = select.get_attribute("aria-label").split(": ", 1)[1]
            if spelling in mapping.values["mode"]:
                select.select_option(mapping.values["mode"][spelling])
        page.click("#calculate")
        page.wait_for_url(re.compile(r".*/pages/jobs/\w+$"))
        page.wait_for_selector('[data-field="status"]:text-is("done")', timeout=JOB_SECONDS * 1000)
        _shot(page, "job.png", full=True)

        expected = logistics.calculate(mapping.apply(read_table(TMS))).summary()
        value, shown = _figure(page, "co2e_wtw_t")  # the job's summary: figures for people, 6 digits
        assert value == pytest.approx(expected["co2e_wtw_t"], rel=5e-6) and shown == numbers.fixed(expected["co2e_wtw_t"], 3)
        assert page.locator('[data-figure="rejected"]').inner_text() == "2"

        page.click("#open-report")
        page.wait_for_url(re.compile(r".*/report$"))
        for name, kg in (("co2e_wtw_kg", expected["co2e_wtw_t"] * 1000), ("co2e_ttw_kg", expected["co2e_ttw_t"] * 1000),
                         ("co2e_wtt_kg", expected["co2e_wtt_t"] * 1000)):
            value, shown = _figure(page, name)
            assert value == pytest.approx(kg, rel=1e-12) and shown == numbers.t_co2e(kg), name
        value, shown = _figure(page, "tkm")
        assert value == pytest.approx(expected["tkm"], rel=1e-12) and shown == numbers.tkm(expected["tkm"])
        assert page.locator("svg.chart").count() == 3  # by mode, data type by month, intensity by lane
        report = _shot(page, "report.png")
        _shot(page, "report-full.png", full=True)
        if os.environ.get("LOGISTICS_UPDATE_SCREENSHOT"):
            shutil.copyfile(report, REPO / "api" / "demo" / "report.png")

        # the PDF of the same report, with the session's cookie
        pdf = page.request.get(page.url.replace("/report", "/report.pdf"), timeout=120_000)
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF-")
        (ARTIFACTS / "report.pdf").write_bytes(pdf.body())
        page.locator('table[data-table="shipments"] a').first.click()
        page.wait_for_url(re.compile(r".*/sheets/C26-\d+\?lang=en$"))
        assert "agrees" in page.locator('[data-field="agrees"]').inner_text()
        _shot(page, "sheet.png", full=True)

        page.goto(page.url.replace("/sheets/", "/sheets/").split("/sheets/")[0] + "/report?lang=ja")
        assert page.locator("h1").inner_text() == "輸送GHG排出量報告書"
        assert page.get_by_text("輸送トンキロ").first.is_visible()
        _shot(page, "report-ja.png")
    finally:
        context.close()


def test_shipper_reads_the_report_on_its_shipments(browser, service):
    server, clients = service
    context, page = _page(browser, server, lang="ja")
    try:
        _sign_in(page, *clients["shipper"])
        page.wait_for_selector('table[data-table="footprints"]')  # the carrier's job shared its footprints
        assert page.locator("h1").inner_text() == "共有された出荷フットプリント"  # the browser asks for Japanese
        _shot(page, "shipper.png", full=True)
        shared = sorted(page.locator('table[data-table="footprints"] tr[data-key]').evaluate_all(
            "rows => rows.map(r => r.dataset.key)"))
        result = logistics.calculate(Mapping.read(TMS_COLUMNS).apply(read_table(TMS)))
        legs = result.legs.filter(pl.col("shipment_id").is_in(shared) & pl.col("error").is_null())
        assert len(shared) == 27  # the complete shipments: the two with a row not computed have no footprint
        page.click("#open-report")
        value, shown = _figure(page, "co2e_wtw_kg")
        assert value == pytest.approx(legs["co2e_wtw_kg"].sum(), rel=1e-12) and shown == numbers.t_co2e(legs["co2e_wtw_kg"].sum())
        _shot(page, "shipper-report.png")
    finally:
        context.close()


def test_from_the_demo_to_its_report_in_under_a_minute(browser, tmp_path):
    """What a new user does: start the demo, sign in with the carrier's printed secret, open the
    report of the demo upload."""
    started = time.monotonic()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGISTICS_")}
    env.update(LOGISTICS_DATA_DIR=str(tmp_path / "data"), LOGISTICS_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite'}")
    demo = subprocess.Popen([sys.executable, "-m", "logistics_api", "--demo", "--port", str(port), "--log-level", "warning"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = ""
        while "pages: open" not in printed and time.monotonic() - started < 60:
            line = demo.stdout.readline()
            if not line:
                break
            printed += line
        secret = re.search(r"client_id=demo-carrier client_secret=(\S+)", printed).group(1)
        assert f"http://127.0.0.1:{port}/pages" in printed
        context = browser.new_context(base_url=f"http://127.0.0.1:{port}", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(STEP_MS)
        page = context.new_page()
        for _ in range(100):  # the server listens a moment after printing
            try:
                page.goto("/pages")
                break
            except Exception:  # connection refused until it listens
                time.sleep(0.2)
        page.fill("#client_id", "demo-carrier")
        page.fill("#client_secret", secret)
        page.click("#sign-in")
        for _ in range(JOB_SECONDS):  # the demo job runs at start: reload until it is done
            if page.locator('tr[data-job] a[href$="/report"]').count():
                break
            time.sleep(1)
            page.reload()
        page.locator('tr[data-job] a[href$="/report"]').first.click()
        page.wait_for_selector('[data-figure="co2e_wtw_kg"]')
        elapsed = time.monotonic() - started
        value, _ = _figure(page, "co2e_wtw_kg")
        assert value == pytest.approx(logistics.calculate(REPO / "api" / "demo" / "legs.csv").summary()["co2e_wtw_t"] * 1000)
        _shot(page, "demo-report.png")
        context.close()
        print(f"demo started to its report in the browser: {elapsed:.1f} s")
        assert elapsed < 60
    finally:
        demo.terminate()
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            demo.kill()
