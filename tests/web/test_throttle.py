"""Login throttling: the boundary of the failure count, the window, and the invariant under any sequence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.web.settings import LOGIN_MAX_FAILURES, LOGIN_WINDOW
from mastcds.web.throttle import LoginThrottle, throttle_keys

WINDOW = LOGIN_WINDOW.total_seconds()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_below_the_limit_may_try_again_at_the_limit_must_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(LOGIN_MAX_FAILURES, WINDOW, clock)
    keys = throttle_keys("Carol", "10.0.0.1")
    for _ in range(LOGIN_MAX_FAILURES - 1):
        throttle.failed(keys)
    assert throttle.retry_after(keys) is None
    throttle.failed(keys)
    assert throttle.retry_after(keys) == WINDOW


def test_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(LOGIN_MAX_FAILURES, WINDOW, clock)
    keys = throttle_keys("carol", "10.0.0.1")
    for _ in range(LOGIN_MAX_FAILURES):
        throttle.failed(keys)
        clock.now += 10
    first = 1000.0
    clock.now = first + WINDOW - 0.5
    assert throttle.retry_after(keys) == 1
    clock.now = first + WINDOW
    assert throttle.retry_after(keys) is None


def test_user_names_count_case_insensitively_and_addresses_separately() -> None:
    throttle = LoginThrottle(LOGIN_MAX_FAILURES, WINDOW, Clock())
    for n in range(LOGIN_MAX_FAILURES):
        throttle.failed(throttle_keys("CAROL", f"10.0.0.{n}"))  # many addresses, one account
    assert throttle.retry_after(throttle_keys("carol", "192.168.1.1")) is not None
    assert throttle.retry_after(throttle_keys("victor", "192.168.1.1")) is None
    for n in range(LOGIN_MAX_FAILURES):
        throttle.failed(throttle_keys(f"user{n}", "10.9.9.9"))  # one address, many accounts
    assert throttle.retry_after(throttle_keys("victor", "10.9.9.9")) is not None


def test_success_clears_the_user_name_only() -> None:
    throttle = LoginThrottle(2, WINDOW, Clock())
    keys = throttle_keys("carol", "10.0.0.1")
    throttle.failed(keys)
    throttle.succeeded(keys[0])
    throttle.failed(keys)
    assert throttle.retry_after((keys[0],)) is None
    assert throttle.retry_after((keys[1],)) is not None


def test_stale_entries_are_swept_beyond_the_tracking_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import mastcds.web.throttle as module

    monkeypatch.setattr(module, "MAX_TRACKED_KEYS", 10)
    clock = Clock()
    throttle = LoginThrottle(LOGIN_MAX_FAILURES, WINDOW, clock)
    for n in range(20):
        throttle.failed((f"user:{n}",))
    clock.now += WINDOW
    throttle.failed(("user:new",))
    assert set(throttle._failures) == {"user:new"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 3 * WINDOW, allow_nan=False), st.booleans()), max_size=40))
def test_blocked_exactly_when_the_window_holds_the_limit(events: list[tuple[float, bool]]) -> None:
    """Whatever the sequence of attempts, an attempt is refused iff the last window holds >= the limit of failures."""
    clock = Clock()
    throttle = LoginThrottle(LOGIN_MAX_FAILURES, WINDOW, clock)
    keys = (throttle_keys("carol", "10.0.0.1")[0],)
    failures: list[float] = []
    for step, failed in sorted(events):
        clock.now = 1000.0 + step
        recent = [t for t in failures if clock.now - t < WINDOW]
        blocked = throttle.retry_after(keys) is not None
        assert blocked is (len(recent) >= LOGIN_MAX_FAILURES)
        if blocked:
            continue
        if failed:
            throttle.failed(keys)
            failures.append(clock.now)
        else:
            throttle.succeeded(keys[0])
            failures.clear()
