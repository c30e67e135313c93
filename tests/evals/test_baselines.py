"""The tutorial baseline's placement of a raw Markdown/HTML chunk under its headings."""

from __future__ import annotations

from evals.baselines import sections_spanned

MARKDOWN = (
    "# Glossary\n\n## 1 Basic concepts\n\n### 1.1 AI\ntext\n"
    "### 1.2 **Machine** learning\nmore\n## 2 Data\n"
)


def test_a_chunk_counts_for_the_sections_it_holds_text_of() -> None:
    start = MARKDOWN.index("text")
    end = MARKDOWN.index("more") + 4
    assert (
        sections_spanned(MARKDOWN, start, end)
        == "Glossary > 1 Basic concepts > 1.1 AI > 1.2 Machine learning"
    )
    assert sections_spanned(MARKDOWN, MARKDOWN.index("## 2"), len(MARKDOWN)) == "Glossary > 2 Data"


def test_html_headings() -> None:
    html = (
        '<h1>Lab</h1><p>x</p><h2 id="a">3 A <em>focal</em> point</h2><p>y</p><h3>3.1 Awareness</h3>'
    )
    assert (
        sections_spanned(html, html.index("<p>y"), html.index("<p>y") + 5)
        == "Lab > 3 A focal point"
    )
