"""Login throttling: after a few failed attempts, a user name or a client address waits.

Counted per user name (guessing one account's password from many addresses)
and per client address (trying many accounts from one place). Kept in memory:
``mastcds serve`` runs one process, and a restart forgetting the counts costs
an attacker a restart of our server, which they cannot trigger.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable

# Beyond this many names and addresses, expired entries are swept, so a flood
# of made-up user names cannot grow memory without bound.
MAX_TRACKED_KEYS = 10_000


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
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

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds to wait before trying again, or ``None`` when an attempt may be made now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, self.window - (now - times[-self.max_failures]))
        return math.ceil(wait) if wait > 0 else None

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > MAX_TRACKED_KEYS:
                for old in list(self._failures):
                    self._recent(old, now)
            for key in keys:
                self._failures[key].append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def throttle_keys(username: str, client: str) -> tuple[str, str]:
    return f"user:{username.casefold()}", f"client:{client}"
