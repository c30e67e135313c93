"""Server-side sessions end when idle, on sign-out and when their account goes."""

from __future__ import annotations

from assistant.access.sessions import SessionTable


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_the_idle_time_and_use_extends_it() -> None:
    clock = Clock()
    table = SessionTable(idle_seconds=60, clock=clock)
    token = table.create("sam")
    assert len(token) >= 40 and table.user(token) == "sam"
    clock.now = 59
    assert table.user(token) == "sam"
    clock.now = 118  # 59 s after the last use
    assert table.user(token) == "sam"
    clock.now = 179  # 61 s idle
    assert table.user(token) is None and table.user(token) is None


def test_unknown_tokens_sign_out_and_dropped_users() -> None:
    table = SessionTable(idle_seconds=60, clock=Clock())
    assert table.user(None) is None and table.user("made-up") is None
    first, second, other = table.create("sam"), table.create("sam"), table.create("olive")
    table.drop(first)
    assert table.user(first) is None and table.user(second) == "sam"
    table.drop_user("sam")
    assert table.user(second) is None and table.user(other) == "olive"


def test_the_table_is_bounded() -> None:
    table = SessionTable(idle_seconds=60, max_sessions=10, clock=Clock())
    tokens = [table.create(f"u{n}") for n in range(50)]
    assert len(table) == 10 and table.user(tokens[0]) is None and table.user(tokens[-1]) == "u49"
