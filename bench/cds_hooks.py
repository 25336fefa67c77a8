"""Latency and throughput of the CDS Hooks patient-view service under concurrent calls, on loopback.

Starts the service with uvicorn in a separate process on 127.0.0.1 (the
CDS Hooks router plus a trivial ``GET /bench/ping`` in the same
application), then loads it with ``wrk`` (C, epoll; one thread by default, so
that the load generator takes little of the cores the server needs): first the
trivial endpoint (the baseline of HTTP + framework), then patient-view calls
with the prefetch supplied (the seed patient without its KIT result, so that
the evaluation runs fully and two cards come back). Each patient-view call
carries its own ES384-signed JWT with a unique ``jti`` (the service refuses a
replayed one): the tokens are made before timing, written one per line to a
file, and a Lua script gives every request the next one (each wrk thread its
own share). wrk runs for ``--duration`` seconds per endpoint (after a warm-up
of ``--warmup`` seconds); a run that used up its tokens, or got any non-200
answer, is reported as such. Without ``wrk`` on PATH (Debian: ``apt-get
install wrk``), or with ``--client httpx``, the old asyncio httpx client fires
``--requests`` requests instead; it competes with the server for the same cores
and measures mostly itself (about 130 trivial requests/s on 2 cores).

Prints p50 / p99 latency and throughput of both, and their ratios. Target
(issue 5): patient-view p99 <= 50 ms at 100 concurrent requests on 2 cores.
The load generator shares the machine's cores with the server, as it would in
no real deployment. With 100 connections each waiting for its answer, the
mean latency is 100 / throughput (Little's law), so p99 <= 50 ms needs well
over 2000 calls/s; the in-process CPU per call printed last bounds what the
cores can serve.

    .venv/bin/python bench/cds_hooks.py [--requests 3000] [--concurrency 100] [--workers 1] [--no-jwt]
                                        [--duration 10] [--warmup 2] [--wrk-threads 1] [--client auto|wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
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
    searchset = lambda items: {"resourceType": "Bundle", "type": "searchset",
                               "entry": [{"resource": r} for r in items]}
    return {
        "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": patient["id"]},
        "prefetch": {"patient": patient, "observations": searchset(observations), "conditions": searchset(conditions)},
    }


def _make_tokens(key: Any, alg: str, base: str, path: str, count: int) -> list[str]:
    import jwt

    now = int(time.time())
    return [jwt.encode({"iss": ISSUER, "aud": base + path, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())},
                       key, algorithm=alg, headers={"kid": f"bench-{alg.lower()}", "typ": "JWT"}) for _ in range(count)]


def _signing_keys(algorithms: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A private key per JWT algorithm, and the public JWK Set the service is configured with."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    keys, jwks = {}, []
    for alg in algorithms:
        if alg == "ES384":
            keys[alg] = ec.generate_private_key(ec.SECP384R1())
            public = jwt.algorithms.ECAlgorithm.to_jwk(keys[alg].public_key())
        elif alg == "RS384":
            keys[alg] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = jwt.algorithms.RSAAlgorithm.to_jwk(keys[alg].public_key())
        else:
            raise SystemExit(f"--algs: {alg!r} is not one of ES384, RS384 (the two CDS Hooks 2.0 recommends)")
        jwks.append({**json.loads(public), "kid": f"bench-{alg.lower()}", "alg": alg})
    return keys, jwks


def serve_worker(port: int, loop: str) -> None:
    """One server process listening on its own SO_REUSEPORT socket.

    uvicorn's ``--workers`` share one listening socket, and whichever worker
    wakes first accepts a burst of connections: here one of two workers got 93
    of wrk's 100, so one core queued almost everything while the other idled.
    With a socket per worker the kernel spreads new connections over the
    sockets by hash, as a production front end (or ``SO_REUSEPORT``) would.
    """
    import uvicorn

    from mastcds.web.runtime import tune_gc_for_serving

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(create_app(), access_log=False, log_level="warning", backlog=2048, loop=loop)
    config.load()
    tune_gc_for_serving()  # as `mastcds serve` does
    uvicorn.Server(config).run(sockets=[sock])


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


# wrk's Lua script. Arguments after "--": method, tokens file ("-" for none), body file ("-" for none), threads.
# Each thread keeps every n-th token of the file (n = threads), so no jti is sent twice.
WRK_SCRIPT = r"""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  method = args[1]
  local tokens_path, body_path, nthreads = args[2], args[3], tonumber(args[4])
  tokens = {}
  if tokens_path ~= "-" then
    local i = 0
    for line in io.lines(tokens_path) do
      if i % nthreads == id then tokens[#tokens + 1] = line end
      i = i + 1
    end
  end
  use_tokens = tokens_path ~= "-"
  body = nil
  headers = {}
  if body_path ~= "-" then
    local f = assert(io.open(body_path, "rb"))
    body = f:read("*a")
    f:close()
    headers["Content-Type"] = "application/json"
  end
  next_token = 1
  exhausted = 0
end

function request()
  if use_tokens then
    local token = tokens[next_token]
    if token == nil then
      exhausted = 1
      wrk.thread:stop()
      token = "exhausted"
    end
    next_token = next_token + 1
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  local exhausted, used = 0, 0
  for _, thread in ipairs(threads) do
    exhausted = exhausted + thread:get("exhausted")
    used = used + thread:get("next_token") - 1
  end
  local e = summary.errors
  io.write(string.format(
    "WRK-RESULT {\"requests\": %d, \"duration_us\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, " ..
    "\"status\": %d, \"timeout\": %d, \"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d, " ..
    "\"mean_us\": %.1f, \"exhausted_threads\": %d, \"tokens_taken\": %d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency.max, latency.mean,
    exhausted, used))
end
"""


def _run_wrk(url: str, seconds: float, concurrency: int, threads: int, workdir: Path, body: dict[str, Any] | None,
             tokens: list[str] | None, tag: str, during: Any = None) -> dict[str, Any]:
    """One wrk run against ``url``: its summary (latencies in microseconds), from the script's ``done``.

    ``during``: called once half-way through the run (wrk's connections are open then); its result is
    kept under ``"during"``.
    """
    script = workdir / "cds_hooks.lua"
    script.write_text(WRK_SCRIPT)
    tokens_path = body_path = "-"
    if tokens is not None:
        tokens_path = str(workdir / f"tokens-{tag}.txt")
        Path(tokens_path).write_text("\n".join(tokens) + "\n")
    if body is not None:
        body_path = str(workdir / "body.json")
        Path(body_path).write_text(json.dumps(body))
    command = ["wrk", "--threads", str(threads), "--connections", str(concurrency), "--duration", f"{max(1, round(seconds))}s",
               "--timeout", "30s", "--latency", "--script", str(script), url,
               "--", "GET" if body is None else "POST", tokens_path, body_path, str(threads)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as wrk:
        sampled = None
        if during is not None:
            time.sleep(max(1, round(seconds)) / 2)
            sampled = during()
        stdout, stderr = wrk.communicate(timeout=seconds + 120)
    lines = [line for line in stdout.splitlines() if line.startswith("WRK-RESULT ")]
    if wrk.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({wrk.returncode}):\n{stdout}\n{stderr}")
    result = json.loads(lines[-1][len("WRK-RESULT "):])
    result["output"] = stdout
    result["during"] = sampled
    return result


def _report_wrk(name: str, result: dict[str, Any], tokens_given: int | None) -> tuple[float, float, float]:
    p50, p99 = result["p50_us"] / 1000, result["p99_us"] / 1000
    rate = result["requests"] / (result["duration_us"] / 1e6)
    failures = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    print(f"{name:<28} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   {rate:8.0f} req/s   failures {failures}   "
          f"({result['requests']} requests in {result['duration_us'] / 1e6:.1f} s; p90 {result['p90_us'] / 1000:.2f} ms, "
          f"max {result['max_us'] / 1000:.2f} ms)")
    if failures:
        print(f"  failures: connect {result['connect']}, read {result['read']}, write {result['write']}, "
              f"HTTP status >= 400 {result['status']}, timeout {result['timeout']}")
    if result["exhausted_threads"]:
        print(f"  WARNING: wrk ran out of JWTs ({tokens_given} made); the run was cut short and its figures are not valid:"
              f" raise the token budget")
    return p50, p99, rate


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


def _start_server(args: argparse.Namespace, port: int, env: dict[str, str]) -> list[subprocess.Popen]:
    if args.sockets == "reuseport":
        return [subprocess.Popen([sys.executable, __file__, "--serve-worker", str(port), "--loop", args.loop], env=env)
                for _ in range(args.workers)]
    return [subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "cds_hooks:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
         "--loop", args.loop, "--no-access-log", "--log-level", "warning"], env=env)]


def _connections_per_worker(port: int) -> str:
    """How the open connections are spread over the worker processes (from ``ss``), e.g. "52/48"."""
    if shutil.which("ss") is None:
        return "?"
    listing = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, check=False).stdout
    counts: dict[str, int] = {}
    for line in listing.splitlines():
        for pid in set(re.findall(r"pid=(\d+)", line)):
            counts[pid] = counts.get(pid, 0) + 1
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True)) or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000,
                        help="requests per endpoint with the httpx client (wrk runs for --duration instead)")
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent connections (requests in flight)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server worker processes (default: one per CPU)")
    parser.add_argument("--sockets", choices=("reuseport", "shared"), default="reuseport",
                        help="reuseport: each worker its own SO_REUSEPORT socket (default); shared: uvicorn --workers")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="event loop of the server (auto: uvloop when installed)")
    parser.add_argument("--algs", default="RS384,ES384",
                        help="JWT algorithms of the EHR, one patient-view run each (CDS Hooks 2.0 recommends both)")
    parser.add_argument("--no-jwt", action="store_true", help="sandbox mode: no client authentication")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto",
                        help="load generator: wrk when on PATH (auto), or the asyncio httpx client")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per endpoint with wrk")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load per endpoint with wrk")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (each takes a share of the JWTs)")
    parser.add_argument("--serve-worker", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        serve_worker(args.serve_worker, args.loop)
        return

    use_wrk = args.client != "httpx" and shutil.which("wrk") is not None
    if args.client == "wrk" and not use_wrk:
        raise SystemExit("--client wrk: wrk is not on PATH (Debian: apt-get install wrk)")
    if args.client == "auto" and not use_wrk:
        print("note: wrk is not on PATH (Debian: apt-get install wrk); falling back to the asyncio httpx client, "
              "which competes with the server for the cores and measures mostly itself")

    import importlib.util

    algorithms = [None] if args.no_jwt else [a.strip().upper() for a in args.algs.split(",") if a.strip()]
    keys, jwks = _signing_keys([a for a in algorithms if a])
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "MASTCDS_CDS_PUBLIC_URL": base, "MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: {"keys": jwks}}),
           "MASTCDS_CDS_SANDBOX": "1" if args.no_jwt else "0"}
    servers = _start_server(args, port, env)
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
        time.sleep(1)  # every worker listening
        body = _request_body()
        path = "/cds-services/mastcds-patient-view"

        def tokens_for(alg: str | None, count: int) -> list[str] | None:
            return None if alg is None else _make_tokens(keys[alg], alg, base, path, count)

        check_token = tokens_for(algorithms[0], 1)
        check = httpx.post(base + path, json=body, headers={"Authorization": f"Bearer {check_token[0]}"} if check_token else {})
        cards = [c["summary"] for c in check.json()["cards"]]
        # CPU per call first (the server is idle then): it also bounds how many JWTs a wrk run can use
        os.environ.update({k: v for k, v in env.items() if k.startswith("MASTCDS_CDS_")})
        cpu_view = {alg: asyncio.run(_cpu_per_call(base, path, body, tokens_for(alg, 1050), 1000)) for alg in algorithms}
        cpu_ping = asyncio.run(_cpu_per_call(base, "/bench/ping", None, None, 1000))
        cpus = os.cpu_count() or 1
        loop = args.loop if args.loop != "auto" else "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
        load = (f"wrk {args.wrk_threads} thread(s), {args.duration:g} s per endpoint after {args.warmup:g} s warm-up"
                if use_wrk else f"httpx client, {args.requests} requests per endpoint")
        print(f"CDS Hooks patient-view on loopback: concurrency {args.concurrency}, {load}, "
              f"{args.workers} server worker(s) ({args.sockets} socket(s), {loop} loop, {http} parser), {cpus} CPUs, "
              f"JWT {'off' if args.no_jwt else ' and '.join(algorithms) + ', one per call'}; cards per call: {len(cards)}")
        views: dict[str | None, tuple[float, float, float]] = {}
        if use_wrk:
            workdir = Path(tempfile.mkdtemp(prefix="cds-hooks-bench-"))
            try:
                # no more calls than the cores can serve (1.5 x the in-process bound, plus a margin)
                def budget(alg: str | None, seconds: float) -> int:
                    return math.ceil(cpus * 1000 / cpu_view[alg] * 1.5 * max(1, round(seconds))) + 1000

                if args.warmup > 0:
                    _run_wrk(f"{base}/bench/ping", args.warmup, args.concurrency, args.wrk_threads, workdir, None, None, "ping")
                spread: dict[str, str] = {}

                def connections() -> str:
                    return _connections_per_worker(port)

                ping_run = _run_wrk(f"{base}/bench/ping", args.duration, args.concurrency, args.wrk_threads, workdir,
                                    None, None, "ping", connections)
                spread["ping"] = ping_run["during"]
                ping = _report_wrk("trivial GET /bench/ping", ping_run, None)
                for alg in algorithms:
                    if args.warmup > 0:
                        _run_wrk(base + path, args.warmup, args.concurrency, args.wrk_threads, workdir, body,
                                 tokens_for(alg, budget(alg, args.warmup)), "warmup")
                    tokens = tokens_for(alg, budget(alg, args.duration))
                    run = _run_wrk(base + path, args.duration, args.concurrency, args.wrk_threads, workdir, body, tokens,
                                   "view", connections)
                    spread[alg or "no JWT"] = run["during"]
                    views[alg] = _report_wrk(f"patient-view, JWT {alg or 'off'}", run,
                                             None if tokens is None else len(tokens))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print("open connections per server process, half-way through each run: "
                  + ", ".join(f"{k} {v}" for k, v in spread.items()))
        else:
            asyncio.run(_run(f"{base}/bench/ping", 200, min(args.concurrency, 50), None, None))  # warm-up
            ping = _report("trivial GET /bench/ping", *asyncio.run(
                _run(f"{base}/bench/ping", args.requests, args.concurrency, None, None)))
            for alg in algorithms:
                tokens = tokens_for(alg, args.requests + 200)
                asyncio.run(_run(base + path, 200, min(args.concurrency, 50), body, tokens[args.requests:] if tokens else None))
                views[alg] = _report(f"patient-view, JWT {alg or 'off'}", *asyncio.run(
                    _run(base + path, args.requests, args.concurrency, body, tokens[:args.requests] if tokens else None)))
        for alg, view in views.items():
            name = f"JWT {alg or 'off'}"
            print(f"{name}: ratio patient-view / trivial: p50 x{view[0] / ping[0]:.1f}, p99 x{view[1] / ping[1]:.1f}, "
                  f"throughput x{view[2] / ping[2]:.2f}; target p99 <= 50 ms at concurrency {args.concurrency}: "
                  f"{'met' if view[1] <= 50 else 'NOT met'} (p99 {view[1]:.1f} ms)")
        for alg, cpu in cpu_view.items():
            print(f"in-process CPU per call (ASGI, no network), JWT {alg or 'off'}: patient-view {cpu:.2f} ms, trivial "
                  f"{cpu_ping:.2f} ms; so {cpus} idle cores serve at most ~{cpus * 1000 / cpu:.0f} patient-view calls/s, "
                  f"and {args.concurrency} connections in flight wait at least ~{args.concurrency * cpu / cpus:.0f} ms on average")
        uptime = os.getloadavg()
        print(f"load average during the run: {uptime[0]:.1f} (1 min) on {cpus} CPUs")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
