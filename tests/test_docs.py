"""The template's README and docs/: every relative link and anchor resolves (parsed with
markdown-it-py), and the README stays short."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from template_tools import TEMPLATE_DIR

README_MAX_LINES = 80
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...
PARSER = MarkdownIt("commonmark").enable("table")


def template_markdown(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def inline_children(text: str) -> list[tuple[Token, list[Token]]]:
    """(block token before it, children) of every inline token: headings and paragraphs."""
    tokens = PARSER.parse(text)
    return [(tokens[i - 1], t.children or []) for i, t in enumerate(tokens) if t.type == "inline"]


def github_slug(text: str) -> str:
    """GitHub's anchor for a heading's text: lower-cased, punctuation other than `-` and `_`
    removed, spaces turned into `-`."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor; a repeated slug gets -1, -2, ... as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for opener, children in inline_children(text):
        if opener.type != "heading_open":
            continue
        plain = "".join(c.content for c in children if c.type in {"text", "code_inline"})
        slug = github_slug(plain)
        found.add(slug if seen[slug] == 0 else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def link_targets(text: str) -> list[str]:
    """Every link and image target outside code."""
    found = []
    for _, children in inline_children(text):
        for child in children:
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


def broken_links(file: Path, root: Path) -> list[str]:
    """Each relative link of `file` whose file or anchor does not exist, as a message."""
    problems = []
    for target in link_targets(file.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        destination = (file.parent / path_part).resolve() if path_part else file
        where = f"{file.relative_to(root)}: link {target!r}"
        if not destination.is_relative_to(root.resolve()):
            problems.append(f"{where} leaves the repository")
        elif not destination.exists():
            problems.append(f"{where}: no such file")
        elif (
            anchor
            and destination.suffix == ".md"
            and anchor not in anchors(destination.read_text(encoding="utf-8"))
        ):
            problems.append(f"{where}: no heading with that anchor")
    return problems


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = [
        p for file in template_markdown(TEMPLATE_DIR) for p in broken_links(file, TEMPLATE_DIR)
    ]
    assert problems == []


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {t.partition("#")[0] for t in link_targets((TEMPLATE_DIR / "README.md").read_text())}
    pages = {p.relative_to(TEMPLATE_DIR).as_posix() for p in (TEMPLATE_DIR / "docs").glob("*.md")}
    assert pages - linked == set()


def test_the_readme_is_short() -> None:
    lines = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        (
            "## 5. Promotion: what `main` publishes, and why it rebuilds",
            "5-promotion-what-main-publishes-and-why-it-rebuilds",
        ),
        ("## Layout", "layout"),
        (
            "### Flat package (ba7f64a) against the grouped layout",
            "flat-package-ba7f64a-against-the-grouped-layout",
        ),
        ("## The *bold* [link](x.md) `code_span`", "the-bold-link-code_span"),
    ],
)
def test_heading_anchors(heading: str, slug: str) -> None:
    assert anchors(heading + "\n") == {slug}


def test_the_checker_finds_broken_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(
        "# Page\n\n## Usage\n\n## Usage\n\n```md\n# Not a heading\n```\n", encoding="utf-8"
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\n"
        "[ok](docs/page.md) [ok](docs/page.md#usage) [ok](docs/page.md#usage-1) [ok](#title)\n"
        "[ok](https://example.org/x.md#nope) `[code](missing.md)`\n\n"
        "```\n[in a block](missing.md)\n```\n\n"
        "[gone](docs/gone.md) [bad](docs/page.md#usage-2) [fenced](docs/page.md#not-a-heading)\n"
        "[here](#nowhere) [outside](../x.md)\n",
        encoding="utf-8",
    )
    assert broken_links(readme, tmp_path) == [
        "README.md: link 'docs/gone.md': no such file",
        "README.md: link 'docs/page.md#usage-2': no heading with that anchor",
        "README.md: link 'docs/page.md#not-a-heading': no heading with that anchor",
        "README.md: link '#nowhere': no heading with that anchor",
        "README.md: link '../x.md' leaves the repository",
    ]
