"""The app's HTML: everything from documents and users is inert, quotes are marked."""

from __future__ import annotations

from assistant.qa.models import REFUSAL_TEXT, Answer, Citation, Passage
from assistant.web.render import (
    DRAFT_LABEL,
    DRAFT_NOTE,
    MAX_QUOTE_CHARS,
    MODEL_LABEL,
    answer_html,
    banner_html,
    document_url,
    draft_html,
    highlight,
    message_html,
    retrieved_html,
    sources_html,
    view_url,
)


def _citation(
    n: int = 1, source: str = "02-principles.pdf", page: int | None = 3, **kw
) -> Citation:
    fields = dict(
        title="Principles",
        section="4 Harm > 4.2 Safety",
        text="First sentence. Second one.",
        quote="Second one.",
        score=0.5,
    )
    fields.update(kw)
    return Citation(n=n, source=source, page=page, **fields)


def test_highlight_escapes_the_passage_and_marks_the_quote() -> None:
    html = highlight("A <b>bold</b> claim. The quoted one.", "The quoted one.")
    assert html == "A &lt;b&gt;bold&lt;/b&gt; claim. <mark>The quoted one.</mark>"


def test_highlight_escapes_markup_inside_the_quote() -> None:
    text = 'Before. <img src=x onerror="alert(1)"> is a tag. After.'
    html = highlight(text, '<img src=x onerror="alert(1)"> is a tag.')
    assert "<img" not in html
    assert "<mark>&lt;img src=x onerror=&quot;alert(1)&quot;&gt; is a tag.</mark>" in html


def test_highlight_matches_across_line_breaks_and_marks_each_fragment() -> None:
    text = "One two\nthree. Skipped sentence. Four\n  five."
    html = highlight(text, "One two three. \u2026 Four five.")
    assert html == "<mark>One two\nthree.</mark> Skipped sentence. <mark>Four\n  five.</mark>"


def test_highlight_leaves_text_unmarked_when_the_quote_is_absent() -> None:
    assert highlight("Plain & simple.", "Not there.") == "Plain &amp; simple."
    assert highlight("Plain.", "") == "Plain."


def test_answer_html_turns_markers_into_badges_and_lists_sources() -> None:
    answer = Answer(
        question="q",
        answer="Quoted <script>x()</script>. [1]\n- An item. [2]",
        refused=False,
        citations=[_citation(1), _citation(2, source="glossary.md", page=None, title="Glossary")],
    )
    html = answer_html(answer)
    assert "<script>" not in html and "&lt;script&gt;" in html
    # Each marker is a link to its source card, in the answer and in its source list.
    badge = '<a class="ta-cite ta-cite-link" href="#ta-source-1" data-ta-cite="1"'
    assert html.count(badge) == 2 and html.count('href="#ta-source-2"') == 2
    assert "\u2022 An item." in html
    # The viewer opens at the page or section, with the quote to highlight.
    assert 'href="view/02-principles.pdf?page=3&amp;quote=Second%20one."' in html
    assert (
        'href="view/glossary.md?section=4%20Harm%20%3E%204.2%20Safety&amp;quote=Second%20one.'
        '#ta-cited"' in html
    )
    assert "Open at the quote" in html
    assert 'href="#sources"' in html  # one tap to the sources on a narrow screen
    assert "language model" not in html  # quoted, not written by a model


def test_refusal_points_to_nearest_documents_not_passages() -> None:
    pointer = _citation(1, quote="", text="Passage text that is not evidence.")
    answer = Answer(question="<b>q</b>", answer=REFUSAL_TEXT, refused=True, pointers=[pointer])
    assert REFUSAL_TEXT in answer_html(answer)
    assert "ta-source-list" not in answer_html(answer)
    panel = sources_html(answer)
    assert "Nearest documents" in panel and "not as evidence" in panel
    assert "Principles" in panel and 'href="view/02-principles.pdf?page=3"' in panel
    assert "Passage text" not in panel and "<mark>" not in panel
    assert "&lt;b&gt;q&lt;/b&gt;" in panel


def test_sources_panel_shows_title_section_page_and_marked_quote() -> None:
    answer = Answer(
        question="q",
        answer="Second one. [1]",
        refused=False,
        citations=[_citation(1, title="T & <i>C</i>")],
    )
    panel = sources_html(answer)
    assert "T &amp; &lt;i&gt;C&lt;/i&gt;" in panel
    assert "4 Harm \u203a 4.2 Safety \u00b7 page 3" in panel
    assert "First sentence. <mark>Second one.</mark>" in panel
    assert "Open PDF at page 3" in panel
    assert "Ask a question" in sources_html(None)


def test_document_url_quotes_the_file_name_and_adds_the_pdf_page() -> None:
    assert document_url(_citation(page=7)) == "corpus/02-principles.pdf#page=7"
    assert document_url(_citation(page=None)) == "corpus/02-principles.pdf"
    assert document_url(_citation(source="notes.md", page=2)) == "corpus/notes.md"
    odd = document_url(_citation(source='sub/a "b"#c.pdf', page=1))
    assert odd == "corpus/sub/a%20%22b%22%23c.pdf#page=1"


def test_message_html_shows_markup_as_text() -> None:
    html = message_html('<img src=x onerror="alert(1)">', "ta-error")
    assert html == '<div class="ta-error">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</div>'


def test_banner_names_the_corpus_and_says_not_legal_advice() -> None:
    assert "Sample corpus" in banner_html("sample", 11) and "11 documents" in banner_html(
        "sample", 11
    )
    assert "Official corpus" in banner_html("official", 3)
    assert "Mixed corpus" in banner_html("mixed", 3)
    assert "&lt;x&gt;" in banner_html("<x>", 0)
    assert "not legal advice" in banner_html("sample", 1)


def test_a_notice_stands_above_the_answer_escaped() -> None:
    answer = Answer("q", "Quoted. [1]", False, [_citation()], notice="Model <down> & out.")
    html = answer_html(answer)
    assert html.index("Model &lt;down&gt; &amp; out.") < html.index("Quoted.")
    assert 'role="status"' in html


def test_the_draft_is_plain_escaped_text_flagged_as_unchecked() -> None:
    html = draft_html("The model wrote <img src=x onerror=alert(1)> [1]\n\n![x](http://a/b)")
    assert "<img" not in html and "&lt;img" in html
    assert "ta-cite" not in html  # a draft's numbers are not yet the shown citations
    assert "\n" not in html  # no blank line: the Chatbot never falls back to Markdown
    assert DRAFT_NOTE in html
    assert DRAFT_LABEL in html


def test_model_written_answers_are_labelled() -> None:
    answer = Answer(
        question="q",
        answer="A sentence. [1]",
        refused=False,
        citations=[_citation(1)],
        answerer="generative",
    )
    html = answer_html(answer)
    assert f'<p class="ta-model-label">{MODEL_LABEL}</p>' in html


def test_view_url_quotes_the_source_and_bounds_the_quote() -> None:
    url = view_url('sub/a "b"#c.md', None, "S", "x" * 5000)
    assert url.startswith("view/sub/a%20%22b%22%23c.md?section=S&quote=xxx")
    assert url.endswith("#ta-cited") and url.count("x") == MAX_QUOTE_CHARS


def test_retrieved_passages_fill_the_sources_panel_before_the_answer() -> None:
    passage = Passage(
        "c", "d", "02-principles.pdf", "Principles <b>", 3, "2 A", "Text & <i>more</i>", 0.9, 0.8
    )
    html = retrieved_html("Why <now>?", [passage])
    assert "Retrieved passages" in html and "Why &lt;now&gt;?" in html
    assert "Principles &lt;b&gt;" in html and "Text &amp; &lt;i&gt;more&lt;/i&gt;" in html
    assert 'href="view/02-principles.pdf?page=3"' in html  # no quote yet: the page


def test_the_banner_words_each_mix_of_official_agency_and_sample_documents() -> None:
    official_agency = banner_html("official+agency", 4)
    assert (
        "Mixed corpus: official Toolkit documents together with documents added by your agency."
        in official_agency
    )
    assert "sample" not in official_agency
    agency_sample = banner_html("agency+sample", 4)
    assert "documents added by your agency together with sample documents" in agency_sample
    assert "official" not in agency_sample
    every = banner_html("official+agency+sample", 4)
    assert (
        "official Toolkit documents, documents added by your agency and sample documents" in every
    )
    assert "Agency corpus" in banner_html("agency", 2)
    # A store published before agency documents existed says "mixed": official and sample.
    assert "official Toolkit documents together with sample documents" in banner_html("mixed", 3)


def test_an_arabic_answer_words_its_links_and_labels_in_arabic_right_to_left() -> None:
    answer = Answer(
        question="ما المبادئ؟",
        answer="There are five core principles. [1]",
        refused=False,
        citations=[
            _citation(1, example=True),
            _citation(2, source="glossary.md", page=None, title="Glossary"),
        ],
        more="Another sentence. [2]",
        language="ar",
    )
    html = answer_html(answer)
    assert 'lang="ar" dir="rtl"' in html
    for arabic in ("فتح ملف PDF في الصفحة 3", "فتح عند المقطع المقتبس", "الصفحة 3"):
        assert arabic in html
    assert "مقتطفات أخرى من المصادر" in html and "مثال، وليس قاعدة" in html
    assert "المصادر والمقاطع المقتبسة" in html
    for english in ("Open PDF", "Open at the quote", "More from the sources", "not a rule"):
        assert english not in html
    assert "There are five core principles." in html  # the quote stays as written
    panel = sources_html(answer)
    assert "فتح ملف PDF في الصفحة 3" in panel and "4.2 Safety \u00b7 الصفحة 3" in panel
