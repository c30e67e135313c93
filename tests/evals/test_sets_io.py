"""The eval-set reader: the JSONL contract, and one-line errors naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.sets_io import EvalSetError, GoldRef, read_eval_set

ROOT = Path(__file__).resolve().parents[2]


def write_set(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "mini.jsonl"
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FACTOID = {
    "id": "q1",
    "question": "Who?",
    "kind": "factoid",
    "gold": [{"source": "a.pdf", "pages": [3, 2]}],
    "key_facts": ["UNICRI"],
}
OUT = {
    "id": "q2",
    "question": "Price of a GPU?",
    "kind": "out_of_scope",
    "gold": [],
    "key_facts": [],
}
FOLLOW_UP = {
    "id": "q3",
    "question": "And the other?",
    "kind": "follow-up",
    "gold": [{"source": "glossary.md", "section": "1.7 Model"}],
    "key_facts": [],
    "history": ["What is a model?"],
}


def test_reads_the_contract_into_dataclasses(tmp_path: Path) -> None:
    eval_set = read_eval_set(write_set(tmp_path, FACTOID, "", OUT, FOLLOW_UP))
    assert eval_set.name == "mini"
    first, second, third = eval_set.questions
    assert first.gold == (GoldRef("a.pdf", pages=(2, 3)),) and first.key_facts == ("UNICRI",)
    assert first.line == 1 and third.line == 4
    assert not second.in_scope and second.gold == ()
    assert third.history == ("What is a model?",)
    assert third.gold[0].section == "1.7 Model"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("{not json", "not valid JSON"),
        ({**FACTOID, "kind": "trivia"}, "unknown kind 'trivia'"),
        ({**FACTOID, "gold": []}, "needs at least one 'gold' entry"),
        ({**OUT, "key_facts": ["x"]}, "must have empty 'gold' and 'key_facts'"),
        ({**FOLLOW_UP, "history": []}, "needs 'history'"),
        ({**FACTOID, "gold": [{"source": "a.pdf", "pages": [0]}]}, "1-based page numbers"),
        ({**FACTOID, "gold": [{"source": "a.pdf", "pages": [True]}]}, "1-based page numbers"),
        ({**FACTOID, "gold": [{"source": "a.pdf"}]}, "either 'pages' (PDF) or 'section'"),
        ({**FACTOID, "gold": [{"source": "dir/a.pdf", "pages": [1]}]}, "base name"),
        ({**FACTOID, "gold_pages": [1]}, "unknown key(s) gold_pages"),
        ({**FACTOID, "question": " "}, "'question' must be a non-empty string"),
        ({**FACTOID, "key_facts": "UNICRI"}, "'key_facts' must be a list of strings"),
    ],
)
def test_a_bad_line_raises_one_line_naming_file_and_line(tmp_path: Path, row, problem) -> None:
    path = write_set(tmp_path, OUT, row)
    with pytest.raises(EvalSetError) as caught:
        read_eval_set(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ") and problem in message
    assert "\n" not in message


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match=r"mini.jsonl:2: duplicate id 'q1' \(first on line 1\)"):
        read_eval_set(write_set(tmp_path, FACTOID, FACTOID))


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match="no such eval set file"):
        read_eval_set(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="has no questions"):
        read_eval_set(tmp_path / "empty.jsonl")


def test_section_gold_matches_any_heading_component_case_insensitively() -> None:
    ref = GoldRef("glossary.md", section="1.7 Model")
    assert ref.matching_unit("glossary.md", None, "1 Basic concepts > 1.7 MODEL")
    assert ref.matching_unit("sub/glossary.md", None, "1.7 Model")
    assert not ref.matching_unit("glossary.md", None, "1 Basic concepts > 1.7 Models")
    assert not ref.matching_unit("other.md", None, "1.7 Model")


def test_page_gold_matches_its_pages_only() -> None:
    ref = GoldRef("a.pdf", pages=(2, 3))
    assert ref.matching_unit("a.pdf", 3, "any") == "a.pdf#p3"
    assert ref.matching_unit("a.pdf", 4, "any") is None
    assert ref.units() == ["a.pdf#p2", "a.pdf#p3"]


@pytest.mark.parametrize("name", ["nist.jsonl", "sample.jsonl"])
def test_the_committed_sets_follow_the_contract(name: str) -> None:
    path = ROOT / "evals" / "sets" / name
    if not path.exists():
        pytest.skip(f"{name} not written yet")
    assert read_eval_set(path).questions
