"""Password guessing is slowed per account and per address, in bounded memory."""

from __future__ import annotations

from assistant.access.throttle import LoginThrottle, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_after_the_free_guesses_each_one_doubles_the_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, max_seconds=60, clock=clock)
    waits = [throttle.failed("sam", "10.0.0.1") for _ in range(3)]
    assert waits == [0, 0, 0] and throttle.wait_seconds("sam", "10.0.0.1") == 0
    waits = []
    for _ in range(8):
        clock.now += 1000  # each guess after the wait ended
        waits.append(throttle.failed("sam", "10.0.0.1"))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.wait_seconds("sam", "10.0.0.9") == 60, "the account waits from anywhere"
    assert throttle.wait_seconds("alex", "10.0.0.1") == 60, "the address waits for any name"
    assert throttle.wait_seconds("alex", "10.0.0.9") == 0
    clock.now += 61
    assert throttle.wait_seconds("sam", "10.0.0.1") == 0


def test_a_right_password_clears_the_count() -> None:
    throttle = LoginThrottle(free=1, clock=Clock())
    throttle.failed("sam", "a")
    throttle.succeeded("sam", "a")
    assert throttle.failed("sam", "a") == 0


def test_guesses_from_many_addresses_use_bounded_memory() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=2, max_entries=100, clock=clock)
    for n in range(10_000):
        throttle.failed("sam", f"10.0.{n // 256}.{n % 256}")
    assert throttle.entries() <= 200
    assert throttle.wait_seconds("sam", "192.0.2.1") > 0, "the account is still held"


def test_retry_after_is_whole_seconds() -> None:
    assert retry_after(0.2) == "1" and retry_after(2.5) == "3"
