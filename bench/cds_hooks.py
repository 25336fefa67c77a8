"""Latency and throughput of the CDS Hooks patient-view service under concurrent calls, on loopback.

Starts the application ``mastcds serve`` runs (every route, the security
middleware, one access-log line per request on standard error, kept in a
temporary file here; a fresh SQLite database, which a CDS Hooks call does not
read) in separate processes on 127.0.0.1: ``--workers`` uvicorn processes,
one per CPU by default, each with its own SO_REUSEPORT socket, the stdlib
asyncio loop, logging and GC set as ``mastcds serve`` sets them. Then loads
it for ``--duration`` seconds per endpoint after ``--warmup`` seconds on the
same connections (the figures are those of the steady state, not of 100
connections opening at once; with ``--client wrk``, a separate run): first
its trivial endpoint ``GET /health`` (the baseline of HTTP, framework and
middleware), then patient-view calls with the prefetch
supplied (the seed patient without its KIT result: two cards come back), once
per JWT algorithm of ``--algs``. Every patient-view call carries its own
signed JWT with a unique ``jti`` (the service refuses a replayed one); the
tokens are made before timing.

The load generator is ``bench/http_load.py`` (closed loop, one request in
flight per connection, latency from the write of a request to the last byte of
its answer). ``--client wrk`` uses wrk with a Lua script instead; on this
workload wrk's p99 disagreed with h2load, http_load and the server's own
timings against uvloop (see http_load.py) and agreed against asyncio. Either
generator shares the machine's cores with the server, as it would in no real
deployment.

With ``--pin`` each server process runs on a CPU of its own, and one load
generator per server process runs beside it on that CPU, sending its share of
the connections to that process only. Without it the scheduler moves the one
generator between the cores, and for a few hundred milliseconds at a time one
server process gets a smaller share of its core than the other: its calls
then wait up to twice as long (bench/http_load.py's latencies per connection,
2026-11-26), which is most of the distance between p50 and p99. The server
processes get the same CPU either way; an EHR's calls come from other machines.

Prints p50 / p99 latency and throughput, the ratios to the trivial endpoint,
the CPU the servers and the load generator used during each run, and the
server CPU per call measured in-process (ASGI, no network). Target
(issue 5): patient-view p99 <= 50 ms at 100 concurrent requests on 2 cores.
With 100 connections each waiting for its answer the mean latency is
100 / throughput (Little's law), so the target needs well over 2,000 calls/s.

    .venv/bin/python bench/cds_hooks.py [--concurrency 100] [--workers 2] [--algs RS384,ES384] [--no-jwt] [--pin]
                                        [--duration 10] [--warmup 2] [--client load|wrk] [--loop auto|asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import atexit
import json
import math
import os
import re
import secrets
import shutil
import socket
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
    """The application under test (uvicorn factory): the one ``mastcds serve`` runs, settings from the environment."""
    from mastcds.web.app import create_app as mastcds_app
    from mastcds.web.runtime import configure_logging

    configure_logging()
    return mastcds_app()


def _request_body() -> dict[str, Any]:
    from mastcds.case import load_case
    from mastcds.fhir import codes
    from mastcds.fhir.from_case import bundle_from_case

    from mastcds.web.cds_hooks import PATIENT_VIEW, SERVICES

    seed = json.loads((ROOT / "examples" / "seed-case.json").read_text())
    bundle = bundle_from_case(load_case(seed))
    # what an EHR answers the prefetch's code search with (the export also holds the case's other findings)
    searched = set(SERVICES[PATIENT_VIEW]["prefetch"]["observations"].partition("&code=")[2].split(","))
    patient, observations, conditions = None, [], []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        code = resource.get("code", {}).get("coding", [{}])[0]
        if kind == "Patient":
            patient = resource
        elif kind == "Observation" and code["code"] != codes.VARIANT_ASSESSMENT.code \
                and f"{code['system']}|{code['code']}" in searched:
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


def serve_worker(port: int, loop: str, cpu: int | None = None) -> None:
    """One server process listening on its own SO_REUSEPORT socket (on CPU ``cpu`` only, when given).

    uvicorn's ``--workers`` share one listening socket, and whichever worker
    wakes first accepts a burst of connections: here one of two workers got 93
    of wrk's 100, so one core queued almost everything while the other idled.
    With a socket per worker the kernel spreads new connections over the
    sockets by hash, as a production front end (or ``SO_REUSEPORT``) would.
    """
    import uvicorn

    from mastcds.web.runtime import tune_gc_for_serving

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    # as `mastcds serve` runs it: no uvicorn access log, no proxy headers unless --forwarded-allow-ips is given
    config = uvicorn.Config(create_app(), access_log=False, log_level="warning", backlog=2048, loop=loop, proxy_headers=False)
    config.load()
    tune_gc_for_serving()  # as `mastcds serve` does (create_app configured the logging as it does)
    uvicorn.Server(config).run(sockets=[sock])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


async def _cpu_per_call(app: Any, port: int, path: str, body: bytes | None, tokens: list[str] | None, n: int) -> float:
    """Process CPU milliseconds per call through the ASGI app in this process, one call at a time, no client.

    CPU time, unlike wall time, barely moves when other programs share the
    cores, so this is the figure to compare across runs on a busy machine.
    ``tokens`` holds ``n + 50`` JWTs (50 for the warm-up).
    """
    async def call(i: int) -> None:
        headers = [(b"host", f"127.0.0.1:{port}".encode())]
        if body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if tokens:
            headers.append((b"authorization", f"Bearer {tokens[i]}".encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
                 "method": "GET" if body is None else "POST", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", port)}
        messages = [{"type": "http.request", "body": body or b"", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        assert sent[0]["status"] == 200, sent

    for i in range(50):  # warm-up, with tokens of its own (each jti is accepted once)
        await call(n + i)
    start = time.process_time()
    for i in range(n):
        await call(i)
    return (time.process_time() - start) / n * 1000


def _run_load(args: argparse.Namespace, port: int, path: str, seconds: float, body: bytes | None,
              tokens: list[str] | None, workdir: Path, during: Any = None, warmup: float = 0.0,
              warm: Any = None) -> dict[str, Any]:
    """One timed run against ``path``: requests, seconds, p50/p90/p99/max in ms, failures, exhausted tokens.

    ``warmup``: seconds of load on the same connections before the measured ``seconds`` (http_load only;
    ``warm`` is called when the measured part starts). ``during``: called half-way through the measured part.
    """
    if args.client == "wrk":
        raw = _run_wrk(f"http://127.0.0.1:{port}{path}", seconds, args.concurrency, args.wrk_threads, workdir,
                       None if body is None else json.loads(body), tokens, "run", during)
        return {"requests": raw["requests"], "seconds": raw["duration_us"] / 1e6,
                **{f"{k}_ms": raw[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max")},
                "failures": sum(raw[k] for k in ("connect", "read", "write", "status", "timeout")),
                "exhausted": bool(raw["exhausted_threads"]), "during": raw["during"]}
    if body is not None:
        (workdir / "body.json").write_bytes(body)
    # one generator, or with --pin one per server process, beside it on its CPU, with its share of the
    # connections and of the tokens; their latencies are merged
    cpus: list[int | None] = list(range(len(args.ports))) if args.pin else [None]
    loads = []
    for i, cpu in enumerate(cpus):
        command = [sys.executable, str(ROOT / "bench" / "http_load.py"), "--path", path,
                   "--port", ",".join(map(str, args.ports if cpu is None else [args.ports[cpu]])),
                   "--connections", str(args.concurrency // len(cpus) + (i < args.concurrency % len(cpus))),
                   "--seconds", str(seconds), "--warmup", str(warmup), "--latencies", str(workdir / f"latencies-{i}.f64")]
        if cpu is not None:
            command += ["--cpu", str(cpu % (os.cpu_count() or 1))]
        if body is not None:
            command += ["--body", str(workdir / "body.json")]
        if tokens is not None:
            (workdir / f"tokens-{i}.txt").write_text("\n".join(tokens[i::len(cpus)]) + "\n")
            command += ["--tokens", str(workdir / f"tokens-{i}.txt")]
        loads.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        if warmup > 0:
            for load in loads:
                load.stdout.readline()  # "warm": the measured part starts (or the generator failed: reported below)
            if warm is not None:
                warm()
        sampled = None
        if during is not None:
            time.sleep(seconds / 2)
            sampled = during()
        results = []
        for load in loads:
            stdout, stderr = load.communicate(timeout=warmup + seconds + 120)
            if load.returncode != 0:
                raise SystemExit(f"http_load failed ({load.returncode}):\n{stdout}\n{stderr}")
            results.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for load in loads:
            if load.poll() is None:
                load.kill()
                load.wait()
    latencies = sorted(x for i in range(len(loads))
                       for x in array.array("d", (workdir / f"latencies-{i}.f64").read_bytes()))
    n = len(latencies)

    def percentile(p: float) -> float:
        return latencies[min(n - 1, int(n * p))] * 1000 if n else float("nan")

    return {"requests": n, "seconds": max(r["seconds"] for r in results),
            "p50_ms": percentile(0.50), "p90_ms": percentile(0.90), "p99_ms": percentile(0.99),
            "max_ms": latencies[-1] * 1000 if n else float("nan"), "failures": sum(r["failures"] for r in results),
            "exhausted": any(r["exhausted"] for r in results), "cpu_seconds": sum(r["cpu_seconds"] for r in results),
            "during": sampled}


def _cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU seconds used so far by these processes and their children (Linux /proc), else None."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            total += (_cpu_seconds([int(c) for c in children]) or 0) * ticks
    except (OSError, ValueError, IndexError):
        return None
    return total / ticks


def _measured_load(args: argparse.Namespace, servers: list[subprocess.Popen], *load: Any, **options: Any) -> dict[str, Any]:
    """:func:`_run_load`, with the CPU seconds the servers used during its measured part (``server_cpu_seconds``, or None)."""
    pids = [s.pid for s in servers]
    sample = {"before": _cpu_seconds(pids)}

    def warm() -> None:
        sample["before"] = _cpu_seconds(pids)

    result = _run_load(args, *load, warm=warm, **options)
    after = _cpu_seconds(pids)
    result["server_cpu_seconds"] = None if sample["before"] is None or after is None else after - sample["before"]
    return result


def _report(name: str, result: dict[str, Any], tokens_given: int | None) -> tuple[float, float, float]:
    rate = result["requests"] / result["seconds"]
    print(f"{name:<28} p50 {result['p50_ms']:7.2f} ms   p99 {result['p99_ms']:7.2f} ms   {rate:8.0f} req/s   "
          f"failures {result['failures']}   ({result['requests']} requests in {result['seconds']:.1f} s; "
          f"p90 {result['p90_ms']:.2f} ms, max {result['max_ms']:.2f} ms)")
    server, client = result.get("server_cpu_seconds"), result.get("cpu_seconds")
    if server is not None and result["requests"]:
        print(f"  CPU during the run: servers {server / result['seconds']:.2f} cores "
              f"({server / result['requests'] * 1000:.3f} ms per request, network and logging included)"
              + (f", load generator {client / result['seconds']:.2f} cores" if client is not None else ""))
    if result["exhausted"]:
        print(f"  WARNING: the run ran out of JWTs ({tokens_given} made); it was cut short and its figures are not valid")
    return result["p50_ms"], result["p99_ms"], rate


def _start_server(args: argparse.Namespace, port: int, env: dict[str, str], log: Path) -> list[subprocess.Popen]:
    """The server processes, their standard error (the application log: one line per request) appended to ``log``."""
    with log.open("a") as stderr:  # each child gets its own copy of the descriptor
        if args.sockets in ("reuseport", "ports"):  # the same port for every worker, or one port each
            return [subprocess.Popen([sys.executable, __file__, "--serve-worker", str(worker_port), "--loop", args.loop,
                                      *(["--serve-cpu", str(k % (os.cpu_count() or 1))] if args.pin else [])],
                                     env=env, stderr=stderr) for k, worker_port in enumerate(args.ports)]
        return [subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "cds_hooks:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--loop", args.loop,
             "--no-access-log", "--no-proxy-headers", "--log-level", "warning"], env=env, stderr=stderr)]


def _connections_per_worker(ports: list[int]) -> str:
    """How the open connections are spread over the worker processes (from ``ss``), e.g. "52/48"."""
    if shutil.which("ss") is None:
        return "?"
    listing = subprocess.run(["ss", "-tnpH", "state", "established", f"( {' or '.join(f'sport = :{p}' for p in sorted(set(ports)))} )"],
                             capture_output=True, text=True, check=False).stdout
    counts: dict[str, int] = {}
    for line in listing.splitlines():
        for pid in set(re.findall(r"pid=(\d+)", line)):
            counts[pid] = counts.get(pid, 0) + 1
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True)) or "?"


def _sign(job: tuple[bytes, str, str, int, int]) -> list[str]:
    """``count`` JWTs for the audience ``audience``, signed with the PEM key (run in a worker process)."""
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem, alg, audience, now, count = job
    key = load_pem_private_key(pem, password=None)
    return [jwt.encode({"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())},
                       key, algorithm=alg, headers={"kid": f"bench-{alg.lower()}", "typ": "JWT"}) for _ in range(count)]


def _make_many_tokens(key: Any, alg: str, audience: str, count: int) -> list[str]:
    """``count`` JWTs, signed on every core (RSA signing takes about 1 ms each)."""
    from concurrent.futures import ProcessPoolExecutor

    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    cpus = os.cpu_count() or 1
    now = int(time.time())
    jobs = [(pem, alg, audience, now, count // cpus + (i < count % cpus)) for i in range(cpus)]
    with ProcessPoolExecutor(cpus) as pool:
        return [token for chunk in pool.map(_sign, jobs) for token in chunk]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent connections (requests in flight)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server worker processes (default: one per CPU)")
    parser.add_argument("--sockets", choices=("reuseport", "ports", "shared"), default="reuseport",
                        help="reuseport: each worker its own SO_REUSEPORT socket on one port, the kernel splitting the "
                             "connections by hash (default); ports: each worker its own port, the load generator "
                             "spreading its connections over them in turn, as a front end would; shared: uvicorn --workers")
    parser.add_argument("--pin", action="store_true",
                        help="each server process on a CPU of its own, with a load generator of its own beside it on "
                             "that CPU, sending its share of the connections to that process only (implies --sockets "
                             "ports; Linux): the generator no longer moves between the cores, taking CPU from one "
                             "server process at a time")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="asyncio",
                        help="event loop of the server (default asyncio, as `mastcds serve`; auto: uvloop when installed)")
    parser.add_argument("--algs", default="RS384,ES384",
                        help="JWT algorithms of the EHR, one patient-view run each (CDS Hooks 2.0 recommends both)")
    parser.add_argument("--no-jwt", action="store_true", help="sandbox mode: no client authentication")
    parser.add_argument("--client", choices=("load", "wrk"), default="load",
                        help="load generator: bench/http_load.py (default) or wrk (Debian: apt-get install wrk)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load per endpoint, on the connections then measured")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (each takes a share of the JWTs)")
    parser.add_argument("--serve-worker", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-cpu", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        serve_worker(args.serve_worker, args.loop, args.serve_cpu)
        return
    if args.pin:
        if args.client == "wrk":
            raise SystemExit("--pin needs the bench's own load generator")
        if args.sockets == "shared":
            raise SystemExit("--pin gives each server process a port of its own: not with --sockets shared")
        args.sockets = "ports"
    if args.client == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--client wrk: wrk is not on PATH (Debian: apt-get install wrk)")

    import importlib.util

    import httpx

    algorithms = [None] if args.no_jwt else [a.strip().upper() for a in args.algs.split(",") if a.strip()]
    keys, jwks = _signing_keys([a for a in algorithms if a])
    if args.sockets == "ports" and args.client == "wrk":
        raise SystemExit("--sockets ports needs the bench's own load generator (wrk loads one URL)")
    port = _free_port()
    args.ports = [port, *(_free_port() for _ in range(args.workers - 1))] if args.sockets == "ports" else [port] * args.workers
    base = f"http://127.0.0.1:{port}"
    path = "/cds-services/mastcds-patient-view"
    workdir = Path(tempfile.mkdtemp(prefix="cds-hooks-bench-"))
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "MASTCDS_CDS_PUBLIC_URL": base, "MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: {"keys": jwks}}),
           "MASTCDS_CDS_SANDBOX": "1" if args.no_jwt else "0",
           "MASTCDS_DATABASE_URL": f"sqlite:///{workdir / 'mastcds.db'}", "MASTCDS_SECRET_KEY": secrets.token_urlsafe(48)}

    def tokens_for(alg: str | None, count: int) -> list[str] | None:
        return None if alg is None else _make_many_tokens(keys[alg], alg, base + path, count)

    body = json.dumps(_request_body()).encode()
    # server CPU per call, in this process (the same settings as the servers), before any load
    os.environ.update({k: v for k, v in env.items() if k.startswith("MASTCDS_")})
    from mastcds.web.app import create_app as mastcds_app
    from mastcds.web.runtime import configure_logging, tune_gc_for_serving

    log = workdir / "server.log"  # the servers' application log
    with (workdir / "in-process.log").open("a") as stream:
        sys.stderr, saved = stream, sys.stderr
        try:
            listener = configure_logging()  # on this stream, as the servers log on theirs
        finally:
            sys.stderr = saved
        application = mastcds_app()  # creates and migrates the database the servers then open
        tune_gc_for_serving()
        cpu_view = {alg: asyncio.run(_cpu_per_call(application, port, path, body, tokens_for(alg, 2050), 2000))
                    for alg in algorithms}
        cpu_ping = asyncio.run(_cpu_per_call(application, port, "/health", None, None, 2000))
        listener.stop()  # what its thread still holds is written before the stream closes
        atexit.unregister(listener.stop)
    servers = _start_server(args, port, env, log)
    try:
        for worker_port in sorted(set(args.ports)):
            for _ in range(200):
                try:
                    if httpx.get(f"http://127.0.0.1:{worker_port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise SystemExit(f"the server on port {worker_port} did not start")
        time.sleep(1)  # every worker listening
        check_token = tokens_for(algorithms[0], 1)
        check = httpx.post(base + path, content=body, headers={"Content-Type": "application/json",
                           **({"Authorization": f"Bearer {check_token[0]}"} if check_token else {})})
        cards = [c["summary"] for c in check.json()["cards"]]
        cpus = os.cpu_count() or 1
        loop = args.loop if args.loop != "auto" else "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
        print(f"CDS Hooks patient-view on loopback: concurrency {args.concurrency}, "
              f"{'wrk' if args.client == 'wrk' else 'bench/http_load.py'}"
              f"{', one per server process, pinned beside it (--pin)' if args.pin else ''}, {args.duration:g} s per endpoint after "
              f"{args.warmup:g} s warm-up, {args.workers} server worker(s) ({args.sockets} socket(s), {loop} loop, {http} "
              f"parser), {cpus} CPUs, JWT {'off' if args.no_jwt else ' and '.join(algorithms) + ', one per call'}; "
              f"body {len(body):,} bytes; cards per call: {len(cards)}")
        spread: dict[str, str] = {}
        views: dict[str | None, tuple[float, float, float]] = {}

        # no more calls than the cores could serve at the in-process CPU cost, twice over, plus a margin
        def budget(alg: str | None, seconds: float) -> int:
            return math.ceil(cpus * 1000 / cpu_view[alg] * 2 * seconds) + 1000

        def connections() -> str:
            return _connections_per_worker(args.ports)

        # http_load warms up on the connections it then measures; wrk gets a run of its own first
        warmup = args.warmup if args.client == "load" else 0.0
        if args.warmup > 0 and args.client == "wrk":
            _run_load(args, port, "/health", args.warmup, None, None, workdir)
        ping_run = _measured_load(args, servers, port, "/health", args.duration, None, None, workdir, connections,
                                  warmup=warmup)
        spread["ping"] = ping_run["during"]
        ping = _report("trivial GET /health", ping_run, None)
        for alg in algorithms:
            if args.warmup > 0 and args.client == "wrk":
                _run_load(args, port, path, args.warmup, body, tokens_for(alg, budget(alg, args.warmup)), workdir)
            tokens = tokens_for(alg, budget(alg, warmup + args.duration))
            run = _measured_load(args, servers, port, path, args.duration, body, tokens, workdir, connections,
                                 warmup=warmup)
            spread[alg or "no JWT"] = run["during"]
            views[alg] = _report(f"patient-view, JWT {alg or 'off'}", run, None if tokens is None else len(tokens))
        print("open connections per server process, half-way through each run: "
              + ", ".join(f"{k} {v}" for k, v in spread.items()))
        for alg, view in views.items():
            print(f"JWT {alg or 'off'}: ratio patient-view / trivial: p50 x{view[0] / ping[0]:.1f}, p99 x{view[1] / ping[1]:.1f}, "
                  f"throughput x{view[2] / ping[2]:.2f}; target p99 <= 50 ms at concurrency {args.concurrency}: "
                  f"{'met' if view[1] <= 50 else 'NOT met'} (p99 {view[1]:.1f} ms)")
        for alg, cpu in cpu_view.items():
            print(f"server CPU per call in-process (ASGI, no network), JWT {alg or 'off'}: patient-view {cpu:.3f} ms, "
                  f"trivial {cpu_ping:.3f} ms; so {cpus} idle cores serve at most ~{cpus * 1000 / cpu:.0f} patient-view "
                  f"calls/s, and {args.concurrency} connections in flight wait at least "
                  f"~{args.concurrency * cpu / cpus:.0f} ms on average")
        print(f"load average after the run: {os.getloadavg()[0]:.1f} (1 min) on {cpus} CPUs")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        print(f"application log: {sum('/cds-services/{service_id} 200' in line for line in lines):,} access lines of "
              f"answered service calls, {sum(' ERROR ' in line for line in lines)} errors")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
