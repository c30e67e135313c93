"""`toolkit-assistant ask` as a script calls it: the CLI's own `main`, the real store, `--json`;
once as a real subprocess (the last test), for what only a process shows.

`Answer.to_dict` is a contract other tools parse, so keys and types are checked exactly.
User errors must be one line on stderr with a usage status, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from app_calls import free_port
from paths import CORPUS, REPO

pytestmark = pytest.mark.integration

ANSWER_KEYS = {"question", "answer", "more", "refused", "citations", "timings_ms", "answerer"}
CITATION_TYPES = {
    "n": int,
    "source": str,
    "title": str,
    "page": (int, type(None)),
    "section": str,
    "text": str,
    "quote": str,
    "score": float,
    "example": bool,
}
POINTER_KEYS = {"source", "title", "page", "section"}


def run_ask(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`main(["ask", ...])` in this process: the encoder is loaded once for the session,
    where a subprocess per test loaded it again (~12 s each). Same result shape."""
    from assistant.cli import main

    argv = ["ask", *args, "--store", str(store)]
    out, err = io.StringIO(), io.StringIO()
    environment = {"TOOLKIT_ASSISTANT_STORE": str(store), "TOOLKIT_ASSISTANT_CORPUS": str(CORPUS)}
    with (
        mock.patch.dict(os.environ, environment),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse's own usage errors
            status = exit_.code
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def run_ask_process(store: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,  # already pointed at a temporary state folder by the autouse fixture
        "TOOLKIT_ASSISTANT_STORE": str(store),
        "TOOLKIT_ASSISTANT_CORPUS": str(CORPUS),
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", *args, "--store", str(store)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ask_json(store: Path, *args: str) -> dict:
    result = run_ask(store, *args, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def test_json_answer_follows_the_contract(sample_store: Path) -> None:
    question = "What does proportionality mean?"
    data = ask_json(sample_store, question)
    assert set(data) == ANSWER_KEYS
    assert data["question"] == question
    assert data["refused"] is False and data["answerer"] == "extractive"
    assert isinstance(data["answer"], str) and data["answer"]
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    assert all(isinstance(v, float) and v >= 0 for v in data["timings_ms"].values())
    assert data["citations"]
    for number, citation in enumerate(data["citations"], start=1):
        assert set(citation) == set(CITATION_TYPES)
        for key, expected in CITATION_TYPES.items():
            assert isinstance(citation[key], expected), (key, citation[key])
        assert citation["n"] == number
        assert f"[{number}]" in data["answer"] + data["more"]
        assert citation["quote"] and citation["quote"].split(" \u2026 ")[0] in citation["text"]
        assert (CORPUS / citation["source"]).is_file()


def test_k_limits_the_passages_an_answer_can_cite(sample_store: Path) -> None:
    """`--k` is the number of passages retrieved; each citation is a distinct passage."""
    question = "What should a police agency check before procuring an AI system?"
    wide = ask_json(sample_store, question, "--k", "8")
    assert len(wide["citations"]) > 2, "control: this question cites more than 2 passages"
    narrow = ask_json(sample_store, question, "--k", "2")
    assert not narrow["refused"]
    assert 1 <= len(narrow["citations"]) <= 2


def test_an_out_of_scope_question_is_refused_with_exit_status_0(sample_store: Path) -> None:
    data = ask_json(sample_store, "What is the current price of an NVIDIA H100 GPU?")
    assert set(data) == ANSWER_KEYS | {"nearest"}
    assert data["refused"] is True and data["citations"] == []
    assert data["answer"] == "The corpus does not cover this question."
    for pointer in data["nearest"]:
        assert set(pointer) == POINTER_KEYS


def test_a_follow_up_uses_its_history(sample_store: Path) -> None:
    data = ask_json(
        sample_store,
        "And how is it calculated?",
        "--history",
        "What is the risk score in the risk assessment guide?",
    )
    assert not data["refused"]
    assert any(c["source"] == "05-risk-assessment-guide.pdf" for c in data["citations"])


@pytest.mark.parametrize("question", ["", "   \t  "])
def test_an_empty_question_is_a_usage_error(sample_store: Path, question: str) -> None:
    line = assert_one_line_error(run_ask(sample_store, question, "--json"), status=2)
    assert "the question is empty" in line


def test_an_overlong_question_is_a_usage_error(sample_store: Path) -> None:
    line = assert_one_line_error(run_ask(sample_store, "why " * 5000), status=2)
    assert "the limit is 2,000" in line


def test_an_invalid_k_is_a_usage_error(sample_store: Path) -> None:
    line = assert_one_line_error(run_ask(sample_store, "What is AI?", "--k", "0"), status=2)
    assert "retrieval.k" in line


def test_an_empty_store_is_one_line_and_status_1(tmp_path: Path) -> None:
    line = assert_one_line_error(run_ask(tmp_path / "empty-store", "What is AI?"), status=1)
    assert "ingest" in line


def test_answerer_generative_with_its_endpoint_down_prints_the_notice_and_quotes(
    sample_store: Path,
) -> None:
    down = {
        "TOOLKIT_ASSISTANT_GENERATION__BACKEND": "openai",
        "TOOLKIT_ASSISTANT_GENERATION__BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "TOOLKIT_ASSISTANT_GENERATION__MODEL": "any",
    }
    # One process (each loads the encoder): the JSON side is covered in-process by
    # test_generative_llm.py.
    result = run_ask_process(
        sample_store, "What does proportionality mean?", "--answerer", "generative", **down
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    note, blank, quoted = result.stdout.splitlines()[:3]
    assert note.startswith("Note: The language model could not be reached") and blank == ""
    assert quoted.endswith("[1]")


def test_a_broken_query_adapter_file_is_one_line_and_status_1(
    sample_store: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "adapter.npz"
    broken.write_bytes(b"truncated")
    with mock.patch.dict(
        os.environ, {"TOOLKIT_ASSISTANT_RETRIEVAL__QUERY_ADAPTER_FILE": str(broken)}
    ):
        line = assert_one_line_error(run_ask(sample_store, "What is AI?"), status=1)
    assert str(broken) in line and "adapter_weight" in line
