"""Documents built to be slow to read: the worst cases a loader must take in linear time.

Each is about 1 MB. Used by tests/ingest/test_hostile_files.py (behaviour) and by
bench/loaders.py (timings).
"""

from __future__ import annotations

SIZE = 1_000_000


def _fill(unit: str, size: int = SIZE) -> str:
    return unit * (size // len(unit))


def hostile_markdown(size: int = SIZE) -> dict[str, str]:
    """Runs of emphasis, link and image markers that quadratic parsers choke on."""
    return {
        "emphasis-runs.md": "# Emphasis\n\n" + _fill(" *a", size),
        "underscore-runs.md": "# Underscores\n\n" + _fill(" _a", size),
        "open-brackets.md": "# Brackets\n\n" + _fill("[", size),
        "image-openers.md": "# Images\n\n" + _fill("![", size),
        "unclosed-links.md": "# Links\n\n" + _fill("[a](", size),
        "links-over-lines.md": "# Lines\n\n" + _fill("[a\n", size),
        "emphasis-pairs.md": "# Nested\n\n" + _fill("*a **a ", size),
        "backtick-ladder.md": "# Code\n\n" + "".join("`" * n + "a" for n in range(1, 1400))[:size],
        "nested-quotes.md": "# Quotes\n\n" + _fill("> ", size) + "deep",
        "nested-lists.md": "# Lists\n\n"
        + "".join("  " * n + "- item\n" for n in range(300))
        + _fill("- item\n", size - 300 * 300),
    }


def hostile_html(size: int = SIZE) -> dict[str, str]:
    """Deeply nested and unclosed tags."""
    return {
        "nested-divs.html": _fill("<div>a", size),
        "nested-bold.html": _fill("<b>", size) + "text",
        "nested-headings.html": _fill("<h2>x", size),
        "unclosed-paragraphs.html": _fill("<p>x", size),
        "nested-lists.html": _fill("<ul><li>x", size),
        "nested-tables.html": _fill("<table><tr><td>", size),
        "closed-nesting.html": "<div>" * (size // 11) + "x" + "</div>" * (size // 11),
        "many-scripts.html": _fill("<script>x</script>y", size),
    }
