"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl in a temporary directory.

The binaries are taken from PATH or Debian's /usr/lib/postgresql/<version>/bin.
PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (``nobody`` when there is none) through ``runuser``. The server
listens on 127.0.0.1 on a free port with trust authentication; nothing outlives
:meth:`PostgresServer.stop`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "mastcds"


class PostgresUnavailable(RuntimeError):
    """No server could be started here; the message says why."""


def find_bin_dir() -> Path:
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(p) for p in sorted(versioned, key=lambda p: int(Path(p).parent.name), reverse=True)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists() and (directory / "postgres").exists():
            return directory
    raise PostgresUnavailable("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin (Debian package postgresql)")


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (read from /proc: procps may not be installed)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(Path(stat).parent.name))
    return found


@dataclass
class PostgresServer:
    base: Path
    bin_dir: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.base)
        if result.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:] if (self.base / "server.log").exists() else ""
            raise PostgresUnavailable(f"{' '.join(command[-4:])} failed: {result.stderr.strip()[-1000:]} {log}")
        return result

    @classmethod
    def start(cls, *, fast: bool = True) -> "PostgresServer":
        """A new server; ``fast`` turns fsync off (a killed process still loses nothing, a power cut would)."""
        bin_dir = find_bin_dir()
        user = _server_user()
        base = Path(tempfile.mkdtemp(prefix="mastcds-pg-"))
        if user:
            entry = pwd.getpwnam(user)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        server = cls(base, bin_dir, free_port(), user)
        try:
            server._run(bin_dir / "initdb", "-D", server.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
            server.start_again(fast=fast)
        except (PostgresUnavailable, OSError, subprocess.TimeoutExpired) as error:
            shutil.rmtree(base, ignore_errors=True)
            raise PostgresUnavailable(str(error)) from None
        return server

    def start_again(self, *, fast: bool = True) -> None:
        settings = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        if fast:
            settings += " -c fsync=off -c full_page_writes=off"
        self._run(self.bin_dir / "pg_ctl", "-D", self.data, "-l", self.base / "server.log", "-w", "-t", "60", "-o", settings, "start")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def crash(self) -> None:
        """Kill the server the hard way (SIGKILL to the postmaster and its backends)."""
        pid = self.postmaster_pid()
        children = _children(pid)
        for target in [pid, *children]:
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        for child in children:
            while time.monotonic() < deadline:
                try:
                    os.kill(child, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def stop(self) -> None:
        try:
            self._run(self.bin_dir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", timeout=60)
        except (PostgresUnavailable, subprocess.TimeoutExpired):
            pass  # already gone (a crash test); the directory goes anyway
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
