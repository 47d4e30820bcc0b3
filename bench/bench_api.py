"""Bounded load on the HTTP service, on 127.0.0.1 only: requests/s and p50/p99 latency.

    python bench/bench_api.py [--seconds 10] [--concurrency 32] [--shipments 2000]

Starts one uvicorn worker (``logistics_api.app:create_app``) on a temporary SQLite database, registers a
client, uploads ``--shipments`` two-leg shipments so that ``/2/footprints`` has pages, then for
each scenario runs ``--concurrency`` client tasks for ``--seconds`` (after a 2 s warm-up):

- ``POST /v1/emissions/shipments``: a 3-leg shipment (road, hub, road; distances given);
- ``GET /2/footprints?limit=50``: the first page of a listing;
- ``GET /2/footprints?limit=50&after=..&until=..``: a later page (the Link header's URL).

The load generator runs on the same 2 cores as the server, so the figures are a lower bound. First,
without HTTP, the time of one calculation round (1 request, and ``--concurrency`` requests) on the
small path (``logistics.small``) and on the engine's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from logistics_api.admin import add_client  # noqa: E402
from logistics_api.storage import Store  # noqa: E402

MAX_REQUESTS = 500_000  # hard bound per scenario, whatever the duration
SHIPMENT = {
    "shipment_id": "BENCH-1", "mass_kg": 12000,
    "legs": [
        {"mode": "road", "origin": "DEHAM", "destination": "DEDUS", "distance_km": 410, "vehicle": "artic_40t",
         "energy_carrier": "diesel", "region": "EU"},
        {"mode": "hub", "hub_type": "transshipment"},
        {"mode": "road", "origin": "DEDUS", "destination": "FRPAR", "distance_km": 510, "vehicle": "rigid_12-20t",
         "energy_carrier": "diesel", "region": "EU"},
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares the 2 cores with the server,
    so it must cost far less per request than a full client library."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def raw_request(method: str, path: str, headers: dict, body: dict | None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def load(port: int, raw: bytes, seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    failures = 0

    async def worker(until: float, record: bool) -> None:
        nonlocal failures
        connection = Connection("127.0.0.1", port)
        await connection.open()
        try:
            while time.perf_counter() < until and len(latencies) < MAX_REQUESTS:
                started = time.perf_counter()
                status = await connection.request(raw)
                if record:
                    latencies.append(time.perf_counter() - started)
                    failures += status != 200
        finally:
            connection.close()

    warm = time.perf_counter() + 2
    await asyncio.gather(*(worker(warm, False) for _ in range(concurrency)))
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds, True) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "failed": failures, "rps": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}


def round_in_process(requests: int, calls: int = 100) -> tuple[float, float]:
    """ms of one coalesced calculation round of ``requests`` 3-leg shipments, without HTTP, on the
    small path (descriptors seen before) and on the engine's path: what the service pays per round
    whatever the transport."""
    import logistics
    from logistics_api.calc import Calculator, _Pending

    calculator = Calculator("glec-v3.0")
    batch = [_Pending([logistics.Shipment.model_validate(SHIPMENT)], frames=False) for _ in range(requests)]
    calculator._compute_round(batch)  # the small path learns the descriptors
    assert len(calculator._small_round(batch, learn=False)) == requests, "the small path did not take the shipment"
    timings = []
    for run in (lambda: calculator._small_round(batch, learn=False),
                lambda: calculator._engine_round([p.shipments for p in batch])):
        for _ in range(5):
            run()
        started = time.perf_counter()
        for _ in range(calls):
            run()
        timings.append((time.perf_counter() - started) / calls * 1000)
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--shipments", type=int, default=2000)
    args = parser.parse_args()
    for requests in (1, args.concurrency):
        small, engine = round_in_process(requests)
        print(f"in process: one calculation round of {requests} 3-leg shipment request(s): "
              f"small path {small:.2f} ms, engine {engine:.1f} ms")

    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    db = f"sqlite:///{tmp / 'db.sqlite'}"
    store = Store(db)
    store.migrate()
    operator = add_client(store, "bench operator", "operator", client_id="bench-ops")
    reader = add_client(store, "bench reader", "recipient", client_id="bench-reader")
    store.close()
    legs = tmp / "legs.csv"
    n = args.shipments * 2
    pl.DataFrame({"shipment_id": [f"B{i // 2:06d}" for i in range(n)], "mode": "road", "mass_kg": 1000.0,
                  "distance_km": [100.0 + i % 50 for i in range(n)], "vehicle": "artic_40t",
                  "energy_carrier": "diesel", "region": "EU"}).write_csv(legs)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOGISTICS_DATABASE_URL": db, "LOGISTICS_DATA_DIR": str(tmp / "data"),
           "LOGISTICS_TOKEN_KEY": "bench-" + "k" * 40,
           "LOGISTICS_EXCHANGE_CONFIG": str(REPO / "api" / "demo" / "exchange.toml")}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "logistics_api.app:create_app", "--factory", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning", "--no-access-log"],
                              cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start") from None
                time.sleep(0.2)

        def token(client: tuple[str, str]) -> dict:
            answer = httpx.post(f"{base}/auth/token", data={"grant_type": "client_credentials"}, auth=client)
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        ops, shipper = token(operator), token(reader)
        with open(legs, "rb") as f:
            job = httpx.post(f"{base}/v1/uploads", headers=ops, files={"file": ("legs.csv", f)},
                             data={"share_with": "bench-reader"}, timeout=60).json()
        deadline = time.monotonic() + 300
        while httpx.get(f"{base}/v1/jobs/{job['id']}", headers=ops).json()["status"] not in ("done", "failed"):
            if time.monotonic() > deadline:
                raise SystemExit("upload job did not finish")
            time.sleep(0.5)
        first = httpx.get(f"{base}/2/footprints?limit=50", headers=shipper)
        next_url = re.match(r"<([^>]+)>", first.headers["link"]).group(1).replace(base, "")
        listed = len(first.json()["data"])

        print(f"one uvicorn worker, {os.cpu_count()} cores shared with the load generator; "
              f"{args.concurrency} connections, {args.seconds:.0f} s per scenario after 2 s warm-up; "
              f"{args.shipments} shipments uploaded ({listed} footprints per page)")
        scenarios = [
            ("POST /v1/emissions/shipments (3 legs)", "POST", "/v1/emissions/shipments", ops, SHIPMENT),
            ("GET /2/footprints?limit=50 (first page)", "GET", "/2/footprints?limit=50", shipper, None),
            ("GET /2/footprints (a later page, Link)", "GET", next_url, shipper, None),
        ]
        print(f"{'scenario':44} {'requests':>9} {'failed':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for name, method, url, headers, body in scenarios:
            r = asyncio.run(load(port, raw_request(method, url, headers, body), args.seconds, args.concurrency))
            print(f"{name:44} {r['requests']:9d} {r['failed']:7d} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}")
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()
