"""The running app over HTTP: the `ask` API for gradio_client and the document route."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from assistant.web.app import EXAMPLE_QUESTIONS
from assistant.web.documents import DOCUMENT_CSP

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        # A hang guard only: a page served while both cores are busy can take seconds.
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_ask_cites_the_principles_document(client) -> None:
    answer = client.predict("What are the five core principles?", api_name="/ask")
    assert answer["refused"] is False
    assert "[1]" in answer["answer"]
    assert "02-principles.pdf" in {c["source"] for c in answer["citations"]}
    first = answer["citations"][0]
    assert {"n", "source", "title", "page", "section", "text", "quote", "score"} <= set(first)


def test_out_of_scope_question_is_refused_with_pointers(client) -> None:
    answer = client.predict("What is the capital of France?", api_name="/ask")
    assert answer["refused"] is True
    assert answer["citations"] == []
    assert answer["answer"] == "The corpus does not cover this question."
    assert answer["nearest"], "a refusal points to the nearest documents"


def test_history_is_accepted_for_follow_ups(client) -> None:
    answer = client.predict(
        "And what does the first one mean?", ["What are the five core principles?"], api_name="/ask"
    )
    assert set(answer) >= {"question", "answer", "refused", "citations"}


def test_empty_question_is_a_clear_error_not_a_traceback(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/ask")


@pytest.mark.parametrize("question", EXAMPLE_QUESTIONS)
def test_every_example_question_is_answered(client, question: str) -> None:
    answer = client.predict(question, api_name="/ask")
    assert answer["refused"] is False and answer["citations"], question


def test_only_ask_is_in_the_api(client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_documents_are_served_from_the_corpus_folder_only(app_server) -> None:
    status, headers, body = _get(app_server.url + "corpus/02-principles.pdf")
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert body.startswith(b"%PDF")
    status, headers, _ = _get(app_server.url + "corpus/responsible-ai-lab.html")
    assert status == 200 and headers["content-security-policy"] == DOCUMENT_CSP
    assert headers["x-content-type-options"] == "nosniff"
    for outside in (
        "corpus/manifest.toml",
        "corpus/%2e%2e/pyproject.toml",
        "corpus/..%2fpyproject.toml",
        "corpus/%2fetc%2fpasswd",
        "corpus/missing.pdf",
        "corpus/%00",
    ):
        assert _get(app_server.url + outside)[0] == 404, outside
