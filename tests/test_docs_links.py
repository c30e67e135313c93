"""Every relative link in README.md and docs/*.md leads somewhere: a file that exists and,
for a Markdown anchor, a heading of that file (as GitHub names its anchors)."""

from __future__ import annotations

import re
from pathlib import Path

from paths import REPO

# Our own pages, bounded in size: plain patterns, no nested quantifiers.
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^()\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _prose(text: str) -> str:
    """The text outside code blocks, with inline code kept (headings name commands in it)."""
    return _FENCE.sub("", text)


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, no punctuation, hyphens for spaces, -1 on repeats."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(_prose(text)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def broken_links(page: Path) -> list[str]:
    problems = []
    prose = _CODE_SPAN.sub("", _prose(page.read_text()))
    for target in _LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            problems.append(f"{page.name}: {target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            problems.append(f"{page.name}: {target}: no heading #{anchor} in {linked.name}")
    return problems


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = [problem for page in pages() for problem in broken_links(page)]
    assert not problems, "\n".join(problems)


def test_the_readme_links_every_docs_page() -> None:
    readme = (REPO / "README.md").read_text()
    unlinked = [
        p.name
        for p in sorted((REPO / "docs").glob("*.md"))
        if f"(docs/{p.name}" not in readme and not p.name.startswith("pending-")
    ]
    # The threat model is one click away, from the security page.
    assert unlinked in ([], ["security-threat-model.md"]), unlinked


def test_the_check_finds_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `flag` section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-flag-section) [ok](#title) [web](https://example.org/x)\n"
        "# Title\n\n[gone](missing.md) [bad anchor](other.md#nowhere)\n"
        "```\n[in code](not-checked.md)\n```\n`[inline](not-checked.md)`\n"
    )
    problems = broken_links(page)
    assert len(problems) == 2, problems
    assert "missing.md" in problems[0] and "#nowhere" in problems[1]


def test_anchors_follow_github() -> None:
    text = "# Client/server Chroma\n## `ingest`\n## What ships in `corpus/`\n## Users\n## Users\n"
    assert anchors(text) == {
        "clientserver-chroma",
        "ingest",
        "what-ships-in-corpus",
        "users",
        "users-1",
    }


def test_the_threat_model_names_assets_attackers_controls_and_what_is_out_of_scope() -> None:
    """Issue 14: the page an inspector reads first keeps its four parts."""
    text = (REPO / "docs" / "security-threat-model.md").read_text(encoding="utf-8")
    headings = [h.lower() for h in _HEADING.findall(_prose(text))]
    for part in ("assets", "attackers", "controls", "out of scope"):
        assert any(h.startswith(part) for h in headings), (part, headings)
