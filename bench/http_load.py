"""Closed-loop HTTP/1.1 load generator: N keep-alive connections, each sends its next request when the answer to
the previous one is complete, for a fixed time; prints one JSON line with the latency percentiles and the CPU time the generator itself used.

With ``--warmup``, the connections first run for that many seconds unmeasured, then for ``--seconds``
measured: the figures are those of the steady state at that concurrency, not of the connections opening
(100 new connections send 100 requests at once, and their first answers wait behind each other). A
line ``warm`` on standard output marks the start of the measured part, for a caller sampling the server.

Written for bench/cds_hooks.py because every CDS Hooks call needs its own signed JWT (a unique ``jti``),
which fixed-request tools such as h2load cannot send, and to need nothing outside Python. Cross-checks:
against the stdlib-loop server wrk gave the same figures (p50 48 vs 50 ms, p99 68 vs 61 ms); against a
uvloop server (one worker, 50 connections, sandbox) wrk's p99 was about 480 ms where h2load, this
generator and the server's own queue timings all showed about 110 ms. Latency is measured from the
write of a request to the last byte of its answer, so any delay on the client side (this process
shares the cores) counts against the server, never for it.

    python bench/http_load.py --port 8000 --path /health --connections 100 --seconds 10 [--warmup 2]
    python bench/http_load.py --port 8000,8001 ...   (the connections spread over two servers in turn)
    python bench/http_load.py --port 8000 --path /cds-services/x --body body.json --tokens tokens.txt ...
    python bench/http_load.py ... --cpu 0 --latencies run.f64   (pinned to CPU 0; every latency written, for a caller merging runs)
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path


class _Load:
    """The requests still to send, the deadline, and what came back."""

    def __init__(self, requests: Iterator[bytes], measure_from: float, deadline: float) -> None:
        self.requests, self.measure_from, self.deadline = requests, measure_from, deadline
        self.latencies: list[float] = []
        self.failures = 0
        self.exhausted = False

    def next_request(self) -> bytes | None:
        if time.perf_counter() >= self.deadline:
            return None
        request = next(self.requests, None)
        self.exhausted |= request is None
        return request


class _Connection(asyncio.Protocol):
    def __init__(self, load: _Load, done: asyncio.Future) -> None:
        self.load, self.done = load, done
        self.buffer = bytearray()
        self.expected: int | None = None  # bytes of the answer being read (head + body), once its head is in
        self.status = 0
        self.started = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        request = self.load.next_request()
        if request is None:
            self.transport.close()
            return
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            self.status = int(head[0].split()[1])
            length = next((int(h.split(":", 1)[1]) for h in head[1:] if h.lower().startswith("content-length:")), 0)
            self.expected = end + 4 + length
        if len(self.buffer) < self.expected:
            return
        if self.started >= self.load.measure_from:  # sent after the warm-up
            self.load.latencies.append(time.perf_counter() - self.started)
        self.load.failures += self.status != 200  # a failed answer counts in the warm-up too
        del self.buffer[:self.expected]
        self.expected = None
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.expected is not None or exc is not None:
            self.load.failures += 1
        if not self.done.done():
            self.done.set_result(None)


async def run(ports: list[int], requests: Iterator[bytes], connections: int, seconds: float, warmup: float = 0.0) -> dict:
    loop = asyncio.get_running_loop()
    now = time.perf_counter()
    load = _Load(requests, now + warmup, now + warmup + seconds)
    finished = [loop.create_future() for _ in range(connections)]
    measured = {"started": now, "cpu": time.process_time()}

    def measure() -> None:
        measured.update(started=time.perf_counter(), cpu=time.process_time())
        print("warm", flush=True)

    if warmup > 0:
        loop.call_at(loop.time() + warmup, measure)
    for i, done in enumerate(finished):  # spread over the ports in turn, as a front end would
        await loop.create_connection(lambda done=done: _Connection(load, done), "127.0.0.1", ports[i % len(ports)])
    await asyncio.gather(*finished)
    elapsed, cpu = time.perf_counter() - measured["started"], time.process_time() - measured["cpu"]
    latencies = sorted(load.latencies)
    n = len(latencies)

    def percentile(p: float) -> float:
        return latencies[min(n - 1, int(n * p))] * 1000 if n else float("nan")

    return {"latencies": latencies, "requests": n, "seconds": elapsed, "p50_ms": percentile(0.50), "p90_ms": percentile(0.90),
            "p99_ms": percentile(0.99), "max_ms": latencies[-1] * 1000 if n else float("nan"),
            "failures": load.failures, "exhausted": load.exhausted, "cpu_seconds": cpu}


def raw_requests(port: int, path: str, body: bytes | None, tokens: list[str] | None) -> Iterator[bytes]:
    """The raw requests, one per token (or the same request forever without tokens)."""
    head = f"{'POST' if body is not None else 'GET'} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    tail = b"\r\n" + (body or b"")
    if tokens is None:
        request = head.encode() + tail
        while True:
            yield request
    for token in tokens:
        yield (head + f"Authorization: Bearer {token}\r\n").encode() + tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", required=True, help="PORT, or PORT,PORT,... to spread the connections over in turn")
    parser.add_argument("--path", required=True)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="unmeasured seconds first, on the same connections")
    parser.add_argument("--body", type=Path, help="JSON body file (POST); without it, GET")
    parser.add_argument("--tokens", type=Path, help="file of JWTs, one per line, one per request")
    parser.add_argument("--cpu", type=int, help="run on this CPU only (Linux), as bench/cds_hooks.py --pin places a generator beside its server")
    parser.add_argument("--latencies", type=Path, help="also write every measured latency (seconds, native float64) to this file")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    body = args.body.read_bytes() if args.body else None
    tokens = args.tokens.read_text().split() if args.tokens else None
    ports = [int(port) for port in args.port.split(",")]
    requests = raw_requests(ports[0], args.path, body, tokens)
    try:
        import uvloop
    except ImportError:  # the stdlib loop: slower, so the figures only get worse
        result = asyncio.run(run(ports, requests, args.connections, args.seconds, args.warmup))
    else:
        result = uvloop.run(run(ports, requests, args.connections, args.seconds, args.warmup))
    latencies = result.pop("latencies")
    if args.latencies is not None:
        args.latencies.write_bytes(array.array("d", latencies).tobytes())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
