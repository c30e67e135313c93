"""'Explain the second one': an ordinal resolves to an item of the previous answer."""

from __future__ import annotations

from assistant.qa.models import Answer
from assistant.qa.service import Assistant


class PreviousAnswer:
    """Stands in for the Assistant: `ask` returns a fixed answer to the previous question."""

    def __init__(self, text: str, refused: bool = False) -> None:
        self.text = text
        self.refused = refused
        self.asked: list[str] = []

    def ask(self, question: str, history=None) -> Answer:
        self.asked.append(question)
        return Answer(question=question, answer=self.text, refused=self.refused)


PRINCIPLES = (
    "The toolkit sets out five principles: [1]\n- Lawfulness [1]\n- Minimization of harm [1]\n"
    "- Human autonomy [1]\n- Fairness [1]\n- Good governance [1]"
)


def resolve(previous: PreviousAnswer, question: str, history: list[str]) -> str:
    return Assistant.resolve_item(previous, question, history)


def test_the_second_one_is_the_second_item_of_the_previous_list() -> None:
    previous = PreviousAnswer(PRINCIPLES)
    resolved = resolve(previous, "Explain the second one.", ["What are the five principles?"])
    assert resolved == "Explain Minimization of harm."
    assert previous.asked == ["What are the five principles?"]
    assert "Human autonomy" in resolve(previous, "What does the third principle mean?", ["Q?"])
    assert "Good governance" in resolve(previous, "And the last one?", ["Q?"])


def test_items_listed_in_one_sentence_are_counted_too() -> None:
    previous = PreviousAnswer(
        "NIST has identified three major categories of AI bias: systemic, computational and "
        "statistical, and human-cognitive. [1]\nEach of these can occur without intent. [1]"
    )
    resolved = resolve(previous, "Explain the second one.", ["What are the categories of bias?"])
    assert resolved == "Explain computational and statistical."


def test_no_reference_no_history_or_a_refusal_leaves_the_question_alone() -> None:
    previous = PreviousAnswer(PRINCIPLES)
    assert resolve(previous, "What happened the first time?", ["Q?"]) == (
        "What happened the first time?"
    )
    assert resolve(previous, "Explain the second one.", []) == "Explain the second one."
    refused = PreviousAnswer("The corpus does not cover this question.", refused=True)
    assert resolve(refused, "Explain the second one.", ["Q?"]) == "Explain the second one."
