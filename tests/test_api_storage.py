"""The repository layer on SQLite and PostgreSQL: migrations, clients, documents and sharing,
filters, jobs with leases, events; a killed transaction leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from test_api_support import REPO, store_url  # noqa: F401 (fixture)

from logistics_api.auth import check_secret, hash_secret, seal, unseal
from logistics_api.documents import footprint_row, tad_row
from logistics_api.pact import v3_filters
from logistics_api.storage import MIGRATIONS, Client, LostJob, Store, StoredDocument, StoreError, now_us


def _doc(doc_id: str, product: str, created: str = "2026-04-01T00:00:00Z", geography: str | None = None) -> dict:
    pcf = {"referencePeriodStart": "2026-01-01T00:00:00Z", "referencePeriodEnd": "2027-01-01T00:00:00Z"}
    if geography:
        pcf["geographyCountry"] = geography
    return {"id": doc_id, "created": created, "status": "Active", "productIds": [f"urn:example:{product}"],
            "companyIds": ["urn:example:company:demo"], "productCategoryCpc": "83117", "pcf": pcf,
            "extensions": [{"data": {"shipmentId": product, "tces": []}}]}


@pytest.fixture
def store(store_url):  # noqa: F811
    s = Store(store_url)
    s.migrate()
    for ident, role in (("alice", "recipient"), ("bob", "recipient"), ("ops", "operator")):
        s.add_client(Client(ident, ident.title(), role, hash_secret("pw-" + ident), True))
    yield s
    s.close()


def test_migrations_apply_once_and_record_their_version(store_url):  # noqa: F811
    s = Store(store_url)
    assert s.migrate() == [v for v, _, _ in MIGRATIONS]
    assert s.migrate() == []  # idempotent: a restart or a second worker applies nothing
    assert s.schema_version() == MIGRATIONS[-1][0]
    s.close()


def test_clients_secret_hash_and_update(store):
    alice = store.client("alice")
    assert alice.role == "recipient" and alice.active
    assert check_secret("pw-alice", alice.secret_hash) and not check_secret("pw-bob", alice.secret_hash)
    assert "pw-alice" not in alice.secret_hash  # only the scrypt hash is stored
    with pytest.raises(StoreError):
        store.add_client(Client("alice", "again", "recipient", "x", True))
    assert store.update_client("alice", active=False) and not store.client("alice").active
    assert store.update_client("nobody", active=False) is False


def test_sealed_secret_opens_only_with_its_key_and_client():
    key = "k" * 48
    sealed = seal("our-secret-at-their-host", key, "shipper")
    assert sealed.startswith("aesgcm1:") and "our-secret" not in sealed
    assert sealed != seal("our-secret-at-their-host", key, "shipper")  # a fresh nonce every time
    assert unseal(sealed, key, "shipper") == "our-secret-at-their-host"
    with pytest.raises(ValueError, match="cannot be opened"):
        unseal(sealed, "another-key-" * 4, "shipper")
    with pytest.raises(ValueError, match="cannot be opened"):
        unseal(sealed, key, "someone-else")  # copied to another client's row
    with pytest.raises(ValueError, match="cannot be opened"):
        unseal(sealed[:-4] + "AAAA", key, "shipper")  # altered
    with pytest.raises(ValueError, match="not sealed"):
        unseal("plain text", key, "shipper")
    with pytest.raises(ValueError, match="32"):
        seal("s", "short", "shipper")


def test_documents_are_stored_once_and_seen_only_by_their_recipients(store):
    docs = [footprint_row(_doc(f"00000000-0000-4000-8000-00000000000{i}", f"S{i}"), "pact2") for i in range(3)]
    share = {"shipment:S0": ["alice"], "shipment:S1": ["alice", "bob"], "shipment:S2": ["bob"]}
    with store.tx(write=True) as tx:
        assert store.put_documents(tx, docs, share) == 3
    with store.tx(write=True) as tx:  # the same documents again (a re-upload): nothing new
        assert store.put_documents(tx, docs, share) == 0
    assert store.count_documents("pact2") == 3
    alice, _ = store.list_documents("pact2", "alice")
    bob, _ = store.list_documents("pact2", "bob")
    assert [json.loads(b)["productIds"][0][-2:] for _, b in alice] == ["S0", "S1"]
    assert [json.loads(b)["productIds"][0][-2:] for _, b in bob] == ["S1", "S2"]
    assert store.list_documents("pact2", "ops")[0] == []
    assert store.get_document("pact2", docs[0].doc_id, "alice") is not None
    assert store.get_document("pact2", docs[0].doc_id, "bob") is None  # exists, but not for bob


def test_a_recomputed_footprint_deprecates_the_earlier_one(store):
    """PACT lifecycle (exchange reference §1.6): a product's new footprint names the active one it
    replaces in precedingPfIds, and that one becomes Deprecated; other products are untouched."""
    first = [footprint_row(_doc("00000000-0000-4000-8000-000000000001", "S1"), "pact2"),
             footprint_row(_doc("00000000-0000-4000-8000-000000000002", "S2"), "pact2")]
    share = {"shipment:S1": ["alice"], "shipment:S2": ["alice"]}
    with store.tx(write=True) as tx:
        store.put_documents(tx, first, share)
    again = footprint_row(_doc("00000000-0000-4000-8000-000000000003", "S1"), "pact2")  # new figures: new id
    with store.tx(write=True) as tx:
        assert store.put_documents(tx, [again], share) == 1
    body = {d.doc_id: json.loads(store.get_document("pact2", d.doc_id, "alice")) for d in [*first, again]}
    old, other, new = (body[d.doc_id] for d in [*first, again])
    assert old["status"] == "Deprecated" and old["statusComment"].startswith("superseded")
    assert new["status"] == "Active" and new["precedingPfIds"] == [first[0].doc_id]
    assert other["status"] == "Active" and "precedingPfIds" not in other
    rows, _ = store.list_documents("pact2", "alice", [("d.status = ?", ["Active"])])
    assert sorted(json.loads(b)["id"] for _, b in rows) == sorted([first[1].doc_id, again.doc_id])
    third = footprint_row(_doc("00000000-0000-4000-8000-000000000004", "S1"), "pact2")
    with store.tx(write=True) as tx:  # only the active one is replaced; the chain goes one step back
        store.put_documents(tx, [third], share)
    assert json.loads(store.get_document("pact2", third.doc_id, "alice"))["precedingPfIds"] == [again.doc_id]


def test_paging_positions_and_snapshot(store):
    docs = [footprint_row(_doc(f"00000000-0000-4000-8000-0000000000{i:02d}", f"S{i}"), "pact2") for i in range(5)]
    with store.tx(write=True) as tx:
        store.put_documents(tx, docs, {f"shipment:S{i}": ["alice"] for i in range(5)})
    first, snapshot = store.list_documents("pact2", "alice", limit=2)
    assert len(first) == 3  # limit + 1 tells there is a next page
    with store.tx(write=True) as tx:  # a footprint added later is not in the pages of this listing
        store.put_documents(tx, [footprint_row(_doc("00000000-0000-4000-8000-000000000099", "S99"), "pact2")],
                            {"shipment:S99": ["alice"]})
    second, same = store.list_documents("pact2", "alice", after=first[1][0], until=snapshot, limit=10)
    assert same == snapshot and len(second) == 3


def test_v3_filters_select_by_terms_and_validity(store):
    docs = [footprint_row(_doc("00000000-0000-4000-8000-000000000001", "A", geography="DE"), "pact3"),
            footprint_row(_doc("00000000-0000-4000-8000-000000000002", "B", geography="FR"), "pact3")]
    with store.tx(write=True) as tx:
        store.put_documents(tx, docs, {"shipment:A": ["alice"], "shipment:B": ["alice"]})

    def ids(**criteria):
        rows, _ = store.list_documents("pact3", "alice", v3_filters(criteria))
        return [json.loads(b)["productIds"][0].rsplit(":", 1)[1] for _, b in rows]

    assert ids(productId=["URN:EXAMPLE:A"]) == ["A"]  # case-insensitive
    assert ids(geography=["fr", "xx"]) == ["B"]  # OR within a parameter
    assert ids(geography=["DE"], productId=["urn:example:B"]) == []  # AND across parameters
    # validity defaults to [referencePeriodEnd, +3 years] = [2027-01-01, 2030-01-01]
    assert ids(validOn="2028-06-01T00:00:00Z") == ["A", "B"]
    assert ids(validOn="2026-06-01T00:00:00Z") == []
    assert ids(validAfter="2026-12-31T00:00:00.000Z") == ["A", "B"]
    assert ids(validBefore="2030-01-02T00:00:00Z") == ["A", "B"]
    assert ids(validBefore="2029-12-31T00:00:00Z") == []
    assert ids(status="Deprecated") == []


def test_tad_terms_match_by_name_and_path(store):
    tad = {"activityId": "L1", "mode": "Road", "origin": {"city": "Berlin", "country": "DE"},
           "destination": {"city": "Warsaw", "country": "PL"}}
    with store.tx(write=True) as tx:
        store.put_documents(tx, [tad_row(tad, "S1")], {"shipment:S1": ["bob"]})
    where = [("EXISTS (SELECT 1 FROM terms t WHERE t.seq = d.seq AND t.name = ? AND t.value = ?)", [n, v])
             for n, v in (("mode", "road"), ("destination.city", "warsaw"))]
    assert len(store.list_documents("tad", "bob", where)[0]) == 1
    assert store.list_documents("tad", "alice", where)[0] == []


def _job(store, ident: str, key: str | None = None, sha: str = "abc") -> tuple[dict, bool]:
    return store.create_job({"id": ident, "owner": "ops", "idempotency_key": key, "sha256": sha,
                             "filename": "legs.csv", "path": "/nowhere/legs.csv", "share_with": ["alice"]})


def test_job_idempotency_key_returns_the_first_job(store):
    _, created = _job(store, "j1", key="k")
    again, created_again = _job(store, "j2", key="k")
    assert created and not created_again and again["id"] == "j1"
    assert store.job("j2") is None
    assert _job(store, "j3")[1] and _job(store, "j4")[1]  # no key: every upload is a job


def test_column_mappings_and_what_a_recipient_sees_of_jobs(store):
    assert store.column_mapping("ops") is None
    store.set_column_mapping("ops", {"columns": {"Weight (t)": {"to": "mass_kg", "unit": "t"}}})
    store.set_column_mapping("ops", {"columns": {"Consignment": "shipment_id"}})  # the last one is kept
    assert store.column_mapping("ops") == {"columns": {"Consignment": "shipment_id"}}
    mapped, _ = store.create_job({"id": "j1", "owner": "ops", "sha256": "abc", "filename": "tms.csv", "path": "/x.csv",
                                  "share_with": ["alice"], "column_mapping": {"columns": {"Consignment": "shipment_id"}}})
    assert mapped["column_mapping"] == {"columns": {"Consignment": "shipment_id"}}
    assert _job(store, "j2")[0]["column_mapping"] is None
    assert [j["id"] for j in store.jobs_of("ops")] == ["j2", "j1"] and store.jobs_of("alice") == []
    docs = [footprint_row(_doc(f"00000000-0000-4000-8000-00000000001{i}", f"S{i}"), "pact2") for i in range(2)]
    with store.tx(write=True) as tx:
        store.put_documents(tx, docs, {"shipment:S0": ["alice"], "shipment:S1": ["bob"]}, job_id="j1")
    shared = store.shared_shipments("alice")
    assert [(s["shipment_id"], s["job_id"]) for s in shared] == [("S0", "j1")]
    assert store.shipment_shared("alice", "j1", "S0") and not store.shipment_shared("alice", "j1", "S1")
    assert not store.shipment_shared("alice", "j2", "S0")


def test_job_lease_takeover_and_attempt_limit(store):
    _job(store, "j1")
    claimed = store.claim_job(lease_seconds=0.0, max_attempts=2)
    assert claimed["id"] == "j1" and claimed["status"] == "running" and claimed["attempts"] == 1
    # the worker "died": its lease (0 s) ran out, so the job can be taken over
    again = store.claim_job(lease_seconds=0.0, max_attempts=2)
    assert again["id"] == "j1" and again["attempts"] == 2
    # out of attempts: marked failed, never handed out again
    assert store.claim_job(lease_seconds=0.0, max_attempts=2) is None
    failed = store.job("j1")
    assert failed["status"] == "failed" and "stopped 2 times" in failed["error"]


def test_job_with_live_lease_is_not_taken_twice(store):
    _job(store, "j1")
    assert store.claim_job(lease_seconds=60, max_attempts=3)["id"] == "j1"
    assert store.claim_job(lease_seconds=60, max_attempts=3) is None


def test_concurrent_workers_claim_each_job_once(store, store_url):  # noqa: F811
    """Four workers (threads, each with its own connections) claiming at once: every job is taken
    by exactly one (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE)."""
    import threading

    for n in range(40):
        _job(store, f"j{n:02d}")
    claimed: list[str] = []
    lock, start = threading.Lock(), threading.Barrier(4)

    def worker(n: int) -> None:
        own = Store(store_url)
        start.wait()
        while (job := own.claim_job(lease_seconds=60, max_attempts=3, worker=f"w{n}")) is not None:
            with lock:
                claimed.append(job["id"])
        own.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == [f"j{n:02d}" for n in range(40)]  # all taken, none twice
    assert {store.job(j)["attempts"] for j in claimed} == {1}


def test_an_attempt_that_lost_its_lease_changes_nothing(store):
    _job(store, "j1")
    late = store.claim_job(lease_seconds=0.0, max_attempts=3, worker="slow")  # its lease runs out at once
    taker = store.claim_job(lease_seconds=60, max_attempts=3, worker="other")
    assert (late["attempts"], taker["attempts"]) == (1, 2) and store.job("j1")["worker"] == "other"
    assert store.job_progress("j1", late["attempts"], 10, None, 60) is False
    with pytest.raises(LostJob), store.tx(write=True) as tx:
        store.put_documents(tx, [footprint_row(_doc("00000000-0000-4000-8000-000000000009", "S9"), "pact2")],
                            {"shipment:S9": ["alice"]})
        store.finish_job(tx, "j1", late["attempts"], {"shipments": 1})
    assert store.count_documents() == 0  # rolled back with it
    assert store.fail_job("j1", "late failure", late["attempts"]) is False
    assert store.job("j1")["status"] == "running"
    with store.tx(write=True) as tx:
        store.finish_job(tx, "j1", taker["attempts"], {"shipments": 1})
    assert store.job("j1")["status"] == "done"


def test_events_recorded_once_and_outbox_due(store):
    event = {"id": "e1", "type": "t", "source": "https://x", "specversion": "1.0", "data": {}}
    with store.tx(write=True) as tx:
        assert store.record_event(tx, "alice", 2, event)
        store.queue_outgoing(tx, "alice", 2, "https://x/2/events", {"id": "answer"}, 3600)
    with store.tx(write=True) as tx:
        assert not store.record_event(tx, "alice", 2, event)  # the same event again: a retry
    due = store.due_outgoing()
    assert [json.loads(d["body"])["id"] for d in due] == ["answer"]
    store.outgoing_result(due[0]["seq"], "sent", 1, now_us(), None)
    assert store.due_outgoing() == [] and store.outgoing()[0]["status"] == "sent"


def test_killed_transaction_leaves_nothing(store_url, tmp_path):  # noqa: F811
    """A process killed inside a write transaction: after it, none of its rows are visible."""
    Store(store_url).migrate()
    script = textwrap.dedent(f"""
        import os, signal
        from logistics_api.storage import Store, StoredDocument
        s = Store({store_url!r})
        with s.tx(write=True) as tx:
            docs = [StoredDocument("pact2", f"id-{{i}}", "shipment", f"shipment:{{i}}", "Active", "{{}}") for i in range(50)]
            s.put_documents(tx, docs, {{}})
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=os.environ, timeout=60)
    assert done.returncode == -9
    s = Store(store_url)
    assert s.count_documents() == 0
    with s.tx(write=True) as tx:  # and the database is usable (no stale lock)
        s.put_documents(tx, [StoredDocument("pact2", "x", "shipment", "shipment:x", "Active", "{}")], {})
    assert s.count_documents() == 1
    s.close()


def test_service_on_both_backends_upload_to_listing(store_url, tmp_path):  # noqa: F811
    """The whole path (upload, job, footprints, sharing, listing, paging) on each database."""
    from test_api_support import DEMO_LEGS, app_client, bearer, register, settings_for, upload

    from logistics_api.jobs import JobWorker

    settings = settings_for(tmp_path, database_url=store_url)
    ops, alice = register(settings, "Ops", "operator", client_id="ops"), register(settings, "Alice", client_id="alice")
    bob = register(settings, "Bob", client_id="bob")
    with app_client(settings) as http:
        job = upload(http, bearer(http, *ops), DEMO_LEGS, share_with="alice", key="k").json()
        state = http.app.state
        JobWorker(state.store, state.calculator, settings.data_dir, 30, 3).run_once()
        assert state.store.job(job["id"])["status"] == "done"
        headers = bearer(http, *alice)
        first = http.get("/2/footprints?limit=4", headers=headers)
        assert len(first.json()["data"]) == 4 and 'rel="next"' in first.headers["link"]
        # 4 shipments + 5 TOCs + 2 HOCs (demo data), the same in v3
        assert len(http.get("/2/footprints", headers=headers).json()["data"]) == 11
        assert len(http.get("/3/footprints?classification=urn:cpc:83117", headers=headers).json()["data"]) == 11
        assert len(http.get("/2/ileap/tad", headers=headers).json()["data"]) == 6
        assert http.get("/2/footprints", headers=bearer(http, *bob)).json()["data"] == []
