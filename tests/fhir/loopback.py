"""A FHIR server (and JWKS endpoint) on 127.0.0.1 in a thread, serving fixed resources over real HTTP.

Searches are answered as searchset Bundles split in pages of ``page_size``
entries with ``next`` links, so that paging is exercised too. Every request
is recorded (path and Authorization header) for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Loopback:
    base: str
    resources: list[dict[str, Any]]
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    page_size: int = 2
    requests: list[tuple[str, str | None]] = field(default_factory=list)


def _search(server: Loopback, kind: str, query: dict[str, list[str]], page: int) -> dict[str, Any]:
    patient = (query.get("patient") or [None])[0]
    matches = [r for r in server.resources if r["resourceType"] == kind
               and (patient is None or (r.get("subject") or {}).get("reference") == f"Patient/{patient}")]
    chunk = matches[page * server.page_size:(page + 1) * server.page_size]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                              "entry": [{"resource": r} for r in chunk]}
    if (page + 1) * server.page_size < len(matches):
        bundle["link"] = [{"relation": "next", "url": f"{server.base}/{kind}?patient={patient}&_page={page + 1}"}]
    return bundle


@contextmanager
def loopback_fhir(resources: list[dict[str, Any]], jwks: dict[str, Any] | None = None) -> Iterator[Loopback]:
    state = Loopback(base="", resources=resources, jwks=jwks or {"keys": []})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            state.requests.append((self.path, self.headers.get("Authorization")))
            path = parts.path.removeprefix("/fhir").strip("/")
            body: Any = None
            if parts.path == "/jwks":
                body = state.jwks
            elif "/" in path:
                kind, rid = path.split("/", 1)
                body = next((r for r in state.resources if r["resourceType"] == kind and r.get("id") == rid), None)
            elif path:
                query = parse_qs(parts.query)
                body = _search(state, path, query, int((query.get("_page") or ["0"])[0]))
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as port:
        state.base = f"http://127.0.0.1:{port}/fhir"
        yield state


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """An HTTP server on a free port of 127.0.0.1 in a thread, answering with ``handler``; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
