"""House rules of the template that no bake would catch by itself."""

from __future__ import annotations

import re

from conftest import TEMPLATE_ROOT

PROJECT = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
JINJA = re.compile(r"\{\{|\{%|\{#")


def test_no_jinja_inside_python_files() -> None:
    """Options are config values and pruned files, never template logic in code."""
    offenders = [
        f"{path.relative_to(TEMPLATE_ROOT)}:{number}"
        for path in sorted(PROJECT.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if JINJA.search(line)
    ]
    assert offenders == []


def test_generated_workflows_are_copied_without_rendering() -> None:
    """Workflow files hold GitHub's ${{ }} only; they must not need cookiecutter values."""
    for path in sorted((PROJECT / ".github" / "workflows").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        assert "cookiecutter" not in text, path.name
        assert "{%" not in text, path.name
