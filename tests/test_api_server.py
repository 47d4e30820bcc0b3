"""A real server process on 127.0.0.1: the carrier-to-shipper flow through the admin CLI, uploads
and the PACT API; pagination by following Link headers; token expiry; a job killed mid-run;
delivery of a request's answer to the requester's host."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import polars as pl
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from test_api_support import (
    DEMO_LEGS,
    POSTGRES_URL,
    REPO,
    TOKEN_KEY,
    ServerProcess,
    basic,
    free_port,
    register,
    reset_postgres,
    settings_for,
    trust,
    upload,
    wait_for,
)

from logistics import exchange
from logistics_api.auth import Tokens
from logistics_api.storage import Store

JOB_SECONDS = 120  # bound for a job to finish on a busy 2-core machine


def admin(tmp, *args: str) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-m", "api.admin", *args, "--database-url", f"sqlite:///{tmp / 'db.sqlite'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def token(http: httpx.Client, client_id: str, secret: str) -> dict[str, str]:
    answer = http.post("/auth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def follow(http: httpx.Client, url: str, headers: dict) -> list[list[dict]]:
    pages = []
    while url:
        answer = http.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["data"])
        match = re.match(r'<([^>]+)>; rel="next"', answer.headers.get("link", ""))
        url = match.group(1) if match else None
    return pages


def test_carrier_uploads_and_shipper_lists_and_fetches_ileap_footprints(tmp_path):
    carrier = admin(tmp_path, "add-client", "Carrier TMS", "--role", "operator", "--client-id", "carrier")
    shipper = admin(tmp_path, "add-client", "Shipper Co", "--client-id", "shipper")
    other = admin(tmp_path, "add-client", "Someone Else", "--client-id", "other")
    assert carrier["client_id"] == "carrier" and len(shipper["client_secret"]) >= 32
    with ServerProcess(tmp_path) as server, httpx.Client(base_url=server.base, timeout=30) as http:
        discovery = http.get("/.well-known/openid-configuration").json()
        assert discovery["token_endpoint"] == f"{server.base}/auth/token"
        ops = token(http, "carrier", carrier["client_secret"])
        job = upload(http, ops, DEMO_LEGS, share_with="shipper", key="march").json()
        done = wait_for(lambda: (j := http.get(f"/v1/jobs/{job['id']}", headers=ops).json())["status"] in ("done", "failed") and j,
                        JOB_SECONDS, 0.2)
        assert done["status"] == "done", done

        reader = token(http, "shipper", shipper["client_secret"])
        everything = http.get("/2/footprints", headers=reader).json()["data"]
        assert len(everything) == 11
        pages = follow(http, f"{server.base}/2/footprints?limit=3", reader)
        assert [len(p) for p in pages] == [3, 3, 3, 2]
        assert [d["id"] for p in pages for d in p] == [d["id"] for d in everything]
        for doc in everything:
            fetched = http.get(f"/2/footprints/{doc['id']}", headers=reader).json()["data"]
            assert fetched == doc and exchange.validate_document(fetched) == []
        shipments = {d["extensions"][0]["data"]["shipmentId"]: d for d in everything if "tces" in d["extensions"][0]["data"]}
        assert sorted(shipments) == ["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004"]
        # iLEAP TC002/TC003: every TOC and HOC the shipments name is listed too
        named = {t.get("tocId") or t.get("hocId") for d in shipments.values() for t in d["extensions"][0]["data"]["tces"]}
        listed = {d["extensions"][0]["data"].get("tocId") or d["extensions"][0]["data"].get("hocId")
                  for d in everything if "tces" not in d["extensions"][0]["data"]}
        assert named == listed
        v3_pages = follow(http, f"{server.base}/3/footprints?limit=5&status=Active", reader)
        assert sum(len(p) for p in v3_pages) == 11
        tads = follow(http, f"{server.base}/2/ileap/tad?limit=4", reader)
        assert [len(p) for p in tads] == [4, 2]

        intruder = token(http, "other", other["client_secret"])
        assert http.get("/2/footprints", headers=intruder).json()["data"] == []
        assert http.get(f"/2/footprints/{everything[0]['id']}", headers=intruder).status_code == 404
        assert http.get("/2/ileap/tad", headers=intruder).json()["data"] == []


def test_tokens_expire_and_disabled_clients_are_refused(tmp_path):
    shipper = admin(tmp_path, "add-client", "Shipper Co", "--client-id", "shipper")
    with ServerProcess(tmp_path, LOGISTICS_TOKEN_SECONDS="1") as server, httpx.Client(base_url=server.base) as http:
        headers = token(http, "shipper", shipper["client_secret"])
        assert http.get("/2/footprints", headers=headers).status_code == 200
        expired = wait_for(lambda: (a := http.get("/2/footprints", headers=headers)).status_code == 401 and a, 10, 0.2)
        assert expired.json()["code"] == "TokenExpired"
        fresh = {"Authorization": f"Bearer {Tokens(TOKEN_KEY, 3600).issue('shipper')}"}  # outlives the admin call
        assert http.get("/2/footprints", headers=fresh).status_code == 200
        admin(tmp_path, "disable-client", "shipper")
        refused = http.get("/2/footprints", headers=fresh)
        assert refused.status_code == 400 and refused.json()["code"] == "BadRequest"
        wrong = http.post("/auth/token", data={"grant_type": "client_credentials"}, headers=basic("shipper", shipper["client_secret"]))
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"


def _big_file(path, shipments: int) -> int:
    """Two road legs per shipment, distances given (no geodesy), one recipient column."""
    n = shipments * 2
    pl.DataFrame({
        "shipment_id": [f"K{i // 2:06d}" for i in range(n)], "mode": "road", "mass_kg": 1000.0,
        "distance_km": [100.0 + (i % 7) for i in range(n)], "vehicle": "artic_40t", "energy_carrier": "diesel",
        "region": "EU",
    }).write_csv(path)
    return n


def _visible(tmp) -> int:
    conn = sqlite3.connect(tmp / "db.sqlite")
    try:
        return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_job_killed_mid_run_resumes_after_restart_without_half_written_footprints(tmp_path):
    settings = settings_for(tmp_path)
    carrier = register(settings, "Carrier", "operator", client_id="carrier")
    register(settings, "Shipper", client_id="shipper")
    big = tmp_path / "big.csv"
    _big_file(big, 20_000)
    env = {"LOGISTICS_JOB_LEASE_SECONDS": "1"}
    server = ServerProcess(tmp_path, **env).start()
    try:
        with httpx.Client(base_url=server.base, timeout=60) as http:
            ops = token(http, *carrier)
            job = upload(http, ops, big, share_with="shipper", key="big").json()
            assert job["status"] == "queued"  # acknowledged: committed before the answer
            wait_for(lambda: http.get(f"/v1/jobs/{job['id']}", headers=ops).json()["status"] == "running", 30, 0.05)
            time.sleep(0.5)
    finally:
        server.kill()
    # exporting 20,000 shipments takes seconds: the kill lands while the job runs
    status = sqlite3.connect(tmp_path / "db.sqlite").execute("SELECT status FROM jobs").fetchone()[0]
    assert status == "running" and _visible(tmp_path) == 0  # nothing of it is visible
    with ServerProcess(tmp_path, **env) as server, httpx.Client(base_url=server.base, timeout=60) as http:
        ops = token(http, *carrier)
        done = wait_for(lambda: (j := http.get(f"/v1/jobs/{job['id']}", headers=ops).json())["status"] in ("done", "failed") and j,
                        JOB_SECONDS, 0.5)
        assert done["status"] == "done", done
        assert done["attempts"] == 2  # the lease of the killed attempt ran out; the restart took it over
        # 20,000 shipments and the one TOC they use, in PACT v2 and v3: each stored exactly once
        assert done["counts"]["shipments"] == 20_000 and done["counts"]["footprints_new"] == 2 * 20_001
        assert _visible(tmp_path) == 2 * 20_001
        again = upload(http, ops, big, share_with="shipper", key="big")
        assert again.status_code == 200 and again.json()["id"] == job["id"]


class _Recipient:
    """A data recipient's PACT host on loopback: issues a token, records the events it receives."""

    def __init__(self):
        self.events: list[dict] = []
        self.tokens_issued = 0

        async def token_endpoint(request: Request) -> Response:
            form = await request.form()
            expected = "Basic aG9zdC1hOnMzY3JldA=="  # host-a:s3cret
            if request.headers.get("authorization") != expected or form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            self.tokens_issued += 1
            return JSONResponse({"access_token": "recipient-token", "token_type": "bearer", "expires_in": 60})

        async def events(request: Request) -> Response:
            if request.headers.get("authorization") != "Bearer recipient-token":
                return JSONResponse({"code": "BadRequest"}, status_code=400)
            self.events.append(json.loads(await request.body()))
            return Response(status_code=200)

        app = Starlette(routes=[Route("/auth/token", token_endpoint, methods=["POST"]),
                                Route("/2/events", events, methods=["POST"])])
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        wait_for(lambda: self.server.started, 20, 0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(20)


def test_request_event_is_answered_at_the_requesters_host(tmp_path):
    with _Recipient() as recipient:
        settings = settings_for(tmp_path)
        carrier = register(settings, "Carrier", "operator", client_id="carrier")
        shipper = register(settings, "Shipper", client_id="shipper", callback_url=recipient.base,
                           callback_client_id="host-a", callback_client_secret="s3cret")
        stored = sqlite3.connect(tmp_path / "db.sqlite").execute(
            "SELECT callback_secret FROM clients WHERE client_id = 'shipper'").fetchone()[0]
        assert stored.startswith("aesgcm1:") and "s3cret" not in stored  # sealed at rest; the host still gets in
        with ServerProcess(tmp_path) as server, httpx.Client(base_url=server.base, timeout=30) as http:
            ops = token(http, *carrier)
            job = upload(http, ops, DEMO_LEGS, share_with="shipper").json()
            wait_for(lambda: http.get(f"/v1/jobs/{job['id']}", headers=ops).json()["status"] == "done", JOB_SECONDS, 0.2)
            reader = token(http, *shipper)
            wanted = http.get("/2/footprints?limit=1", headers=reader).json()["data"][0]
            # registered as http://127.0.0.1:PORT; the requester names itself otherwise: still answered there
            source = recipient.base.replace("http://127.0.0.1", "HTTP://localhost") + "/2/events"
            event = {"specversion": "1.0", "id": "run-1-12", "source": source, "time": "2026-05-01T00:00:00Z",
                     "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
                     "data": {"pf": {"productIds": wanted["productIds"]}}}
            headers = {**reader, "content-type": "application/cloudevents+json; charset=UTF-8"}
            assert http.post("/2/events", content=json.dumps(event), headers=headers).status_code == 200
            reject = {**event, "id": "run-1-14.A", "data": {"pf": {"productIds": ["urn:pact:null"]}}}
            assert http.post("/2/events", content=json.dumps(reject), headers=headers).status_code == 200
            received = wait_for(lambda: len(recipient.events) >= 2 and recipient.events, 30, 0.1)
    by_request = {e["data"]["requestEventId"]: e for e in received}
    fulfilled, rejected = by_request["run-1-12"], by_request["run-1-14.A"]
    assert fulfilled["type"] == "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"
    assert fulfilled["specversion"] == "1.0" and fulfilled["source"] == server.base
    assert [pf["id"] for pf in fulfilled["data"]["pfs"]] == [wanted["id"]]
    assert rejected["type"].endswith("Rejected.v1") and rejected["data"]["error"]["code"] == "NoSuchFootprint"


@pytest.mark.parametrize("kill_after_bytes", [64 * 1024])
def test_upload_cut_off_mid_body_is_not_a_job(tmp_path, kill_after_bytes):
    """The server dies while a file is still arriving: nothing was acknowledged, so after a
    restart there is no job and no footprint, only the partial file (never used)."""
    settings = settings_for(tmp_path)
    carrier = register(settings, "Carrier", "operator", client_id="carrier")
    big = tmp_path / "big.csv"
    _big_file(big, 5_000)
    server = ServerProcess(tmp_path).start()
    with httpx.Client(base_url=server.base, timeout=30) as http:
        ops = token(http, *carrier)

    def body():
        yield b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n"
        data = big.read_bytes()
        yield data[:kill_after_bytes]
        server.kill()  # the process dies with the body half sent
        yield data[kill_after_bytes:]

    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{server.base}/v1/uploads", content=body(), timeout=30,
                   headers={**ops, "content-type": "multipart/form-data; boundary=BOUNDARY"})
    server.stop()
    with ServerProcess(tmp_path) as restarted:
        httpx.get(f"{restarted.base}/.well-known/openid-configuration")
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 0


def test_interrupted_upload_files_are_swept_when_stale(tmp_path):
    """A .part file left by an upload whose process died is removed by the job worker once stale;
    one still being written (recently touched) is left alone."""
    uploads = tmp_path / "data" / "uploads"
    uploads.mkdir(parents=True)
    stale, live = uploads / "dead.part", uploads / "arriving.part"
    stale.write_bytes(b"shipment_id,mode\n")
    live.write_bytes(b"shipment_id,mode\n")
    two_hours_ago = time.time() - 2 * 3600  # STALE_PART_SECONDS is one hour
    os.utime(stale, (two_hours_ago, two_hours_ago))
    with ServerProcess(tmp_path) as server:
        httpx.get(f"{server.base}/.well-known/openid-configuration")
        deadline = time.monotonic() + 10
        while stale.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not stale.exists() and live.exists()


def test_tls_only_listener(tmp_path):
    """PACT needs HTTPS; with uvicorn's TLS options the service speaks only HTTPS on its port, so a
    plain-HTTP request fails (conformance TC9-11, TC17)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    shipper = admin(tmp_path, "add-client", "Shipper Co", "--client-id", "shipper")
    with ServerProcess(tmp_path, tls=(cert, key)) as server, httpx.Client(base_url=server.base, verify=trust(cert)) as http:
        assert http.get("/.well-known/openid-configuration").json()["token_endpoint"].startswith("https://")
        headers = token(http, "shipper", shipper["client_secret"])
        listing = http.get("/2/footprints?limit=1", headers=headers)
        assert listing.status_code == 200
        plain = server.base.replace("https://", "http://")
        try:
            answer = httpx.post(f"{plain}/auth/token", data={"grant_type": "client_credentials"},
                                auth=("shipper", shipper["client_secret"]), timeout=5)
        except httpx.HTTPError:
            answer = None
        assert answer is None or "access_token" not in answer.text


# ------------------------------------------------------------------------------------------------
# Slow clients, oversized heads, uploads that do not arrive whole (raw sockets on loopback)


def _open(server: ServerProcess, data: bytes = b"") -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    if data:
        conn.sendall(data)
    return conn


def _answer(conn: socket.socket, deadline: float | None = None) -> bytes:
    """What the server sends until it closes the connection (until ``deadline``, a monotonic time;
    else at most 10 s)."""
    received = b""
    if deadline is not None:
        conn.settimeout(max(0.05, deadline - time.monotonic()))
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    conn.close()
    return received


def test_slow_connections_are_closed_and_others_still_served(tmp_path):
    """Connections that send nothing, or a request head that never ends, are answered 408 and
    closed after the header timeout (here 1 s) instead of being held; a head larger than the
    limit is 431 at once; meanwhile ordinary requests are served."""
    env = {"LOGISTICS_HEADER_TIMEOUT_SECONDS": "1", "LOGISTICS_MAX_HEADER_BYTES": "4096"}
    with ServerProcess(tmp_path, **env) as server:
        started = time.monotonic()
        idle = [_open(server) for _ in range(40)]
        trickling = [_open(server, b"GET /2/footprints HTTP/1.1\r\nHost: x\r\nX-Slow: ") for _ in range(40)]
        assert httpx.get(f"{server.base}/.well-known/openid-configuration", timeout=5).status_code == 200
        deadline = started + 6  # held for about the timeout, not indefinitely
        answers = [_answer(c, deadline) for c in idle + trickling]
        assert all(a.startswith(b"HTTP/1.1 408 ") and b"within 1 s" in a for a in answers), answers[:2]
        huge = _answer(_open(server, b"GET /2/footprints HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"))
        assert huge.startswith(b"HTTP/1.1 431 ")
        # a kept-alive connection gets the same deadline for its next request
        kept = _open(server, b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n")
        first = kept.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        assert b"HTTP/1.1 408 " in _answer(kept)


def _multipart(csv: bytes, closing: bool) -> bytes:
    head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="legs.csv"\r\nContent-Type: text/csv\r\n\r\n'
    return head + csv + (b"\r\n--B--\r\n" if closing else b"")


def test_an_upload_without_its_closing_boundary_or_shorter_than_declared_starts_no_job(tmp_path):
    settings = settings_for(tmp_path)
    carrier = register(settings, "Carrier", "operator", client_id="carrier")
    legs = DEMO_LEGS.read_bytes()
    half = legs[:len(legs) // 2]
    with ServerProcess(tmp_path) as server:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            auth = token(http, *carrier)["Authorization"].encode()

        def post(body: bytes, declared: int | None = None, close_write: bool = False) -> bytes:
            head = (b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth
                    + b"\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: "
                    + str(len(body) if declared is None else declared).encode() + b"\r\nConnection: close\r\n\r\n")
            conn = _open(server, head + body)
            if close_write:
                conn.shutdown(socket.SHUT_WR)
            return _answer(conn)

        cut = post(_multipart(half, closing=False))  # a proxy cut it and fixed Content-Length to match
        assert cut.startswith(b"HTTP/1.1 400 ") and b"without its closing boundary" in cut
        short = post(_multipart(legs, closing=True), declared=len(_multipart(legs, closing=True)) + 1000,
                     close_write=True)  # the client stops sending: no answer can be sent, none needed
        assert short == b"" or not short.startswith(b"HTTP/1.1 2")
        whole = post(_multipart(legs, closing=True))
        assert whole.startswith(b"HTTP/1.1 202 ")
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1  # the whole one only
    assert sorted(p.suffix for p in (tmp_path / "data" / "uploads").iterdir()) == [".csv"]  # no partial kept


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRES_URL, reason="LOGISTICS_TEST_POSTGRES_URL not set (CI starts one with .ci/postgres.sh)")
def test_two_workers_on_postgresql_one_killed_mid_job_nothing_lost_or_done_twice(tmp_path):
    """Two service processes (each with its job worker) on one PostgreSQL database and data
    directory. The one running the large job is killed with SIGKILL: the other takes the job over
    when its lease runs out and finishes it; every job is done once and every footprint stored once."""
    reset_postgres(POSTGRES_URL)
    settings = settings_for(tmp_path, database_url=POSTGRES_URL)
    carrier = register(settings, "Carrier", "operator", client_id="carrier")
    register(settings, "Shipper", client_id="shipper")
    big = tmp_path / "big.csv"
    _big_file(big, 8_000)
    env = {"LOGISTICS_DATABASE_URL": POSTGRES_URL, "LOGISTICS_JOB_LEASE_SECONDS": "2"}
    servers = [ServerProcess(tmp_path, **env).start(), ServerProcess(tmp_path, **env).start()]
    store = Store(POSTGRES_URL)
    try:
        with httpx.Client(base_url=servers[0].base, timeout=60) as http:
            ops = token(http, *carrier)
            job = upload(http, ops, big, share_with="shipper", key="big").json()
            small = [upload(http, ops, DEMO_LEGS, share_with="shipper", key=f"demo-{n}").json() for n in range(3)]
        running = wait_for(lambda: (j := store.job(job["id"]))["status"] == "running" and j, 60, 0.05)
        time.sleep(0.5)  # into the run: computing and exporting 8,000 shipments takes seconds
        victim = next(s for s in servers if running["worker"].endswith(f":{s.proc.pid}"))
        victim.kill()
        survivor = next(s for s in servers if s is not victim)
        ids = [job["id"], *(s["id"] for s in small)]
        wait_for(lambda: all(store.job(i)["status"] in ("done", "failed") for i in ids), 3 * JOB_SECONDS, 0.5)
        big_job = store.job(job["id"])
        assert big_job["attempts"] == 2 and big_job["worker"].endswith(f":{survivor.proc.pid}")
        jobs = [big_job, *(store.job(s["id"]) for s in small)]
        assert [j["status"] for j in jobs] == ["done"] * 4
        # every stored document was counted as new by exactly one job: none stored twice, none lost
        assert sum(j["report"]["footprints_new"] for j in jobs) == store.count_documents()
        with store.tx() as tx:
            def count(pattern: str) -> int:
                return tx.one("SELECT COUNT(*) FROM documents WHERE family IN ('pact2', 'pact3') AND product_key LIKE ?",
                              (pattern,))[0]

            # 8,000 large-file shipments and the demo file's 4 (uploaded three times), v2 and v3
            assert (count("shipment:K%"), count("shipment:DEMO-%")) == (2 * 8_000, 2 * 4)
    finally:
        store.close()
        for server in servers:
            server.stop()
