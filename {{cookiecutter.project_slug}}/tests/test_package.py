"""The package's shape: every module and subpackage says what lives in it."""

from __future__ import annotations

import ast
import re

import pytest

from helpers import PACKAGE, ROOT

SOURCE = ROOT / "src" / PACKAGE
PLACEHOLDER = re.compile(
    r"\b(TODO|FIXME|TBD|XXX)\b|^\W*(placeholder|docstring)?\W*$", re.IGNORECASE
)
MIN_WORDS = 4


def docstring_problem(source: str) -> str | None:
    """Why a module's docstring does not say what lives there, or None when it does."""
    text = ast.get_docstring(ast.parse(source))
    if text is None or not text.strip():
        return "no docstring"
    if PLACEHOLDER.search(text):
        return f"placeholder docstring {text.splitlines()[0]!r}"
    if len(text.split()) < MIN_WORDS:
        return f"docstring too short to say what lives here: {text!r}"
    return None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"""TODO"""\n', "placeholder"),
        ('"""Scoring helpers. TODO: explain."""\n', "placeholder"),
        ('""""""\n', "no docstring"),
        ("import os\n", "no docstring"),
        ('"""..."""\n', "placeholder"),
        ('"""Serving."""\n', "too short"),
    ],
)
def test_docstring_check_rejects_placeholders(source: str, expected: str) -> None:
    problem = docstring_problem(source)
    assert problem is not None
    assert expected in problem


def test_docstring_check_accepts_a_real_docstring() -> None:
    assert docstring_problem('"""Reading raw tables with clear errors."""\n') is None


def test_every_module_and_package_has_a_true_docstring() -> None:
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 20, f"expected the package's modules under {SOURCE}"
    problems = {
        str(path.relative_to(SOURCE)): problem
        for path in files
        if (problem := docstring_problem(path.read_text(encoding="utf-8")))
    }
    assert problems == {}
