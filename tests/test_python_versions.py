"""Each python_version option on a real interpreter, and the other options' bakes linted.

For every `python_version` choice: one bake, `make setup` on the OLDEST patch release of that
minor version that this machine has and that the project's requires-python accepts (the floor
is what needs proving), then its `make lint` and `make test`. The default choice's bake is the
shared default bake (conftest.py sets it up on that interpreter), whose `make lint` and complete
`make test-all` in tests/test_e2e_pipeline.py are its lane. A choice with no such interpreter
is skipped, naming the version and where the test looked. `make setup` must refuse an
interpreter outside requires-python.

The options that change other generated files (`dvc_remote`, `container_registry`,
`xgboost_build`, `license`, `create_git_repository`): the bakes of tests/test_bake.py whose
answers together cover every value get `make lint` in their own environment (test_bake.py
checks each one's lock).

`TEMPLATE_TEST_PYTHONS=3.10,3.12` limits the python_version choices tested (CI: one per job).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import pythons
from conftest import bake, run
from pythons import (
    DEFAULT_OPTION,
    PYTHON_OPTIONS,
    SEARCHED,
    Interpreter,
    check_python,
    interpreters,
    requires_python,
)
from template_tools import choice_options, isolate_git
from test_bake import CASES

pytestmark = pytest.mark.e2e

# Options whose values change generated files other than .python-version.
FILE_OPTIONS = (
    "dvc_remote",
    "container_registry",
    "xgboost_build",
    "license",
    "create_git_repository",
)


def oldest_accepted(option: str) -> Interpreter:
    """The oldest patch release of `option` (e.g. 3.11) here that requires-python accepts."""
    found = pythons.oldest_accepted(option)
    if found is None:
        refused = ", ".join(f"{i.shown} ({i.path})" for i in pythons.same_minor(option))
        why = f"only {refused}, outside {requires_python()!r}" if refused else "none found"
        pytest.skip(
            f"python_version={option} not tested: no CPython {option}.x interpreter that "
            f"requires-python {requires_python()!r} accepts on this machine ({why}; looked in "
            f"{SEARCHED}). The template's tests install none."
        )
    return found


def selected_options() -> list[str]:
    chosen = os.environ.get("TEMPLATE_TEST_PYTHONS", "").strip()
    return [o.strip() for o in chosen.split(",")] if chosen else PYTHON_OPTIONS


@dataclass(frozen=True)
class VersionBake:
    option: str
    interpreter: Interpreter
    project: Path

    @property
    def env(self) -> dict[str, str]:
        return self.interpreter.env


@pytest.fixture(scope="module")
def isolated_git(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_git(monkeypatch, tmp_path_factory.mktemp("gitconfig"))
        yield


_BAKES: dict[str, VersionBake] = {}


def set_up_bake(
    option: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> VersionBake:
    """The bake of one python_version choice, set up with `make setup` on its oldest Python.

    The default choice's is conftest's `default_project`, set up on that same interpreter: its
    `make lint` and complete `make test-all` (tests/test_e2e_pipeline.py) are that choice's
    lane, so it is not linted and tested a second time here.
    """
    if option not in selected_options():
        pytest.skip(f"python_version={option} not tested: TEMPLATE_TEST_PYTHONS selects others")
    interpreter = oldest_accepted(option)
    if option not in _BAKES:
        if option == DEFAULT_OPTION:
            project = request.getfixturevalue("default_project")
        else:
            project = bake(tmp_path_factory.mktemp(f"python-{option}"), python_version=option)
            run(["make", "setup"], project, env=interpreter.env, timeout=900)
        _BAKES[option] = VersionBake(option, interpreter, project)
    return _BAKES[option]


@pytest.fixture(scope="module", params=PYTHON_OPTIONS)
def version_bake(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, isolated_git: None
) -> VersionBake:
    """Every python_version choice's bake (the default's is the shared default bake)."""
    return set_up_bake(request.param, request, tmp_path_factory)


@pytest.fixture(scope="module", params=[o for o in PYTHON_OPTIONS if o != DEFAULT_OPTION])
def lane_bake(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, isolated_git: None
) -> VersionBake:
    """The other choices' bakes: their lint and fast lane run here."""
    return set_up_bake(request.param, request, tmp_path_factory)


def test_setup_installs_on_the_oldest_accepted_interpreter(version_bake: VersionBake) -> None:
    probe = "import sys; print(*sys.version_info[:3])"
    venv_python = version_bake.project / ".venv" / "bin" / "python"
    answer = run([venv_python, "-c", probe], version_bake.project).stdout.split()
    assert tuple(map(int, answer)) == version_bake.interpreter.version
    assert answer[:2] == version_bake.option.split(".")


def test_lint_passes(lane_bake: VersionBake) -> None:
    run(["make", "lint"], lane_bake.project, env=lane_bake.env, timeout=900)


def test_the_generated_tests_pass(lane_bake: VersionBake) -> None:
    run(["make", "test"], lane_bake.project, env=lane_bake.env, timeout=1800)


def test_setup_refuses_a_python_outside_requires_python(version_bake: VersionBake) -> None:
    outside = [
        i
        for i in interpreters()
        if not check_python().accepts(requires_python(), i.version)
        and i.version >= (3, 6, 0)  # the check script's syntax
    ]
    if not outside:
        pytest.skip(f"no CPython outside {requires_python()!r} on this machine ({SEARCHED})")
    refused = outside[-1]
    # Refused before `uv sync` touches .venv (the default choice's bake is shared).
    done = run(["make", "setup"], version_bake.project, env=refused.env, check=False)
    assert done.returncode != 0
    assert f"Python {refused.shown} ({refused.path}) is outside" in done.stderr
    assert repr(requires_python()) in done.stderr


# --- the other options: lint each value in a bake of tests/test_bake.py -----------------------


def covering_cases() -> list[str]:
    """Few of test_bake.py's cases that together bring every value of the file options.

    Greedy set cover: each pick is the case with the most values not yet covered (the first
    such in CASES' order).
    """
    values = {name: {(o, answers[o]) for o in FILE_OPTIONS} for name, answers in CASES.items()}
    wanted = set().union(*values.values())
    kept: list[str] = []
    while wanted:
        best = max(values, key=lambda name: len(values[name] & wanted))
        kept.append(best)
        wanted -= values[best]
    return kept


def test_the_linted_cases_cover_every_value_of_the_file_options() -> None:
    cases = covering_cases()
    covered = {(option, CASES[name][option]) for name in cases for option in FILE_OPTIONS}
    choices = choice_options()
    expected = {(option, value) for option in FILE_OPTIONS for value in choices[option]}
    assert covered == expected
    assert len(cases) < len(CASES)


@pytest.mark.parametrize("case", covering_cases())
def test_option_bake_lints(
    case: str, tmp_path_factory: pytest.TempPathFactory, isolated_git: None
) -> None:
    """`make lint` (the project's own ruff and compose --check) in the bake's own environment."""
    answers = CASES[case]
    option = answers["python_version"]
    interpreter = oldest_accepted(option)
    project = bake(tmp_path_factory.mktemp("option-lint"), **answers)
    # `make lint` runs `uv run --frozen`: the locked environment without the XGBoost or remote
    # extras, so a cuda bake lints without downloading the CUDA wheel.
    run(["make", "lint"], project, env=interpreter.env, timeout=900)
