"""Latency and throughput of the CDS Hooks patient-view service under concurrent calls, on loopback.

Starts the service with uvicorn in a separate process on 127.0.0.1 (the
CDS Hooks router plus a trivial ``GET /bench/ping`` in the same
application), then fires concurrent requests from an asyncio httpx client:
first at the trivial endpoint (the baseline of HTTP + framework), then
patient-view calls with the prefetch supplied (the seed patient without its
KIT result, so that the evaluation runs fully and two cards come back), each
with its own ES384-signed JWT (made before timing). Prints p50 / p99 latency
and throughput of both, and their ratios. Target (issue 5): patient-view
p99 <= 50 ms at 100 concurrent requests on 2 cores. The client shares the
machine's cores with the server, as it would in no real deployment.

    .venv/bin/python bench/cds_hooks.py [--requests 3000] [--concurrency 100] [--workers 1] [--no-jwt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://bench-ehr.example.org/"


def create_app() -> Any:
    """The application under test (uvicorn factory): the CDS Hooks router and a trivial endpoint."""
    from fastapi import FastAPI

    from mastcds.web.cds_hooks import cds_hooks_router

    app = FastAPI()
    app.include_router(cds_hooks_router())

    @app.get("/bench/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def _request_body() -> dict[str, Any]:
    from mastcds.case import load_case
    from mastcds.fhir import codes
    from mastcds.fhir.from_case import bundle_from_case

    seed = json.loads((ROOT / "examples" / "seed-case.json").read_text())
    bundle = bundle_from_case(load_case(seed))
    patient, observations, conditions = None, [], []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "Patient":
            patient = resource
        elif kind == "Observation" and resource["code"]["coding"][0]["code"] != codes.VARIANT_ASSESSMENT.code:
            observations.append(resource)
        elif kind == "Condition":
            conditions.append(resource)
    # as an EHR would send them: relative references to the patient and the episodes
    relative = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    for resource in observations + conditions:
        resource["subject"] = {"reference": relative[resource["subject"]["reference"]]}
        for focus in resource.get("focus", []):
            focus["reference"] = relative[focus["reference"]]
    searchset = lambda items: {"resourceType": "Bundle", "type": "searchset",  # noqa: E731
                               "entry": [{"resource": r} for r in items]}
    return {
        "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": patient["id"]},
        "prefetch": {"patient": patient, "observations": searchset(observations), "conditions": searchset(conditions)},
    }


def _make_tokens(key: Any, base: str, path: str, count: int) -> list[str]:
    import jwt

    now = int(time.time())
    return [jwt.encode({"iss": ISSUER, "aud": base + path, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())},
                       key, algorithm="ES384", headers={"kid": "bench", "typ": "JWT"}) for _ in range(count)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _run(url: str, count: int, concurrency: int, body: dict[str, Any] | None,
               tokens: list[str] | None) -> tuple[list[float], float, int]:
    import httpx

    latencies: list[float] = []
    failures = 0
    queue = iter(range(count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def worker() -> None:
            nonlocal failures
            for i in queue:
                headers = {"Authorization": f"Bearer {tokens[i]}"} if tokens else {}
                start = time.perf_counter()
                try:
                    if body is None:
                        response = await client.get(url, headers=headers)
                    else:
                        response = await client.post(url, json=body, headers=headers)
                except httpx.HTTPError:  # e.g. a connection reset when the server's backlog overflows
                    failures += 1
                    continue
                latencies.append(time.perf_counter() - start)
                failures += response.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed, failures


async def _cpu_per_call(base: str, path: str, body: dict[str, Any] | None, tokens: list[str] | None, n: int) -> float:
    """Process CPU milliseconds per call through the ASGI app in this process, one call at a time.

    CPU time, unlike wall time, barely moves when other programs share the
    cores, so this is the figure to compare across runs on a busy machine.
    ``tokens`` holds ``n + 50`` JWTs (50 for the warm-up).
    """
    import httpx

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        async def call(i: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[i]}"} if tokens else {}
            response = await (client.get(path, headers=headers) if body is None else client.post(path, json=body, headers=headers))
            assert response.status_code == 200, response.text

        for i in range(50):  # warm-up, with tokens of its own (each jti is accepted once)
            await call(n + i)
        start = time.process_time()
        for i in range(n):
            await call(i)
        return (time.process_time() - start) / n * 1000


def _report(name: str, latencies: list[float], elapsed: float, failures: int) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    rate = len(latencies) / elapsed
    print(f"{name:<28} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   {rate:8.0f} req/s   failures {failures}")
    return p50, p99, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--no-jwt", action="store_true", help="sandbox mode: no client authentication")
    args = parser.parse_args()

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())), "kid": "bench", "alg": "ES384"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "MASTCDS_CDS_PUBLIC_URL": base, "MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: {"keys": [jwk]}}),
           "MASTCDS_CDS_SANDBOX": "1" if args.no_jwt else "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "cds_hooks:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
         "--no-access-log", "--log-level", "warning"], env=env)
    try:
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"{base}/bench/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        body = _request_body()
        path = "/cds-services/mastcds-patient-view"
        total = args.requests + 201
        tokens = None if args.no_jwt else _make_tokens(key, base, path, total)
        check = httpx.post(base + path, json=body, headers={"Authorization": f"Bearer {tokens[-1]}"} if tokens else {})
        cards = [c["summary"] for c in check.json()["cards"]]
        print(f"CDS Hooks patient-view on loopback: {args.requests} requests, concurrency {args.concurrency}, "
              f"{args.workers} uvicorn worker(s), {os.cpu_count()} CPUs, JWT {'off' if args.no_jwt else 'ES384'}; "
              f"cards per call: {len(cards)}")
        asyncio.run(_run(f"{base}/bench/ping", 200, min(args.concurrency, 50), None, None))  # warm-up
        asyncio.run(_run(base + path, 200, min(args.concurrency, 50), body, tokens[args.requests:args.requests + 200] if tokens else None))
        ping = _report("trivial GET /bench/ping", *asyncio.run(
            _run(f"{base}/bench/ping", args.requests, args.concurrency, None, None)))
        view = _report("patient-view (prefetch)", *asyncio.run(
            _run(base + path, args.requests, args.concurrency, body, tokens[:args.requests] if tokens else None)))
        print(f"ratio patient-view / trivial: p50 x{view[0] / ping[0]:.1f}, p99 x{view[1] / ping[1]:.1f}, "
              f"throughput x{view[2] / ping[2]:.2f}")
        print(f"target p99 <= 50 ms at concurrency 100: {'met' if view[1] <= 50 else 'NOT met'}")
        os.environ.update({k: v for k, v in env.items() if k.startswith("MASTCDS_CDS_")})
        cpu_view = asyncio.run(_cpu_per_call(base, path, body, _make_tokens(key, base, path, 1050) if tokens else None, 1000))
        cpu_ping = asyncio.run(_cpu_per_call(base, "/bench/ping", None, None, 1000))
        print(f"in-process CPU per call (ASGI, no network): patient-view {cpu_view:.2f} ms, trivial {cpu_ping:.2f} ms; "
              f"so {os.cpu_count()} idle cores serve at most ~{(os.cpu_count() or 1) * 1000 / cpu_view:.0f} patient-view calls/s")
        uptime = os.getloadavg()
        print(f"load average during the run: {uptime[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
