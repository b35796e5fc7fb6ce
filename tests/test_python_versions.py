"""Each python_version option on a real interpreter, and the other options' bakes linted.

For every `python_version` choice: one bake, `make setup` on the OLDEST patch release of that
minor version that this machine has and that the project's requires-python accepts (the floor
is what needs proving), then its `make lint` and `make test`. A choice with no such interpreter
is skipped, naming the version and where the test looked. `make setup` must refuse an
interpreter outside requires-python.

The options that change other generated files (`dvc_remote`, `container_registry`,
`xgboost_build`, `license`, `create_git_repository`): the bakes of tests/test_bake.py whose
answers together cover every value get `make lint` in their own environment (test_bake.py
checks each one's lock).

`TEMPLATE_TEST_PYTHONS=3.10,3.12` limits the python_version choices tested (CI: one per job).
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from conftest import bake, run
from template_tools import PROJECT_TEMPLATE, choice_options, isolate_git, load_file
from test_bake import CASES

pytestmark = pytest.mark.e2e

PYTHON_OPTIONS = choice_options()["python_version"]
# Options whose values change generated files other than .python-version.
FILE_OPTIONS = (
    "dvc_remote",
    "container_registry",
    "xgboost_build",
    "license",
    "create_git_repository",
)
SEARCHED = "PATH, ~/.pyenv/versions/*/bin, uv's installed Pythons"


@dataclass(frozen=True, order=True)
class Interpreter:
    version: tuple[int, int, int]
    path: str

    @property
    def shown(self) -> str:
        return ".".join(map(str, self.version))


@functools.cache
def check_python() -> ModuleType:
    """The generated project's scripts/check_python.py (plain Python, no template markers)."""
    return load_file(PROJECT_TEMPLATE / "scripts" / "check_python.py", "generated_check_python")


@functools.cache
def requires_python() -> str:
    return check_python().requires_python(PROJECT_TEMPLATE / "pyproject.toml")


def _candidate_paths() -> set[str]:
    minors = {option.split(".")[1] for option in PYTHON_OPTIONS}
    names = [f"python3.{minor}" for minor in sorted(minors)] + ["python3"]
    found: set[str] = set()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found.update(str(Path(folder) / name) for name in names if (Path(folder) / name).is_file())
    for name in names:
        found.update(glob.glob(str(Path.home() / ".pyenv" / "versions" / "*" / "bin" / name)))
    uv = shutil.which("uv")
    if uv is not None:
        listed = subprocess.run(
            [uv, "python", "list", "--only-installed", "--output-format", "json"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if listed.returncode == 0:
            found.update(entry["path"] for entry in json.loads(listed.stdout) if entry["path"])
    return found


@functools.cache
def interpreters() -> tuple[Interpreter, ...]:
    """Every CPython this machine has (one per real file), oldest first."""
    probe = "import platform, sys; print(platform.python_implementation(), *sys.version_info[:3])"
    seen: dict[str, Interpreter] = {}
    for path in sorted(_candidate_paths()):
        real = os.path.realpath(path)
        if real in seen:
            continue
        try:
            answer = subprocess.run(
                [path, "-I", "-c", probe], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue  # e.g. a pyenv shim for a version pyenv does not enable
        words = answer.stdout.split()
        if answer.returncode == 0 and len(words) == 4 and words[0] == "CPython":
            seen[real] = Interpreter((int(words[1]), int(words[2]), int(words[3])), path)
    return tuple(sorted(seen.values()))


def oldest_accepted(option: str) -> Interpreter:
    """The oldest patch release of `option` (e.g. 3.11) here that requires-python accepts."""
    major, minor = (int(part) for part in option.split("."))
    same_minor = [i for i in interpreters() if i.version[:2] == (major, minor)]
    accepted = [i for i in same_minor if check_python().accepts(requires_python(), i.version)]
    if not accepted:
        refused = ", ".join(f"{i.shown} ({i.path})" for i in same_minor)
        why = f"only {refused}, outside {requires_python()!r}" if refused else "none found"
        pytest.skip(
            f"python_version={option} not tested: no CPython {option}.x interpreter that "
            f"requires-python {requires_python()!r} accepts on this machine ({why}; looked in "
            f"{SEARCHED}). The template's tests install none."
        )
    return accepted[0]


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
        return {"UV_PYTHON": self.interpreter.path, "UV_PYTHON_DOWNLOADS": "never"}


@pytest.fixture(scope="module")
def isolated_git(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_git(monkeypatch, tmp_path_factory.mktemp("gitconfig"))
        yield


@pytest.fixture(scope="module", params=PYTHON_OPTIONS)
def version_bake(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, isolated_git: None
) -> VersionBake:
    """A bake for one python_version choice, set up with `make setup` on its oldest Python."""
    option = request.param
    if option not in selected_options():
        pytest.skip(f"python_version={option} not tested: TEMPLATE_TEST_PYTHONS selects others")
    interpreter = oldest_accepted(option)
    project = bake(tmp_path_factory.mktemp(f"python-{option}"), python_version=option)
    baked = VersionBake(option, interpreter, project)
    run(["make", "setup"], project, env=baked.env, timeout=900)
    return baked


def test_setup_installs_on_the_oldest_accepted_interpreter(version_bake: VersionBake) -> None:
    probe = "import sys; print(*sys.version_info[:3])"
    venv_python = version_bake.project / ".venv" / "bin" / "python"
    answer = run([venv_python, "-c", probe], version_bake.project).stdout.split()
    assert tuple(map(int, answer)) == version_bake.interpreter.version
    assert answer[:2] == version_bake.option.split(".")


def test_lint_passes(version_bake: VersionBake) -> None:
    run(["make", "lint"], version_bake.project, env=version_bake.env, timeout=900)


def test_the_generated_tests_pass(version_bake: VersionBake) -> None:
    run(["make", "test"], version_bake.project, env=version_bake.env, timeout=1800)


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
    env = {"UV_PYTHON": refused.path, "UV_PYTHON_DOWNLOADS": "never"}
    done = run(["make", "setup"], version_bake.project, env=env, check=False)
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
    env = {"UV_PYTHON": interpreter.path, "UV_PYTHON_DOWNLOADS": "never"}
    # `make lint` runs `uv run --frozen`: the locked environment without the XGBoost or remote
    # extras, so a cuda bake lints without downloading the CUDA wheel.
    run(["make", "lint"], project, env=env, timeout=900)
