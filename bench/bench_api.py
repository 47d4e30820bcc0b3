"""Bounded load on the HTTP service, on 127.0.0.1 only: requests/s and p50/p99 latency.

    python bench/bench_api.py [--seconds 10] [--concurrency 32] [--shipments 2000]

Starts the service (``python -m logistics_api``, one worker) on a temporary SQLite database, registers a
client, uploads ``--shipments`` two-leg shipments so that ``/2/footprints`` has pages, then runs
each scenario for ``--seconds`` after a 2 s warm-up:

- paced, as independent clients send: requests at a fixed rate whatever the answers' pace, each
  latency counted from when the request was due: ``POST /v1/emissions/shipments`` with a 3-leg
  shipment (road, hub, road; distances given) at ``--rate``, and 10,000 distinct shipments in turn
  at ``--distinct-rate``: 1–6 legs of mixed modes and descriptors, every other one with UN/LOCODEs
  among 300 ports with airports instead of distances, so that keys and places are new to the
  server's caches;
- as fast as ``--concurrency`` connections go, each sending its next request when the last is
  answered (latency is then about connections / throughput): the 3-leg shipment, the first page of
  ``GET /2/footprints?limit=50``, a later page (the Link header's URL), the distinct shipments.

The load generator runs on the same 2 cores as the server, so the figures are a lower bound. First,
without HTTP, the time of one calculation round (1 request, and ``--concurrency`` requests): what
the service pays per round whatever the transport.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import KINDS  # noqa: E402

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


def distinct_shipments(n: int, seed: int = 11) -> list[dict]:
    """``n`` shipments of 1–6 legs (KINDS of ``synthetic``, temperatures, masses and
    distances varied); every other shipment names its places by UN/LOCODE (300 codes that are both
    ports and airports; road, rail and waterway legs within one country) instead of distances."""
    rng = random.Random(seed)
    codes = (pl.read_parquet(REPO / "logistics" / "data" / "unlocode.parquet")
             .filter(pl.col("function").str.slice(0, 1) == "1", pl.col("function").str.slice(3, 1) == "4",
                     pl.col("lat").is_not_null(), pl.col("coord_problem").is_null())
             .sort("locode").sample(300, seed=seed).select("locode", "country"))
    everywhere = codes["locode"].to_list()
    by_country = {c: g["locode"].to_list() for (c,), g in codes.group_by("country") if g.height > 1}
    countries = sorted(by_country)
    shipments = []
    for i in range(n):
        legs = []
        for _ in range(rng.randint(1, 6)):
            mode, vehicle, carrier, region, load_type, temperature, hub = rng.choice(KINDS)
            leg = {"mode": mode, "vehicle": vehicle, "energy_carrier": carrier, "load_type": load_type, "hub_type": hub,
                   "region": region,
                   "temperature_control": rng.choice([temperature, "refrigerated"]) if mode == "road" else temperature}
            if mode != "hub":
                if i % 2:
                    pool = everywhere if mode in ("sea", "air") else by_country[rng.choice(countries)]
                    leg["origin"], leg["destination"] = rng.sample(pool, 2)
                else:
                    leg["distance_km"] = round(rng.uniform(5, 5_000), 1)
            legs.append({k: v for k, v in leg.items() if v is not None})
        shipments.append({"shipment_id": f"D{i}", "mass_kg": round(rng.uniform(100, 30_000), 1), "legs": legs})
    return shipments


async def load(port: int, raws: list[bytes], seconds: float, concurrency: int) -> dict:
    """``concurrency`` keep-alive connections sending ``raws`` in turn for ``seconds``."""
    latencies: list[float] = []
    failures = 0
    sent = 0

    async def worker(until: float, record: bool) -> None:
        nonlocal failures, sent
        connection = Connection("127.0.0.1", port)
        await connection.open()
        try:
            while time.perf_counter() < until and len(latencies) < MAX_REQUESTS:
                raw = raws[sent % len(raws)]
                sent += 1
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


async def paced(port: int, raws: list[bytes], rate: float, seconds: float, connections: int = 64) -> dict:
    """``raws`` in turn at a fixed ``rate`` (requests/s) for ``seconds``, whatever the answers'
    pace (an open loop, as independent clients send), over up to ``connections`` keep-alive
    connections. A request's latency counts from when it was due, so a server falling behind shows
    in it rather than in fewer requests sent."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        connection = Connection("127.0.0.1", port)
        await connection.open()
        idle.put_nowait(connection)
    latencies: list[float] = []
    failures = 0

    async def one(raw: bytes, due: float, record: bool) -> None:
        nonlocal failures
        connection = await idle.get()
        status = await connection.request(raw)
        idle.put_nowait(connection)
        if record:
            latencies.append(time.perf_counter() - due)
            failures += status != 200

    async def run(start: int, count: int, record: bool) -> float:
        began, tasks = time.perf_counter(), []
        for i in range(count):
            due = began + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(raws[(start + i) % len(raws)], due, record)))
        await asyncio.gather(*tasks)
        return time.perf_counter() - began

    warm = int(rate * 2)
    await run(0, warm, False)
    elapsed = await run(warm, min(int(rate * seconds), MAX_REQUESTS), True)
    while not idle.empty():
        idle.get_nowait().close()
    return {"requests": len(latencies), "failed": failures, "rps": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}


def round_in_process(requests: int, calls: int = 100) -> float:
    """ms of one coalesced calculation round of ``requests`` 3-leg shipments, without HTTP (keys and
    places already resolved): what the service pays per round whatever the transport."""
    import logistics
    from logistics_api.calc import Calculator, _Pending

    calculator = Calculator("glec-v3.0")
    batch = [_Pending([logistics.Shipment.model_validate(SHIPMENT)], frames=False) for _ in range(requests)]
    for _ in range(5):
        calculator._compute_round(batch)
    started = time.perf_counter()
    for _ in range(calls):
        calculator._compute_round(batch)
    return (time.perf_counter() - started) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--distinct", type=int, default=10_000, help="shipments of the distinct scenario")
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s of the paced 3-leg scenario")
    parser.add_argument("--distinct-rate", type=float, default=300.0, help="requests/s of the paced distinct scenario")
    args = parser.parse_args()
    for requests in (1, args.concurrency):
        print(f"in process: one calculation round of {requests} 3-leg shipment request(s): {round_in_process(requests):.2f} ms")

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
    server = subprocess.Popen([sys.executable, "-m", "logistics_api", "--host", "127.0.0.1", "--port", str(port),
                               "--log-level", "warning"], cwd=REPO, env=env)
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

        print(f"one worker, {os.cpu_count()} cores shared with the load generator; {args.seconds:.0f} s per scenario after "
              f"2 s warm-up; {args.shipments} shipments uploaded ({listed} footprints per page)")
        print(f"{'scenario':52} {'requests':>9} {'failed':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")

        def row(name: str, r: dict) -> None:
            print(f"{name:52} {r['requests']:9d} {r['failed']:7d} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}")

        three = [raw_request("POST", "/v1/emissions/shipments", ops, SHIPMENT)]
        distinct = [raw_request("POST", "/v1/emissions/shipments", ops, body) for body in distinct_shipments(args.distinct)]
        # at a fixed rate first, so that the distinct shipments are new to the server's caches
        row(f"POST 3 legs, at {args.rate:.0f}/s", asyncio.run(paced(port, three, args.rate, args.seconds)))
        row(f"POST {args.distinct:,} distinct, at {args.distinct_rate:.0f}/s",
            asyncio.run(paced(port, distinct, args.distinct_rate, args.seconds)))
        closed = [
            ("POST 3 legs", three),
            ("GET /2/footprints?limit=50 (first page)", [raw_request("GET", "/2/footprints?limit=50", shipper, None)]),
            ("GET /2/footprints (a later page, Link)", [raw_request("GET", next_url, shipper, None)]),
            (f"POST {args.distinct:,} distinct", distinct[::-1]),  # the end of the list: not sent above
        ]
        for name, raws in closed:
            row(f"{name}, {args.concurrency} connections at once", asyncio.run(load(port, raws, args.seconds, args.concurrency)))
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()
