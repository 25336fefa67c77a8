"""Login throttling that slows guessing without letting a stranger lock a user out.

Failed logins are counted in a sliding window (``window_seconds``) per:

- client address: at most ``address_failures`` failures, then that address
  waits for the window (one place trying many accounts). The address is the
  one uvicorn reports, which is the client's own behind a proxy given with
  ``mastcds serve --forwarded-allow-ips`` and the proxy's otherwise;
- account and address together: at most ``max_failures``, then that address
  waits for the window before trying that account again;
- trusted browser (a signed cookie set at a successful login, OWASP "device
  cookies"): at most ``max_failures``, then that browser waits;
- account, from untrusted browsers: after ``max_failures`` failures each next
  attempt waits a delay that doubles with every failure, up to
  ``MAX_DELAY_SECONDS``, counted from the last failure. A stranger guessing
  from many addresses is slowed to one guess per delay and can hold the
  account's untrusted logins up for that delay at most, never for the window;
  the user's own browser, trusted since its last login, is not held up at all.

A throttled attempt is refused before the password is checked and counts for
nothing. Kept in memory: ``mastcds serve`` runs one process, and a restart
forgetting the counts costs an attacker a restart of our server.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

# Beyond this many names and addresses, expired entries are swept, so a flood
# of made-up user names cannot grow memory without bound.
MAX_TRACKED_KEYS = 10_000
MAX_DELAY_SECONDS = 60.0
ADDRESS_FAILURES_PER_ACCOUNT_LIMIT = 4
"""An address may fail this many times the per-account limit in a window (a shared ward PC, several users)."""


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        address_failures: int | None = None,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.max_failures = max_failures
        self.address_failures = address_failures or ADDRESS_FAILURES_PER_ACCOUNT_LIMIT * max_failures
        self.window = window_seconds
        self.max_delay = max_delay
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def _keys(self, username: str, client: str, device: str | None) -> dict[str, str]:
        user = username.casefold()
        keys = {"client": f"client:{client}", "pair": f"pair:{client}|{user}", "user": f"user:{user}"}
        if device is not None:
            keys["device"] = f"device:{device}"
        return keys

    def retry_after(self, username: str, client: str, device: str | None = None) -> int | None:
        """Seconds to wait before this attempt may be made, or ``None`` when it may be made now.

        ``device``: the trusted-browser id of a valid device cookie for this user name, if any.
        """
        now = self._clock()
        keys = self._keys(username, client, device)
        limits = {"client": self.address_failures, "pair": self.max_failures, "device": self.max_failures}
        wait = 0.0
        with self._lock:
            for kind, limit in limits.items():
                if kind in keys:
                    times = self._recent(keys[kind], now)
                    if len(times) >= limit:
                        wait = max(wait, self.window - (now - times[-limit]))
            if device is None:
                wait = max(wait, self._delay(self._recent(keys["user"], now), now))
        return math.ceil(wait) if wait > 0 else None

    def _delay(self, times: deque[float], now: float) -> float:
        excess = len(times) - self.max_failures
        if excess < 0:
            return 0.0
        return min(2.0**excess, self.max_delay) - (now - times[-1])

    def failed(self, username: str, client: str, device: str | None = None) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > MAX_TRACKED_KEYS:
                for old in list(self._failures):
                    self._recent(old, now)
            for key in self._keys(username, client, device).values():
                self._failures[key].append(now)

    def succeeded(self, username: str, client: str, device: str | None = None) -> None:
        """The account's counts start again; the address's do not (an attacker may own an account too)."""
        keys = self._keys(username, client, device)
        with self._lock:
            for kind in ("user", "pair", "device"):
                if kind in keys:
                    self._failures.pop(keys[kind], None)
