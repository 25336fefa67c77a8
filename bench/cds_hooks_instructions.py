"""Instructions executed per CDS Hooks patient-view call, counted by valgrind's callgrind: a figure of the code, not of the machine.

On this project's shared VM the CPU time of the same call moved by half between
runs an hour apart (bench/cds_hooks.py: 0.46 to 0.74 ms in process), which hides
a change worth a few per cent. The number of instructions the call executes does
not move: two runs of the same code agree within 0.2% once the string hash seed
is fixed (PYTHONHASHSEED=0; with random seeds they scatter by about 1%).

Runs the application ``mastcds serve`` runs, in process (ASGI, no network, so
uvicorn and the kernel are not counted), under callgrind, each run on a database
of its own: once with ``--small`` and once with ``--large`` calls. Counting
starts when the calls do (callgrind's ``--zero-before`` on ``os.getppid``, called
only there), so the start-up (imports, the database migration: 6 billion
instructions) is not counted; the warm-up and the shutdown are the same in both
runs, so the difference in instructions over the difference in calls is the cost
of one call. The baseline is the trivial endpoint ``GET /health`` of the same
application, counted the same way.

    .venv/bin/python bench/cds_hooks_instructions.py [--alg RS384|ES384] [--small 50] [--large 250]

Needs valgrind (Debian: apt-get install valgrind); about two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cds_hooks as bench

PORT = 8999  # only named in the URLs; nothing listens
VIEW = "/cds-services/mastcds-patient-view"
HEALTH = "/health"


def _count(fixture: Path, endpoint: str, calls: int, workdir: Path) -> int:
    """Instructions callgrind counted in a child run of ``calls`` calls, from its warm-up on (start-up not counted)."""
    out = workdir / f"callgrind.{endpoint.strip('/').replace('/', '_')}.{calls}"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    log_path = workdir / f"log.{out.name}"
    with log_path.open("w") as log:
        child = subprocess.run(["valgrind", "--tool=callgrind", "--cache-sim=no", "--zero-before=os_getppid",
                                f"--callgrind-out-file={out}", f"--log-file={workdir / ('valgrind.' + out.name)}",
                                sys.executable, __file__, "--child", str(fixture), "--endpoint", endpoint, "--calls", str(calls)],
                               env=env, stdout=log, stderr=log, check=False)
    if child.returncode != 0:  # the work directory is removed on the way out: the child's own words go in the message
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise SystemExit(f"the counted run of {endpoint} ({calls} calls) failed (exit {child.returncode}):\n{tail}")
    totals = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)  # counted since the zeroing
    if totals is None:
        raise SystemExit(f"no instruction total in {out}")
    return int(totals.group(1))


def _child(fixture: Path, endpoint: str, calls: int) -> None:
    """One counted run: the application built as ``mastcds serve`` builds it, then warm-up and ``calls`` calls."""
    data = json.loads(fixture.read_text())
    os.environ.update(data["env"])
    database = fixture.parent / f"mastcds-{endpoint.strip('/').replace('/', '_')}-{calls}.db"
    os.environ["MASTCDS_DATABASE_URL"] = f"sqlite:///{database}"  # no two runs migrate the same file at once
    from mastcds.web.runtime import tune_gc_for_serving

    application = bench.create_app()  # logs on standard error, as the server does
    tune_gc_for_serving()
    os.getppid()  # callgrind starts counting here (--zero-before=os_getppid)
    if endpoint == VIEW:
        asyncio.run(bench._cpu_per_call(application, PORT, VIEW, data["body"].encode(), data["tokens"][: calls + 50], calls))
    else:
        asyncio.run(bench._cpu_per_call(application, PORT, HEALTH, None, None, calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alg", choices=("RS384", "ES384"), default="RS384", help="JWT algorithm of the EHR")
    parser.add_argument("--small", type=int, default=50, help="calls in the shorter run")
    parser.add_argument("--large", type=int, default=250, help="calls in the longer run")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.endpoint, args.calls)
        return
    if not 0 < args.small < args.large:
        raise SystemExit("--small and --large: 0 < small < large")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on PATH (Debian: apt-get install valgrind)")
    workdir = Path(tempfile.mkdtemp(prefix="cds-hooks-instructions-"))
    try:
        keys, jwks = bench._signing_keys([args.alg])
        base = f"http://127.0.0.1:{PORT}"
        env = {"MASTCDS_CDS_PUBLIC_URL": base, "MASTCDS_CDS_ALLOW_HTTP": "1", "MASTCDS_CDS_ISSUERS": json.dumps({bench.ISSUER: {"keys": jwks}}),
               "MASTCDS_CDS_SANDBOX": "0", "MASTCDS_SECRET_KEY": secrets.token_urlsafe(48)}
        tokens = bench._make_many_tokens(keys[args.alg], args.alg, base + VIEW, args.large + 50)
        fixture = workdir / "fixture.json"
        fixture.write_text(json.dumps({"env": env, "body": json.dumps(bench._request_body()), "tokens": tokens}))
        runs = [(endpoint, calls) for endpoint in (VIEW, HEALTH) for calls in (args.small, args.large)]
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            counted = dict(zip(runs, pool.map(lambda run: _count(fixture, *run, workdir), runs)))
        per_call = {endpoint: (counted[endpoint, args.large] - counted[endpoint, args.small]) / (args.large - args.small)
                    for endpoint in (VIEW, HEALTH)}
        print(f"instructions per call, in process (callgrind, PYTHONHASHSEED=0, {args.large} - {args.small} calls): "
              f"patient-view with {args.alg} {per_call[VIEW]:,.0f}; trivial GET /health {per_call[HEALTH]:,.0f}; "
              f"ratio x{per_call[VIEW] / per_call[HEALTH]:.1f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
