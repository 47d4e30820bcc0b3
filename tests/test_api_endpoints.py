"""The /v1 API and the PACT host in process: numbers, error shapes and limits, uploads and jobs,
tenancy, events."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from test_api_support import DEMO_LEGS, app_client, bearer, register, settings_for, upload

from logistics import exchange
from logistics_api.admin import add_client

# GLEC Framework v3.0 pp.91-92 (default road table): artic up to 40 t, diesel,
# average load, EU: TTW 73, WTT 22, WTW 95 g CO2e/t·km; rigid 12-20 t: 138 / 42 / 179.
# Hub, transshipment, ambient: 0.6 kg CO2e/t WTW, no TTW split (p.87).
ROAD_HUB_ROAD = {
    "shipment_id": "S-1", "mass_kg": 12000,
    "legs": [
        {"mode": "road", "origin": "DEHAM", "destination": "DEDUS", "distance_km": 410, "vehicle": "artic_40t",
         "energy_carrier": "diesel", "region": "EU"},
        {"mode": "hub", "hub_type": "transshipment"},
        {"mode": "road", "origin": "DEDUS", "destination": "FRPAR", "distance_km": 510, "vehicle": "rigid_12-20t",
         "energy_carrier": "diesel", "region": "EU"},
    ],
}


@pytest.fixture
def service(tmp_path):
    settings = settings_for(tmp_path)
    ops = register(settings, "Carrier TMS", "operator", client_id="ops")
    alice = register(settings, "Shipper Alice", client_id="alice")
    bob = register(settings, "Shipper Bob", client_id="bob")
    with app_client(settings) as http:
        http.ops, http.alice, http.bob = (bearer(http, *c) for c in (ops, alice, bob))
        http.app_state = http.app.state
        yield http


def test_three_leg_shipment_numbers_and_provenance(service):
    answer = service.post("/v1/emissions/shipments", json=ROAD_HUB_ROAD, headers=service.alice)
    assert answer.status_code == 200, answer.text
    shipment = answer.json()["data"][0]
    legs = shipment["legs"]
    # 12 t × 410 km = 4920 t·km; × 95 g = 467.4 kg WTW, × 73 g = 359.16 TTW, × 22 g = 108.24 WTT
    assert legs[0]["tkm"] == pytest.approx(4920)
    assert (legs[0]["co2e_wtw_kg"], legs[0]["co2e_ttw_kg"], legs[0]["co2e_wtt_kg"]) == pytest.approx((467.4, 359.16, 108.24))
    assert legs[0]["factor_id"] == "glec3-road-eu-artic_40t-diesel-average"
    assert legs[0]["factor_source_page"] == "pp.91-92" and legs[0]["data_type"] == "default"
    # hub: 12 t × 0.6 kg/t = 7.2 kg WTW
    assert legs[1]["co2e_wtw_kg"] == pytest.approx(7.2) and legs[1]["method"] == "hub"
    # 12 t × 510 km = 6120 t·km × 179 g = 1095.48 kg
    assert legs[2]["co2e_wtw_kg"] == pytest.approx(1095.48)
    # shipment: 467.4 + 7.2 + 1095.48 = 1570.08 kg WTW over 11040 t·km
    assert shipment["co2e_wtw_kg"] == pytest.approx(1570.08) and shipment["tkm"] == pytest.approx(11040)
    assert shipment["complete"] is True and [leg["leg_id"] for leg in legs] == ["S-1-1", "S-1-2", "S-1-3"]


def test_numpy_path_and_query_answer_alike(service, monkeypatch):
    """A request of a few legs takes the engine's NumPy path; the same request through the polars
    query (the path of larger rounds) gets the same JSON, to the last digit."""
    from logistics.pipeline import engine

    small = service.post("/v1/emissions/shipments", json=ROAD_HUB_ROAD, headers=service.alice)
    monkeypatch.setattr(engine, "SMALL_ROWS", 0)
    query = service.post("/v1/emissions/shipments", json=ROAD_HUB_ROAD, headers=service.alice)
    assert small.status_code == query.status_code == 200
    assert small.json() == query.json()
    assert small.json()["data"][0]["co2e_wtw_kg"] == pytest.approx(1570.08)


def test_a_given_leg_id_equal_to_a_generated_one_is_a_duplicate(service):
    road = ROAD_HUB_ROAD["legs"][0]
    body = {"shipment_id": "S-1", "mass_kg": 1000, "legs": [{**road, "leg_id": "S-1-2"}, road]}  # 2nd: S-1-2
    legs = service.post("/v1/emissions/shipments", json=body, headers=service.alice).json()["data"][0]["legs"]
    assert [leg["error"] for leg in legs] == ["leg_id: 'S-1-2' appears more than once in shipment 'S-1'"] * 2


def test_a_leg_that_cannot_be_computed_is_reported_not_dropped(service):
    body = {"shipment_id": "S-2", "mass_kg": 1000, "legs": [
        {"mode": "road", "distance_km": 100, "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"},
        {"mode": "road", "distance_km": 100, "vehicle": "no-such-vehicle", "region": "EU"},
    ]}
    shipment = service.post("/v1/emissions/shipments", json=body, headers=service.alice).json()["data"][0]
    assert shipment["complete"] is False
    assert shipment["legs"][0]["error"] is None and "vehicle" in shipment["legs"][1]["error"]
    assert shipment["co2e_wtw_kg"] == pytest.approx(9.5)  # 1 t × 100 km × 95 g: the computed leg only


def test_exchange_formats(service):
    v2 = service.post("/v1/emissions/shipments?format=pact-v2", json=ROAD_HUB_ROAD, headers=service.alice).json()
    kinds = sorted(d["productIds"][0].split(":")[-2] for d in v2["data"])
    assert kinds == ["hoc", "shipment", "toc", "toc"] and v2["problems"] == []
    shipment = next(d for d in v2["data"] if ":shipment:" in d["productIds"][0])
    assert shipment["pcf"]["pCfExcludingBiogenic"] == "1570.08" and shipment["pcf"]["unitaryProductAmount"] == "11040"
    assert all(exchange.validate_document(d) == [] for d in v2["data"])
    v3 = service.post("/v1/emissions/shipments?format=pact-v3", json=ROAD_HUB_ROAD, headers=service.alice).json()
    assert all(d["specVersion"].startswith("3.") and exchange.validate_document(d) == [] for d in v3["data"])
    ileap = service.post("/v1/emissions/shipments?format=ileap", json=ROAD_HUB_ROAD, headers=service.alice).json()
    assert ileap["data"][0]["shipmentId"] == "S-1" and len(ileap["data"][0]["tces"]) == 3


def test_concurrent_requests_with_the_same_shipment_id_stay_apart(service):
    """Coalesced rounds must not mix two clients' shipments that share an id."""
    import asyncio

    import httpx

    other = {**ROAD_HUB_ROAD, "mass_kg": 24000}

    async def both():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await asyncio.gather(
                http.post("/v1/emissions/shipments", json=ROAD_HUB_ROAD, headers=service.alice),
                http.post("/v1/emissions/shipments", json=other, headers=service.bob),
            )

    first, second = service.portal.call(both)
    assert first.json()["data"][0]["co2e_wtw_kg"] == pytest.approx(1570.08)
    assert second.json()["data"][0]["co2e_wtw_kg"] == pytest.approx(2 * 1570.08)  # twice the mass


def test_batch_limit_duplicates_and_body_size(service, tmp_path):
    service.app_state.settings = service.app_state.settings.with_(max_batch_shipments=2)
    three = {"shipments": [{**ROAD_HUB_ROAD, "shipment_id": f"S{i}"} for i in range(3)]}
    too_many = service.post("/v1/emissions/shipments/batch", json=three, headers=service.alice)
    assert too_many.status_code == 413 and "at most 2" in too_many.json()["message"]
    twice = {"shipments": [ROAD_HUB_ROAD, ROAD_HUB_ROAD]}
    duplicate = service.post("/v1/emissions/shipments/batch", json=twice, headers=service.alice)
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["path"] == "shipments[1].shipment_id"
    two = service.post("/v1/emissions/shipments/batch", json={"shipments": three["shipments"][:2]}, headers=service.alice)
    assert [s["shipment_id"] for s in two.json()["data"]] == ["S0", "S1"]
    huge = b'{"shipments": [' + b" " * (4 * 1024 * 1024) + b"]}"
    refused = service.post("/v1/emissions/shipments/batch", content=huge,
                           headers={**service.alice, "content-type": "application/json"})
    assert refused.status_code == 413 and str(4 * 1024 * 1024) in refused.json()["message"]


def test_validation_errors_have_paths_and_one_shape(service):
    bad = {**ROAD_HUB_ROAD, "legs": [{**ROAD_HUB_ROAD["legs"][0], "mode": "truck", "distance_km": -5}]}
    answer = service.post("/v1/emissions/shipments", json=bad, headers=service.alice)
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "ValidationError"
    paths = {e["path"] for e in body["errors"]}
    assert {"legs[0].mode", "legs[0].distance_km"} <= paths
    assert all(e["location"] == "body" and e["reason"] for e in body["errors"])
    malformed = service.post("/v1/emissions/shipments", content=b"{not json",
                             headers={**service.alice, "content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "BadRequest"
    fmt = service.post("/v1/emissions/shipments?format=xml", json=ROAD_HUB_ROAD, headers=service.alice)
    assert fmt.status_code == 422
    error = fmt.json()["errors"][0]
    assert error == {"path": "format", "reason": error["reason"], "location": "query"}


def test_tokens_required_and_expiry_distinguished(service):
    assert service.post("/v1/emissions/shipments", json=ROAD_HUB_ROAD).status_code == 401
    expired = service.app_state.tokens.issue("alice", lifetime_seconds=1, now=1_000_000)
    answer = service.get("/2/footprints", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and answer.json()["code"] == "TokenExpired"
    tad = service.get("/2/ileap/tad", headers={"Authorization": f"Bearer {expired}"})
    assert tad.status_code == 401 and tad.json()["code"] == "TokenExpired"
    forged = expired.rsplit(".", 1)[0] + ".AAAA"
    assert service.get("/2/footprints", headers={"Authorization": f"Bearer {forged}"}).json()["code"] == "BadRequest"
    assert service.get("/2/ileap/tad", headers={"Authorization": f"Bearer {forged}"}).status_code == 403


def test_token_endpoint_errors(service):
    no_auth = service.post("/auth/token", data={"grant_type": "client_credentials"})
    assert no_auth.status_code == 400 and no_auth.json()["error"] == "invalid_client"
    wrong = service.post("/auth/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": "Basic YWxpY2U6d3Jvbmc="})  # alice:wrong
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    grant = service.post("/auth/token", data={"grant_type": "password"}, headers={"Authorization": "Basic YWxpY2U6d3Jvbmc="})
    assert grant.json()["error"] == "unsupported_grant_type"


def _run_jobs(service) -> None:
    from logistics_api.jobs import JobWorker

    state = service.app_state
    worker = JobWorker(state.store, state.calculator, state.settings.data_dir, 30, 3)
    while worker.run_once():
        pass


def test_upload_job_footprints_and_tenancy(service):
    answer = upload(service, service.ops, DEMO_LEGS, share_with="alice", key="demo-1")
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] == "queued" and job["share_with"] == ["alice"]
    _run_jobs(service)
    done = service.get(f"/v1/jobs/{job['id']}", headers=service.ops).json()
    assert done["status"] == "done", done
    # 8 rows, all computed; 4 shipments → 4 shipment + 5 TOC + 2 HOC footprints per PACT version
    assert done["counts"] == {"rows_read": 8, "computed": 8, "rejected": 0, "shipments": 4, "footprints_new": 28,
                              "footprints": 22, "tads": 6}
    alice = service.get("/2/footprints", headers=service.alice).json()["data"]
    assert len(alice) == 11
    assert service.get("/2/footprints", headers=service.bob).json()["data"] == []
    first = alice[0]["id"]
    assert service.get(f"/2/footprints/{first}", headers=service.alice).json()["data"]["id"] == first
    hidden = service.get(f"/2/footprints/{first}", headers=service.bob)
    missing = service.get("/2/footprints/00000000-0000-0000-0000-000000000000", headers=service.bob)
    assert hidden.status_code == missing.status_code == 404 and hidden.json()["code"] == "NoSuchFootprint"
    assert hidden.json() == {"code": "NoSuchFootprint", "message": f"no footprint {first!r}"}  # same as missing
    # DEMO-001: 467.4 + 7.2 + 1095.48 = 1570.08 kg WTW (as computed above)
    demo1 = next(d for d in alice if d["productIds"][0].endswith(":shipment:DEMO-001"))
    assert demo1["pcf"]["pCfExcludingBiogenic"] == "1570.08"
    assert len(service.get("/3/footprints", headers=service.alice).json()["data"]) == 11
    tads = service.get("/2/ileap/tad?mode=road", headers=service.alice).json()["data"]
    assert sorted(t["activityId"] for t in tads) == ["DEMO-001-1", "DEMO-001-3", "DEMO-003-1", "DEMO-004-2"]
    # the same file with the same key: the same job, no new footprints
    again = upload(service, service.ops, DEMO_LEGS, share_with="alice", key="demo-1")
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    assert service.app_state.store.count_documents() == 28


def test_reupload_without_key_stores_nothing_twice_and_shares_with_new_recipient(service):
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    upload(service, service.ops, DEMO_LEGS, share_with="bob")
    _run_jobs(service)
    assert service.app_state.store.count_documents() == 28  # content-derived ids: stored once
    assert len(service.get("/2/footprints", headers=service.bob).json()["data"]) == 11


def test_corrected_upload_deprecates_the_shipments_earlier_footprint(service, tmp_path):
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    _run_jobs(service)
    before = {d["productIds"][0]: d["id"] for d in service.get("/2/footprints", headers=service.alice).json()["data"]}
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(DEMO_LEGS.read_text().replace("12000", "13000"))  # DEMO-001 weighed again
    upload(service, service.ops, corrected, share_with="alice")
    _run_jobs(service)
    listed = service.get("/2/footprints", headers=service.alice).json()["data"]
    demo1 = [d for d in listed if d["productIds"][0].endswith(":shipment:DEMO-001")]
    old = next(d for d in demo1 if d["id"] == before[demo1[0]["productIds"][0]])
    new = next(d for d in demo1 if d["id"] != old["id"])
    assert old["status"] == "Deprecated" and new["status"] == "Active"
    assert new["precedingPfIds"] == [old["id"]]
    # 13 t instead of 12 t: 1570.08 kg × 13/12 = 1700.92 kg WTW
    assert new["pcf"]["pCfExcludingBiogenic"] == "1700.92"
    # the other shipments and the TOCs/HOCs did not change: same ids, still active, nothing added
    assert len(listed) == 12 and sum(d["status"] == "Deprecated" for d in listed) == 1
    # another carrier's shipment DEMO-001 is another product: it replaces nothing of this one's
    other = bearer(service, *add_client(service.app_state.store, "Other carrier", "operator", client_id="ops2"))
    their = tmp_path / "theirs.csv"
    their.write_text(DEMO_LEGS.read_text().replace("12000", "14000"))
    upload(service, other, their, share_with="alice")
    _run_jobs(service)
    listed = service.get("/2/footprints", headers=service.alice).json()["data"]
    assert sum(d["status"] == "Deprecated" for d in listed) == 1 and next(
        d for d in listed if d["id"] == new["id"])["status"] == "Active"


def test_idempotency_key_reused_for_another_file(service, tmp_path):
    upload(service, service.ops, DEMO_LEGS, key="k1")
    other = tmp_path / "other.csv"
    other.write_text(DEMO_LEGS.read_text().replace("12000", "13000"))
    answer = upload(service, service.ops, other, key="k1")
    assert answer.status_code == 409 and answer.json()["code"] == "Conflict"


def test_results_downloads(service):
    job = upload(service, service.ops, DEMO_LEGS, share_with="alice").json()
    early = service.get(f"/v1/jobs/{job['id']}/results", headers=service.ops)
    assert early.status_code == 409
    _run_jobs(service)
    results = pl.read_csv(io.BytesIO(service.get(f"/v1/jobs/{job['id']}/results", headers=service.ops).content))
    assert results.height == 8 and results.filter(pl.col("leg_id") == "DEMO-001-1")["co2e_wtw_kg"][0] == pytest.approx(467.4)
    shipments = pl.read_parquet(io.BytesIO(
        service.get(f"/v1/jobs/{job['id']}/shipments?format=parquet", headers=service.ops).content))
    assert shipments.filter(pl.col("shipment_id") == "DEMO-001")["co2e_wtw_kg"][0] == pytest.approx(1570.08)
    errors = service.get(f"/v1/jobs/{job['id']}/errors", headers=service.ops)
    assert errors.status_code == 200 and errors.text.startswith("input_line")
    assert service.get(f"/v1/jobs/{job['id']}", headers=service.alice).status_code == 403  # recipients cannot


def test_malformed_uploads(service, tmp_path):
    not_multipart = service.post("/v1/uploads", content=b"a,b\n1,2\n", headers={**service.ops, "content-type": "text/csv"})
    assert not_multipart.status_code == 400
    no_file = service.post("/v1/uploads", data={"share_with": "alice"}, files={"x": ("a.txt", b"zz")}, headers=service.ops)
    assert no_file.status_code == 422
    exe = service.post("/v1/uploads", files={"file": ("legs.exe", b"MZ")}, headers=service.ops)
    assert exe.status_code == 422 and "csv" in exe.json()["message"]
    stranger = upload(service, service.ops, DEMO_LEGS, share_with="mallory")
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["path"] == "share_with"
    # a CSV with the wrong columns: accepted, then the job fails and says why
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    job = upload(service, service.ops, bad).json()
    _run_jobs(service)
    failed = service.get(f"/v1/jobs/{job['id']}", headers=service.ops).json()
    assert failed["status"] == "failed" and "shipment_id" in failed["error"]
    # rows with bad values: the job is done, the rows are in the errors file with their line
    rows = tmp_path / "rows.csv"
    rows.write_text("shipment_id,mode,mass_kg,distance_km,vehicle,energy_carrier,region\n"
                    "A,road,1000,100,artic_40t,diesel,EU\nB,truck,abc,100,artic_40t,diesel,EU\n")
    job = upload(service, service.ops, rows, share_with="alice").json()
    _run_jobs(service)
    done = service.get(f"/v1/jobs/{job['id']}", headers=service.ops).json()
    assert done["status"] == "done" and done["counts"]["rejected"] == 1 and done["counts"]["computed"] == 1
    errors = pl.read_csv(io.BytesIO(service.get(f"/v1/jobs/{job['id']}/errors", headers=service.ops).content))
    assert errors["input_line"].to_list() == [3]


def test_upload_over_the_limit_is_refused_and_leaves_no_file(service, tmp_path):
    service.app_state.settings = service.app_state.settings.with_(max_upload_bytes=100)
    answer = upload(service, service.ops, DEMO_LEGS)
    assert answer.status_code == 413 and "100 bytes" in answer.json()["message"]
    assert list((service.app_state.settings.data_dir / "uploads").iterdir()) == []


def test_share_with_column_per_shipment(service, tmp_path):
    legs = pl.read_csv(DEMO_LEGS).with_columns(
        share_with=pl.when(pl.col("shipment_id") == "DEMO-003").then(pl.lit("bob")).otherwise(pl.lit(None)))
    path = tmp_path / "shared.csv"
    legs.write_csv(path)
    upload(service, service.ops, path, share_with="alice")
    _run_jobs(service)
    bob = service.get("/2/footprints", headers=service.bob).json()["data"]
    # DEMO-003 (one artic_40t road leg) and the one TOC it uses
    assert sorted(d["productIds"][0].split(":", 5)[-1] for d in bob) == [
        "shipment:DEMO-003", "toc:glec3-road-eu-artic_40t-diesel-average"]
    assert len(service.get("/2/footprints", headers=service.alice).json()["data"]) == 11


def test_events_accept_requests_and_queue_answers(service):
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    _run_jobs(service)
    footprint = service.get("/2/footprints?limit=1", headers=service.alice).json()["data"][0]
    event = {"specversion": "1.0", "id": "req-1", "source": "https://alice.example", "time": "2026-05-01T00:00:00Z",
             "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
             "data": {"pf": {"productIds": footprint["productIds"]}, "comment": "please"}}
    headers = {**service.alice, "content-type": "application/cloudevents+json; charset=UTF-8"}
    # alice registered no event endpoint: a request that could never be answered is refused now
    unanswerable = service.post("/2/events", content=json.dumps(event), headers=headers)
    assert unanswerable.status_code == 400 and "no event endpoint is registered" in unanswerable.json()["message"]
    assert service.app_state.store.outgoing("alice") == []
    _callback(service, "alice", "https://alice.example")
    answer = service.post("/2/events", content=json.dumps(event), headers=headers)
    assert answer.status_code == 200 and answer.content == b""
    queued = service.app_state.store.outgoing("alice")
    assert len(queued) == 1 and queued[0]["status"] == "pending"
    assert queued[0]["target"] == "https://alice.example/2/events"
    body = json.loads(queued[0]["body"])
    assert body["type"].endswith("Fulfilled.v1") and body["data"]["requestEventId"] == "req-1"
    assert body["source"] == "http://testserver"  # the configured public URL
    assert [pf["id"] for pf in body["data"]["pfs"]] == [footprint["id"]]
    rejected = {**event, "id": "req-2", "data": {"pf": {"productIds": ["urn:pact:null"]}}}
    service.post("/2/events", content=json.dumps(rejected), headers=headers)
    assert json.loads(service.app_state.store.outgoing("alice")[1]["body"])["type"].endswith("Rejected.v1")
    published = {**event, "id": "pub-1", "type": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
                 "data": {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]}}
    assert service.post("/2/events", content=json.dumps(published), headers=headers).status_code == 200
    malformed = {**published, "id": "pub-2", "data": {"pfIds": ["urn:gtin:4712345060507"]}}
    answer = service.post("/2/events", content=json.dumps(malformed), headers=headers)
    assert answer.status_code == 400 and answer.json()["code"] == "BadRequest"
    for broken in ({**published, "specversion": "0.3"}, {**published, "data": None}, [1, 2]):
        assert service.post("/2/events", content=json.dumps(broken), headers=headers).status_code == 400
    unknown = {**published, "id": "x", "type": "org.example.Other"}
    assert service.post("/2/events", content=json.dumps(unknown), headers=headers).json()["code"] == "NotImplemented"
    invalid = service.post("/2/events", content=json.dumps(published), headers={"Authorization": "Bearer nope"})
    assert invalid.status_code == 400 and invalid.json()["code"] == "BadRequest"


def test_request_events_from_another_spelling_of_the_registered_host_are_answered(service, caplog):
    """The v3 example's scheme-relative source, another case, localhost for 127.0.0.1, a default
    port or an events path: the registered host all the same. Another host is refused with 400 at
    once (and logged), not accepted with 200 and never answered."""
    _callback(service, "alice", "http://127.0.0.1:8004/3/events")  # stored without its events path
    assert service.app_state.store.client("alice").callback_url == "http://127.0.0.1:8004"
    headers = {**service.alice, "content-type": "application/cloudevents+json; charset=UTF-8"}

    def request(n: int, source: str):
        event = {"specversion": "1.0", "id": f"r{n}", "source": source, "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
                 "data": {"productId": ["urn:x"]}}
        return service.post("/3/events", content=json.dumps(event), headers=headers)

    same = ["http://127.0.0.1:8004", "//localhost:8004/3/events", "HTTP://LOCALHOST:8004/", "http://[::1]:8004/2/events"]
    assert [request(n, source).status_code for n, source in enumerate(same)] == [200] * 4
    queued = service.app_state.store.outgoing("alice")
    assert [q["target"] for q in queued] == ["http://127.0.0.1:8004/3/events"] * 4
    assert {json.loads(q["body"])["type"] for q in queued} == {"org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"}
    for n, other in enumerate(["https://127.0.0.1:8004", "http://localhost:8005", "//shipper.example", "localhost:8004"]):
        refused = request(10 + n, other)
        assert refused.status_code == 400 and refused.json()["code"] == "BadRequest", other
        assert "not your registered host 'http://127.0.0.1:8004'" in refused.json()["message"]
    assert len(service.app_state.store.outgoing("alice")) == 4  # nothing queued for them
    assert "request event from alice refused: source '//shipper.example'" in caplog.text
    # an endpoint without our credentials there could not be answered either
    service.app_state.store.update_client("alice", callback_secret=None)
    assert "no credentials" in request(20, "http://127.0.0.1:8004").json()["message"]


def _callback(service, client_id: str, url: str) -> None:
    """Register the client's event host and our credentials there (as admin set-callback does)."""
    from logistics_api.admin import _callback as normalised
    from logistics_api.auth import seal

    service.app_state.store.update_client(client_id, callback_url=normalised(url), callback_client_id="us",
                                          callback_secret=seal("our-secret", service.app_state.settings.token_key, client_id))


def test_v2_filter_subset(service):
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    _run_jobs(service)

    def count(expression: str) -> int:
        answer = service.get("/2/footprints", params={"$filter": expression}, headers=service.alice)
        assert answer.status_code == 200, answer.text
        return len(answer.json()["data"])

    assert count("created ge '2026-04-01T00:00:00Z'") == 11  # the demo config's created date
    assert count("created gt '2026-04-01T00:00:00.000Z'") == 0
    assert count("created ge '2026-04-01T00:00:00 00:00'") == 11  # '+00:00' URL-decoded to a space
    urn = "urn:pathfinder:product:customcode:vendor-assigned:shipment:DEMO-002"
    assert count(f"productIds/any(productId:(productId eq '{urn}'))") == 1
    assert count(f"(productCategoryCpc eq '83117') and (productIds/any(p:(p eq '{urn}')))") == 1
    assert count("(pcf/referencePeriodStart ge '2026-01-01T00:00:00Z') and (pcf/referencePeriodEnd lt '2027-01-02T00:00:00Z')") == 11
    for unsupported in ("created ne '2026-01-01T00:00:00Z'", "comment eq 'x'", "created ge '2026' or created lt '2027'"):
        answer = service.get("/2/footprints", params={"$filter": unsupported}, headers=service.alice)
        assert answer.status_code == 400 and answer.json()["code"] == "NotImplemented", unsupported


def test_openapi_documents_the_endpoints(service):
    spec = service.get("/openapi.json").json()
    for path in ("/v1/emissions/shipments", "/v1/emissions/shipments/batch", "/v1/uploads", "/v1/jobs/{job_id}",
                 "/auth/token", "/2/footprints", "/2/footprints/{footprint_id}", "/2/events", "/2/ileap/tad",
                 "/3/footprints", "/3/events"):
        assert path in spec["paths"], path
    assert {"400", "413", "422"} <= set(spec["paths"]["/v1/emissions/shipments"]["post"]["responses"])
    assert service.get("/docs").status_code == 200


def test_v3_filters_ignore_empty_values_and_status_is_case_insensitive(service):
    """PACT v3 conformance test case 22 sends ``geography=`` (the first footprint has no
    geography) and expects every footprint: an empty value filters nothing, for every filter."""
    upload(service, service.ops, DEMO_LEGS, share_with="alice")
    _run_jobs(service)

    def count(query: str) -> int:
        answer = service.get(f"/3/footprints?{query}", headers=service.alice)
        assert answer.status_code == 200, (query, answer.text)
        return len(answer.json()["data"])

    for empty in ("geography=", "productId=", "companyId=&classification=", "validOn=", "validAfter=&validBefore=",
                  "status=", "geography=&geography=", "productId=%20"):
        assert count(empty) == 11, empty
    assert count("status=Active") == count("status=active") == count("status=ACTIVE") == 11
    assert count("status=deprecated") == 0 and count("status=Bogus") == 0
    assert count("geography=&classification=urn:cpc:83117") == 11
    assert count("geography=XX") == 0 and count("classification=urn:cpc:1") == 0
