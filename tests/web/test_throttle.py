"""Login throttling: hard limits per address and per (account, address), a growing delay per account, trusted browsers.

The point (issue 16, item 14): failures made by a stranger cannot lock a user
out for the window; they slow the stranger.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.web.settings import LOGIN_MAX_FAILURES, LOGIN_WINDOW
from mastcds.web.throttle import ADDRESS_FAILURES_PER_ACCOUNT_LIMIT, MAX_DELAY_SECONDS, LoginThrottle

WINDOW = LOGIN_WINDOW.total_seconds()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock | None = None) -> LoginThrottle:
    return LoginThrottle(LOGIN_MAX_FAILURES, WINDOW, clock or Clock())


def test_one_address_one_account_one_below_the_limit_may_try_at_the_limit_waits_the_window() -> None:
    t = throttle()
    for _ in range(LOGIN_MAX_FAILURES - 1):
        t.failed("Carol", "10.0.0.1")
    assert t.retry_after("carol", "10.0.0.1") is None
    t.failed("carol", "10.0.0.1")
    assert t.retry_after("carol", "10.0.0.1") == WINDOW
    assert t.retry_after("victor", "10.0.0.1") is None  # the same address, another account
    assert t.retry_after("carol", "10.0.0.2") == 1  # the account from elsewhere: the first growing delay only


def test_the_account_delay_doubles_from_the_last_failure_up_to_the_cap() -> None:
    clock = Clock()
    t = throttle(clock)
    for n in range(LOGIN_MAX_FAILURES):  # from as many addresses: no address limit is reached
        t.failed("carol", f"10.0.0.{n}")
    delays = []
    for n in range(12):
        wait = t.retry_after("carol", "192.168.1.1")
        delays.append(wait)
        clock.now += wait
        assert t.retry_after("carol", "192.168.1.1") is None
        t.failed("carol", f"10.1.0.{n}")
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]
    assert max(delays) == MAX_DELAY_SECONDS < WINDOW


def test_a_stranger_cannot_lock_the_account_out_for_the_window() -> None:
    clock = Clock()
    t = throttle(clock)
    for n in range(200):  # a guess from a new address each time the account may be tried
        clock.now += t.retry_after("carol", f"10.2.{n // 250}.{n % 250}") or 0
        t.failed("carol", f"10.2.{n // 250}.{n % 250}")
    wait = t.retry_after("carol", "192.168.1.1")
    assert wait is not None and wait <= MAX_DELAY_SECONDS
    # the user's own browser, trusted since its last login, is not held up at all
    assert t.retry_after("carol", "192.168.1.1", device="carols-browser") is None


def test_a_trusted_browser_has_its_own_limit() -> None:
    t = throttle()
    for _ in range(LOGIN_MAX_FAILURES):
        t.failed("carol", f"10.0.0.{_}", device="stolen-cookie")
    assert t.retry_after("carol", "10.9.9.9", device="stolen-cookie") == WINDOW
    assert t.retry_after("carol", "10.9.9.9", device="carols-browser") is None


def test_one_address_trying_many_accounts_waits_the_window() -> None:
    t = throttle()
    limit = ADDRESS_FAILURES_PER_ACCOUNT_LIMIT * LOGIN_MAX_FAILURES
    for n in range(limit - 1):
        t.failed(f"user{n}", "10.9.9.9")
    assert t.retry_after("victor", "10.9.9.9") is None
    t.failed("user-last", "10.9.9.9")
    assert t.retry_after("victor", "10.9.9.9") == WINDOW
    assert t.retry_after("victor", "10.9.9.8") is None


def test_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window() -> None:
    clock = Clock()
    t = throttle(clock)
    for _ in range(LOGIN_MAX_FAILURES):
        t.failed("carol", "10.0.0.1")
        clock.now += 10
    first = 1000.0
    clock.now = first + WINDOW - 0.5
    assert t.retry_after("carol", "10.0.0.1") == 1
    clock.now = first + WINDOW
    assert t.retry_after("carol", "10.0.0.1") is None


def test_success_clears_the_account_but_not_the_address() -> None:
    t = LoginThrottle(2, WINDOW, Clock(), address_failures=2)
    t.failed("carol", "10.0.0.1")
    t.succeeded("carol", "10.0.0.1")
    assert t.retry_after("carol", "10.0.0.2") is None
    t.failed("carol", "10.0.0.1")
    assert t.retry_after("victor", "10.0.0.1") == WINDOW  # two failures from the address, one before the success


def test_stale_entries_are_swept_beyond_the_tracking_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import mastcds.web.throttle as module

    monkeypatch.setattr(module, "MAX_TRACKED_KEYS", 10)
    clock = Clock()
    t = throttle(clock)
    for n in range(20):
        t.failed(f"user{n}", "10.0.0.1")
    clock.now += WINDOW
    t.failed("new", "10.0.0.2")
    assert set(t._failures) == {"client:10.0.0.2", "pair:10.0.0.2|new", "user:new"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 3 * WINDOW, allow_nan=False), st.integers(0, 30)), max_size=60))
def test_an_attempt_from_a_trusted_browser_is_never_held_up_by_others(events: list[tuple[float, int]]) -> None:
    """Whatever strangers do to the account, the owner's trusted browser waits only for its own failures."""
    clock = Clock()
    t = throttle(clock)
    for step, address in sorted(events):
        clock.now = 1000.0 + step
        if t.retry_after("carol", f"10.3.0.{address}") is None:
            t.failed("carol", f"10.3.0.{address}")
        assert t.retry_after("carol", "192.168.1.1", device="carols-browser") is None
        wait = t.retry_after("carol", "192.168.1.1")
        assert wait is None or wait <= MAX_DELAY_SECONDS
