"""The service against abuse and misuse, in process: the token endpoint (both client
authentication methods, no caching, failed attempts limited, a discovery document strict OpenID
libraries accept), inputs that used to answer 500, the request limits and security headers, roles,
database work off the event loop, offline documentation pages, carriers' own TOC/HOC tables, and
footprints that would name a TOC the service does not publish."""

from __future__ import annotations

import asyncio
import re
import threading

import httpx
import pytest
from test_api_support import (
    DEMO_LEGS,
    app_client,
    basic,
    bearer,
    register,
    settings_for,
    upload,
)

from logistics_api.jobs import JobWorker
from logistics_api.storage import Store

POST_FORM = {"content-type": "application/x-www-form-urlencoded"}

# An own TOC table: one row the exchange can describe, one whose energy carrier has no iLEAP name.
OWN_TOCS = (
    "toc_id,mode,vehicle,energy_carrier,region,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,data_type,"
    "source,pack_version,licence\n"
    "carrier-artic-2026,road,artic_40t,diesel,EU,60,20,80,primary,Demo Freight fuel records 2026,2026,proprietary\n"
    "carrier-odd-2026,road,artic_40t,unobtainium,EU,0,30,30,primary,Demo Freight fuel records 2026,2026,proprietary\n"
)
OWN_LEGS = "shipment_id,mode,mass_kg,distance_km,toc_id\nA,road,10000,100,carrier-artic-2026\nB,road,10000,100,carrier-odd-2026\n"


@pytest.fixture
def service(tmp_path):
    settings = settings_for(tmp_path, auth_failures_per_client=3, auth_failures_per_address=5)
    ops = register(settings, "Carrier TMS", "operator", client_id="ops")
    alice = register(settings, "Shipper Alice", client_id="alice")
    bob = register(settings, "Shipper Bob", client_id="bob")
    with app_client(settings) as http:
        http.credentials = {"ops": ops, "alice": alice, "bob": bob}
        http.ops, http.alice = bearer(http, *ops), bearer(http, *alice)
        http.state = http.app.state
        yield http


def _run_jobs(service) -> None:
    state = service.state
    worker = JobWorker(state.store, state.calculator, state.settings.data_dir, 30, 3)
    while worker.run_once():
        pass


def _token(service, **kwargs) -> httpx.Response:
    return service.post("/auth/token", **kwargs)


# ------------------------------------------------------------------------------------------------
# Token endpoint


def test_token_by_basic_or_client_secret_post_never_cached(service):
    client_id, secret = service.credentials["alice"]
    by_basic = _token(service, data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    by_post = _token(service, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    for answer in (by_basic, by_post):
        assert answer.status_code == 200 and answer.json()["token_type"] == "bearer"
        assert answer.headers["cache-control"] == "no-store" and answer.headers["pragma"] == "no-cache"
    listed = service.get("/2/footprints", headers={"Authorization": f"Bearer {by_post.json()['access_token']}"})
    assert listed.status_code == 200
    both = _token(service, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
                  headers=basic(client_id, secret))
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"  # RFC 6749 §2.3: one method
    half = _token(service, data={"grant_type": "client_credentials", "client_id": client_id})
    assert half.status_code == 400 and half.json()["error"] == "invalid_request"
    wrong = _token(service, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "no"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["cache-control"] == "no-store"


def test_failed_token_requests_are_limited_per_client_and_per_address(service):
    """Limits of the fixture: 3 failures per client id, 5 per address, in 60 s. Beyond them the
    secret is not even checked: 429 with Retry-After, the right secret included."""
    alice_id, alice_secret = service.credentials["alice"]
    form = {"grant_type": "client_credentials"}
    for _ in range(3):
        assert _token(service, data=form, headers=basic(alice_id, "guess")).status_code == 400
    locked = _token(service, data=form, headers=basic(alice_id, alice_secret))
    assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
    assert "too many failed attempts" in locked.json()["error_description"]
    bob_id, bob_secret = service.credentials["bob"]
    assert _token(service, data=form, headers=basic(bob_id, bob_secret)).status_code == 200  # another client
    for name in ("nobody-1", "nobody-2"):  # failures 4 and 5 from this address
        assert _token(service, data=form, headers=basic(name, "x")).status_code == 400
    assert _token(service, data=form, headers=basic(bob_id, bob_secret)).status_code == 429  # the address is
    # recorded in the database, so every worker process sees the same counts
    with service.state.store.tx() as tx:
        assert tx.one("SELECT COUNT(*) FROM auth_failures")[0] == 2 * 5


def test_discovery_document_satisfies_a_strict_openid_client_library(tmp_path):
    from authlib.oidc.discovery import OpenIDProviderMetadata

    settings = settings_for(tmp_path, public_url="https://pact.example.com/")
    with app_client(settings) as http:
        # the Host header the request carries never becomes the issuer
        document = http.get("/.well-known/openid-configuration", headers={"host": "evil.example"}).json()
        assert document["issuer"] == "https://pact.example.com"
        OpenIDProviderMetadata(document).validate()  # raises on any missing or malformed required field
        assert document["token_endpoint"] == "https://pact.example.com/auth/token"
        assert set(document["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
        assert http.get("/auth/jwks").json() == {"keys": []}


# ------------------------------------------------------------------------------------------------
# Inputs that must be refused with 4xx, never 500


def _protected_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every documented operation but the public ones, path parameters filled."""
    public = ("/auth/token", "/.well-known/openid-configuration", "/auth/jwks")
    return [(method.upper(), re.sub(r"\{[^}]+\}", "tocs" if "own-tables" in path else "x", path))
            for path, operations in app.openapi()["paths"].items() if path not in public for method in operations]


def test_a_non_ascii_byte_in_a_bearer_token_is_refused_on_every_protected_route(service):
    routes = _protected_routes(service.app)
    assert len(routes) >= 14  # /v1 (calculations, uploads, jobs, own tables) and the PACT host
    statuses = {}
    for method, path in routes:
        answer = service.request(method, path, headers={"Authorization": b"Bearer abc\xff.def"})
        statuses[(method, path)] = answer.status_code
    assert all(400 <= s < 500 for s in statuses.values()), statuses
    assert statuses[("GET", "/2/footprints")] == 400 and statuses[("GET", "/2/ileap/tad")] == 403
    assert statuses[("POST", "/v1/emissions/shipments")] == 401
    basic_non_ascii = _token(service, data={"grant_type": "client_credentials"}, headers={"Authorization": b"Basic \xe9\xe9"})
    assert basic_non_ascii.status_code == 400 and basic_non_ascii.json()["error"] == "invalid_client"


def test_deeply_nested_filter_many_tad_parameters_and_deep_json_are_refused(service):
    nested = "(" * 90 + "created ge '2026-01-01T00:00:00Z'" + ")" * 90
    answer = service.get("/2/footprints", params={"$filter": nested}, headers=service.alice)
    assert answer.status_code == 400 and answer.json()["code"] == "BadRequest" and "deeper than 8" in answer.json()["message"]
    ok = "(" * 8 + "created ge '2026-01-01T00:00:00Z'" + ")" * 8
    assert service.get("/2/footprints", params={"$filter": ok}, headers=service.alice).status_code == 200
    many = " and ".join(["created ge '2026-01-01T00:00:00Z'"] * 21)
    assert "more than 20 conditions" in service.get("/2/footprints", params={"$filter": many},
                                                     headers=service.alice).json()["message"]
    thousand = "&".join(f"p{i}=v" for i in range(1000))
    answer = service.get(f"/2/ileap/tad?{thousand}", headers=service.alice)
    assert answer.status_code == 400 and "1000 query parameters: at most 100" in answer.json()["message"]
    many_filters = "&".join(f"p{i}=v" for i in range(21))
    answer = service.get(f"/2/ileap/tad?{many_filters}", headers=service.alice)
    assert answer.status_code == 400 and "at most 20 TAD properties" in answer.json()["message"]
    headers = {**service.alice, "content-type": "application/cloudevents+json"}
    for depth in (33, 100_000):  # past the limit; past the JSON parser's own recursion limit
        body = "[" * depth + "]" * depth
        answer = service.post("/2/events", content=body, headers=headers)
        assert answer.status_code == 400 and "deeper than 32 levels" in answer.json()["message"], depth


# ------------------------------------------------------------------------------------------------
# Limits and headers


def test_security_headers_and_hsts_only_under_tls(tmp_path):
    settings = settings_for(tmp_path, public_url="https://pact.example.com")
    with app_client(settings) as http:
        plain = http.get("/.well-known/openid-configuration")
        assert plain.headers["x-content-type-options"] == "nosniff" and plain.headers["x-frame-options"] == "DENY"
        assert plain.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in plain.headers
        secure = http.get("https://testserver/.well-known/openid-configuration")
        assert secure.headers["strict-transport-security"] == "max-age=31536000"
        page = http.get("/docs")
        assert "script-src 'self';" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        missing = http.get("/nothing-here")  # errors carry them too
        assert missing.status_code == 404 and missing.headers["x-frame-options"] == "DENY"


def test_query_header_and_host_limits(service):
    long_query = service.get("/2/footprints?x=" + "a" * 9000, headers=service.alice)
    assert long_query.status_code == 414
    many_headers = {**service.alice, **{f"x-h{i}": "1" for i in range(120)}}
    assert service.get("/2/footprints", headers=many_headers).status_code == 431
    # pagination links use the configured public URL, whatever Host the request names
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    _run_jobs(service)
    page = service.get("/2/footprints?limit=1", headers={**service.alice, "host": "evil.example"})
    assert page.headers["link"].startswith("<http://testserver/2/footprints?limit=1&after=")


def test_a_request_body_that_stops_arriving_is_answered_408(tmp_path):
    settings = settings_for(tmp_path, body_timeout_seconds=0.5)
    ops = register(settings, "Carrier", "operator", client_id="ops")
    with app_client(settings) as http:
        headers = bearer(http, *ops)

    async def stalled():
        yield b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nshipment_id\n"
        await asyncio.sleep(3)
        yield b"x\r\n--B--\r\n"

    async def post():
        app = http.app
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.post("/v1/uploads", content=stalled(),
                                         headers={**headers, "content-type": "multipart/form-data; boundary=B"})

    answer = asyncio.run(post())
    assert answer.status_code == 408 and answer.headers["connection"] == "close"
    assert "0.5 s" in answer.json()["message"]
    assert list((tmp_path / "data" / "uploads").glob("*")) == []  # nothing of it kept


# ------------------------------------------------------------------------------------------------
# Roles and paths


def test_operators_are_refused_by_the_pact_host_and_trailing_slashes_do_not_redirect(service):
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    _run_jobs(service)
    for path in ("/2/footprints", "/3/footprints", "/2/ileap/tad", "/2/footprints/x"):
        answer = service.get(path, headers=service.ops)
        assert answer.status_code == 403 and answer.json()["code"] == "AccessDenied", path
    event = {"specversion": "1.0", "id": "p", "source": "https://x", "type": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
             "data": {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]}}
    assert service.post("/2/events", json=event, headers=service.ops).status_code == 403
    slash = service.get("/2/footprints/", headers=service.alice, follow_redirects=False)
    assert slash.status_code == 200 and slash.json() == service.get("/2/footprints", headers=service.alice).json()
    assert len(slash.json()["data"]) == 11


# ------------------------------------------------------------------------------------------------
# The event loop


def test_database_work_never_runs_on_the_event_loop(service, monkeypatch):
    """Every transaction the handlers open (the client lookup of each authenticated request
    included) runs on a thread with no event loop."""
    on_loop = []
    original = Store.tx

    def watched(self, write=False):
        try:
            asyncio.get_running_loop()
            on_loop.append(threading.current_thread().name)
        except RuntimeError:
            pass
        return original(self, write)

    monkeypatch.setattr(Store, "tx", watched)
    alice_id, alice_secret = service.credentials["alice"]
    _token(service, data={"grant_type": "client_credentials"}, headers=basic(alice_id, alice_secret))
    _token(service, data={"grant_type": "client_credentials"}, headers=basic(alice_id, "wrong"))
    job = upload(service, service.ops, DEMO_LEGS, share_with="alice").json()
    _run_jobs(service)
    service.get(f"/v1/jobs/{job['id']}", headers=service.ops)
    service.get(f"/v1/jobs/{job['id']}/results", headers=service.ops)
    listed = service.get("/2/footprints", headers=service.alice).json()["data"]
    service.get(f"/2/footprints/{listed[0]['id']}", headers=service.alice)
    service.get("/3/footprints?status=Active", headers=service.alice)
    service.get("/2/ileap/tad", headers=service.alice)
    service.put("/v1/own-tables/tocs", files={"file": ("tocs.csv", OWN_TOCS.encode())}, headers=service.ops)
    service.get("/v1/own-tables", headers=service.ops)
    service.post("/2/events", json={"specversion": "1.0", "id": "e", "source": "https://x", "data": {"productId": ["u"]},
                                    "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"}, headers=service.alice)
    assert on_loop == []


# ------------------------------------------------------------------------------------------------
# Documentation pages


def test_docs_reference_no_other_host_and_their_assets_are_served(service):
    for page in ("/docs", "/redoc"):
        html = service.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert not re.search(r"(https?:)?//", html.text), page  # no absolute or scheme-relative URL
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets and all(a.startswith("/") for a in assets)
        for asset in assets:
            served = service.get(asset)
            assert (served.status_code == 200 and len(served.content) > 1000) or asset.endswith("init.js"), asset
    init = service.get("/docs/init.js")
    assert init.headers["content-type"].startswith("text/javascript") and '"/openapi.json"' in init.text
    assert "validatorUrl: null" in init.text  # Swagger UI would otherwise call its online validator
    bundle = service.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript") and "SwaggerUIBundle" in bundle.text[:2000]


# ------------------------------------------------------------------------------------------------
# Carriers' own TOC / HOC tables


def test_own_toc_table_registered_once_and_used_by_later_jobs(service, tmp_path):
    bad = OWN_TOCS.replace(",60,20,80,", ",60,20,lots,")
    refused = service.put("/v1/own-tables/tocs", files={"file": ("tocs.csv", bad.encode())}, headers=service.ops)
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {"path": "tocs", "location": "body",
                                            "reason": "tocs.csv: row 2, column wtw_g_co2e_per_tkm: 'lots' is not a number"}
    clash = OWN_TOCS.replace("carrier-artic-2026", "glec3-road-eu-artic_40t-diesel-average")
    refused = service.put("/v1/own-tables/tocs", files={"file": ("tocs.csv", clash.encode())}, headers=service.ops)
    assert refused.status_code == 422 and "row 2, column toc_id" in refused.json()["message"]
    assert service.get("/v1/own-tables", headers=service.ops).json() == {"tocs": None, "hocs": None}
    assert service.put("/v1/own-tables/tocs", files={"file": ("t.csv", OWN_TOCS.encode())},
                       headers=service.alice).status_code == 403  # operators only

    registered = service.put("/v1/own-tables/tocs", files={"file": ("tocs.csv", OWN_TOCS.encode())}, headers=service.ops)
    assert registered.status_code == 200 and registered.json()["rows"] == 2
    tocs_path, hocs_path = service.state.store.own_table_paths("ops")  # the accessor calculations use
    assert tocs_path.endswith(f"tocs-{registered.json()['sha256']}.csv") and hocs_path is None
    legs = tmp_path / "own.csv"
    legs.write_text(OWN_LEGS)
    job = upload(service, service.ops, legs, share_with="alice").json()
    assert job["own_tables"] == {"tocs": f"tocs-{registered.json()['sha256']}.csv"}
    _run_jobs(service)
    done = service.get(f"/v1/jobs/{job['id']}", headers=service.ops).json()
    assert done["status"] == "done", done
    # A: 10 t × 100 km = 1,000 t·km × 80 g (the carrier's own intensity) = 80 kg WTW
    listed = service.get("/2/footprints", headers=service.alice).json()["data"]
    by_product = {d["productIds"][0].rsplit(":", 2)[-2] + ":" + d["productIds"][0].rsplit(":", 1)[-1]: d for d in listed}
    assert by_product["shipment:A"]["pcf"]["pCfExcludingBiogenic"] == "80"
    # B uses a TOC the exchange cannot describe: its footprint would name a TOC that is not
    # published, so it is not published either, and the job says why
    assert sorted(by_product) == ["shipment:A", "toc:carrier-artic-2026"]
    problems = done["report"]["problems"]
    assert any(p.startswith("TOC carrier-odd-2026: cannot list energyCarriers") for p in problems)
    assert "shipment B: not exported: it references TOC carrier-odd-2026, which could not be exported" in " ".join(problems)
    assert service.delete("/v1/own-tables/tocs", headers=service.ops).status_code == 204
    assert service.state.store.own_table_paths("ops") == (None, None)


def test_an_upload_may_bring_its_own_table(service, tmp_path):
    legs = tmp_path / "own.csv"
    legs.write_text(OWN_LEGS.splitlines()[0] + "\n" + OWN_LEGS.splitlines()[1] + "\n")
    with open(legs, "rb") as f:
        bad = service.post("/v1/uploads", headers=service.ops, files={
            "file": ("own.csv", f.read()), "tocs": ("tocs.csv", OWN_TOCS.replace("primary", "measured").encode())})
    assert bad.status_code == 422 and "row 2, column data_type: 'measured' is not one of" in bad.json()["message"]
    assert list((service.state.settings.data_dir / "uploads").iterdir()) == []  # nothing kept of it
    with open(legs, "rb") as f:
        job = service.post("/v1/uploads", data={"share_with": "alice"}, headers=service.ops, files={
            "file": ("own.csv", f.read()), "tocs": ("tocs.csv", OWN_TOCS.encode())}).json()
    _run_jobs(service)
    done = service.get(f"/v1/jobs/{job['id']}", headers=service.ops).json()
    assert done["status"] == "done" and done["counts"]["computed"] == 1
    results = service.get(f"/v1/jobs/{job['id']}/results", headers=service.ops).text
    assert "carrier-artic-2026" in results and ",80.0," in results  # 1,000 t·km × 80 g = 80 kg
    assert service.state.store.own_tables("ops") == {}  # used by that job only


def test_the_calculation_api_does_not_return_a_footprint_naming_an_unpublished_toc(tmp_path):
    tocs = tmp_path / "tocs.csv"
    tocs.write_text(OWN_TOCS)
    settings = settings_for(tmp_path, tocs=str(tocs))
    alice = register(settings, "Alice", client_id="alice")
    with app_client(settings) as http:
        shipment = {"shipment_id": "B", "mass_kg": 10000, "legs": [{"mode": "road", "distance_km": 100,
                                                                     "toc_id": "carrier-odd-2026"}]}
        for fmt in ("pact-v2", "pact-v3", "ileap"):
            answer = http.post(f"/v1/emissions/shipments?format={fmt}", json=shipment, headers=bearer(http, *alice)).json()
            assert answer["data"] == [], fmt
            assert any(p.startswith("shipment B: not exported: it references TOC carrier-odd-2026") for p in answer["problems"]), fmt


# ------------------------------------------------------------------------------------------------
# The job worker


def test_the_job_worker_survives_a_polars_panic_and_takes_the_next_job(service, monkeypatch):
    import polars as pl

    from logistics_api import jobs

    real_run = jobs.batch.run
    calls = []

    def panicking(path, *args, **kwargs):  # the first job's run panics in native code
        calls.append(path)
        if len(calls) == 1:
            raise pl.exceptions.PanicException("index out of bounds: the len is 0 but the index is 0")
        return real_run(path, *args, **kwargs)

    monkeypatch.setattr(jobs.batch, "run", panicking)
    assert not issubclass(pl.exceptions.PanicException, Exception)  # what `except Exception` misses
    first = upload(service, service.ops, DEMO_LEGS, share_with="alice", key="one").json()
    second = upload(service, service.ops, DEMO_LEGS, share_with="alice", key="two").json()
    state = service.state
    worker = JobWorker(state.store, state.calculator, state.settings.data_dir, 30, 3)
    worker.start()
    try:
        for _ in range(600):
            statuses = [state.store.job(j["id"])["status"] for j in (first, second)]
            if all(s in ("done", "failed") for s in statuses):
                break
            threading.Event().wait(0.1)
    finally:
        worker.stop()
    failed, done = state.store.job(first["id"]), state.store.job(second["id"])
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["error"] == "PanicException: index out of bounds: the len is 0 but the index is 0"
    assert done["status"] == "done" and done["report"]["shipments"] == 4
    assert worker._thread.is_alive() is False and len(calls) == 2  # stopped by us, not by the panic
