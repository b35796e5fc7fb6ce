"""The package's shape: every module and subpackage says what lives in it, and its imports
keep the direction declared in pyproject.toml (`[tool.importlinter]`), which fails otherwise."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the contracts of `project/pyproject.toml` (found in the working
    directory: every import-linter version reads it there) on the package under `project/src`."""
    command = Path(sys.executable).with_name("lint-imports")
    assert command.is_file(), f"lint-imports not installed next to {sys.executable}: `make setup`"
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run(
        [str(command), "--no-cache", "--no-logo"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_import_contracts() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module_file", "added", "contract", "offence"),
    [
        (  # a core module importing a feature
            "model/features.py",
            "from ..serving import store",
            "Entry points -> features -> core",
            "{package}.model.features -> {package}.serving.store",
        ),
        (  # a feature importing an entry point
            "tuning/study.py",
            "from ..stages import train",
            "Entry points -> features -> core",
            "{package}.tuning.study -> {package}.stages.train",
        ),
        (  # a library module importing the command line
            "data/raw.py",
            "from .. import cli",
            "No library module imports the command line",
            "{package}.data.raw -> {package}.cli",
        ),
        (  # a circle inside one package (store.py is imported by service.py)
            "serving/store.py",
            "from . import service",
            "No import circle",
            "No cycles are allowed in {package}.serving.",
        ),
    ],
)
def test_the_contracts_fail_on_a_wrong_import(
    tmp_path: Path, module_file: str, added: str, contract: str, offence: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(SOURCE, project / "src" / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    target = project / "src" / PACKAGE / module_file
    target.write_text(target.read_text(encoding="utf-8") + f"\n{added}\n", encoding="utf-8")
    done = lint_imports(project)
    assert done.returncode != 0, done.stdout[-3000:]
    broken = done.stdout[done.stdout.index("Broken contracts") :]
    assert contract in broken
    assert offence.format(package=PACKAGE) in broken
