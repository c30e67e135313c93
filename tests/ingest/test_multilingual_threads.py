"""The multilingual engine runs the threads it is set to, in whichever thread calls it."""

from __future__ import annotations

import ctypes
import os
import threading

import pytest

from ingest import multilingual

pytestmark = pytest.mark.skipif(
    multilingual.unavailable_reason() is not None, reason="the multilingual encoder cannot run"
)


def _openmp_threads_seen_by_a_new_thread(encoder: multilingual.MultilingualEncoder) -> int:
    """omp_get_max_threads in a fresh thread right after it asked the engine a question.

    torch is loaded first, as in `ingest` and `serve`: the engine's loops then run on
    torch's OpenMP runtime, whose default for a thread that set nothing is every core.
    """
    get_threads = ctypes.CDLL(None).omp_get_max_threads
    seen: list[int] = []

    def ask() -> None:
        encoder.embed_query("Quels sont les principes fondamentaux ?")
        seen.append(get_threads())

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join()
    return seen[0]


@pytest.fixture
def torch_runtime():
    torch = pytest.importorskip("torch")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: one thread is also the runtime's default")
    if not hasattr(ctypes.CDLL(None), "omp_get_max_threads"):
        pytest.skip("torch's OpenMP runtime is not in the global symbol scope here")
    return torch


def test_one_thread_holds_in_a_request_thread_that_never_set_one(torch_runtime) -> None:
    assert _openmp_threads_seen_by_a_new_thread(multilingual.MultilingualEncoder(1)) == 1


def test_zero_follows_the_minilm_encoders_threads(torch_runtime) -> None:
    before = torch_runtime.get_num_threads()
    try:
        torch_runtime.set_num_threads(1)
        assert multilingual.engine_threads(0) == 1
        assert _openmp_threads_seen_by_a_new_thread(multilingual.MultilingualEncoder(0)) == 1
        torch_runtime.set_num_threads(2)
        assert multilingual.engine_threads(0) == 2
        assert _openmp_threads_seen_by_a_new_thread(multilingual.MultilingualEncoder(0)) == 2
    finally:
        torch_runtime.set_num_threads(before)
    assert multilingual.engine_threads(3) == 3
