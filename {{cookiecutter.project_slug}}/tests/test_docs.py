"""The README and docs/: every relative link and anchor resolves, the README stays short and
lists every Make target that has a help line."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from helpers import ROOT

README_MAX_LINES = 150
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def markdown_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def without_code(text: str) -> str:
    """The text with fenced blocks and code spans blanked (links there are not links)."""
    text = FENCE.sub("", text)
    return CODE_SPAN.sub("", text)


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lower-cased, punctuation other than `-` and `_`
    removed, spaces turned into `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a Markdown text; repeated slugs get -1, -2, ... as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        slug = github_slug(match.group(1))
        found.add(slug if seen[slug] == 0 else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def broken_links(file: Path, root: Path) -> list[str]:
    """Each relative link of `file` whose target or anchor does not exist, as a message."""
    problems = []
    for target in INLINE_LINK.findall(without_code(file.read_text(encoding="utf-8"))):
        if EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        destination = (file.parent / path_part).resolve() if path_part else file
        where = f"{file.relative_to(root)}: link {target!r}"
        if not destination.is_relative_to(root.resolve()):
            problems.append(f"{where} leaves the repository")
        elif not destination.exists():
            problems.append(f"{where}: no such file {path_part!r}")
        elif (
            anchor
            and destination.suffix == ".md"
            and anchor not in anchors(destination.read_text(encoding="utf-8"))
        ):
            problems.append(f"{where}: no heading with anchor #{anchor} in {path_part or 'it'}")
    return problems


def test_every_relative_link_and_anchor_resolves() -> None:
    files = markdown_files(ROOT)
    assert len(files) > 5, "docs/ has its pages"
    problems = [problem for file in files for problem in broken_links(file, ROOT)]
    assert problems == []


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {target.partition("#")[0] for target in INLINE_LINK.findall(readme)}
    pages = {path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set()


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES


def test_the_readme_lists_every_make_target_with_help() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-zA-Z_-]+):.*?## ", makefile, re.MULTILINE))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `make ([a-zA-Z_-]+)` \|", readme, re.MULTILINE))
    assert "setup" in targets
    assert listed == targets


# --- the checker itself ---


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("The configuration (`conf/`)", "the-configuration-conf"),
        ("Drift: the `drift` stage and the monitor", "drift-the-drift-stage-and-the-monitor"),
        ("What reaches main's image", "what-reaches-mains-image"),
        ("Listing: `make registry`", "listing-make-registry"),
        ("A [linked](other.md) heading_with_underscore", "a-linked-heading_with_underscore"),
    ],
)
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_the_checker_finds_broken_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(
        "# Page\n\n## Usage\n\n## Usage\n\n```md\n# Not a heading\n```\n", encoding="utf-8"
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        "\n".join(
            [
                "# Title",
                "[ok](docs/page.md) [ok](docs/page.md#usage) [ok](docs/page.md#usage-1)",
                "[ok](#title) [ok](https://example.org/x.md#nope) `[code](missing.md)`",
                "```",
                "[in a block](missing.md)",
                "```",
                "[gone](docs/gone.md) [bad anchor](docs/page.md#usage-2)",
                "[not a heading](docs/page.md#not-a-heading) [here](#nowhere)",
                "[outside](../x.md)",
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path.parent / "x.md").write_text("# X\n", encoding="utf-8")
    assert broken_links(readme, tmp_path) == [
        "README.md: link 'docs/gone.md': no such file 'docs/gone.md'",
        "README.md: link 'docs/page.md#usage-2': no heading with anchor #usage-2 in docs/page.md",
        "README.md: link 'docs/page.md#not-a-heading': no heading with anchor #not-a-heading in "
        "docs/page.md",
        "README.md: link '#nowhere': no heading with anchor #nowhere in it",
        "README.md: link '../x.md' leaves the repository",
    ]
