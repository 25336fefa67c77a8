"""An HTTP server on 127.0.0.1 whose answers a test writes: FHIR servers that trickle, flood, redirect or point away.

``hostile_server({"/fhir/Patient/p1": handler, ...})`` serves each path (query
ignored) with its handler, ``handler(request) -> None``, which writes the
whole answer itself; unknown paths are a 404. Every request is recorded
(path with query, and the Authorization header), so a test can assert that a
token never reached a server.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.fhir.loopback import serving

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hostile:
    origin: str
    routes: dict[str, Handler]
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.origin + "/fhir"


def send_json(request: BaseHTTPRequestHandler, body: Any, *, status: int = 200, headers: dict[str, str] | None = None,
              compress: bool = False) -> None:
    data = json.dumps(body).encode()
    if compress:
        data = gzip.compress(data)
    request.send_response(status)
    request.send_header("Content-Type", "application/fhir+json")
    request.send_header("Content-Length", str(len(data)))
    if compress:
        request.send_header("Content-Encoding", "gzip")
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(data)


def json_answer(body: Any, **options: Any) -> Handler:
    return lambda request: send_json(request, body, **options)


def searchset(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def trickle(seconds: float, every: float = 0.25) -> Handler:
    """A JSON body sent one byte every ``every`` seconds for ``seconds`` (chunked: no length to refuse up front)."""
    def answer(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/fhir+json")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        deadline = time.monotonic() + seconds
        try:
            request.wfile.write(b"1\r\n[\r\n")
            while time.monotonic() < deadline:
                time.sleep(every)
                request.wfile.write(b"1\r\n \r\n")
                request.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: what the test wants
            pass
    return answer


def flood(total_bytes: int, *, declare_length: bool) -> Handler:
    """A valid JSON body of ``total_bytes`` (a searchset padded with a long text), its length declared or chunked."""
    def answer(request: BaseHTTPRequestHandler) -> None:
        head, tail = b'{"resourceType": "Bundle", "type": "searchset", "id": "', b'"}'
        padding = total_bytes - len(head) - len(tail)
        request.send_response(200)
        request.send_header("Content-Type", "application/fhir+json")
        if declare_length:
            request.send_header("Content-Length", str(total_bytes))
        else:
            request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        try:
            for piece in (head, *(b"x" * min(65536, padding - i) for i in range(0, padding, 65536)), tail):
                request.wfile.write(piece if declare_length else b"%x\r\n%s\r\n" % (len(piece), piece))
            if not declare_length:
                request.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    return answer


@contextmanager
def hostile_server(routes: dict[str, Handler] | None = None) -> Iterator[Hostile]:
    state = Hostile(origin="", routes=dict(routes or {}))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.requests.append((self.path, self.headers.get("Authorization")))
            handler = state.routes.get(urlsplit(self.path).path)
            if handler is None:
                send_json(self, {"resourceType": "OperationOutcome"}, status=404)
            else:
                handler(self)

    with serving(Handler) as port:
        state.origin = f"http://127.0.0.1:{port}"
        yield state
