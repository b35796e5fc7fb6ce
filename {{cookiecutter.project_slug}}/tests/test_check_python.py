"""scripts/check_python.py: `make setup` refuses a Python outside requires-python, saying so."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "check_python.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_python", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


@pytest.mark.parametrize(
    ("version", "accepted"),
    [
        ((3, 10, 13), True),
        ((3, 10, 12), False),
        ((3, 9, 18), False),
        ((3, 11, 2), True),
        ((3, 12, 99), True),
        ((3, 13, 0), False),
        ((4, 0, 0), False),
    ],
)
def test_a_floor_and_a_ceiling(version: tuple[int, int, int], accepted: bool) -> None:
    assert load_script().accepts(">=3.10.13,<3.13", version) is accepted


def test_excluded_releases_and_short_bounds() -> None:
    accepts = load_script().accepts
    assert accepts(">=3.10, !=3.11.1", (3, 11, 0))
    assert not accepts(">=3.10, !=3.11.1", (3, 11, 1))
    assert accepts(">3.10", (3, 10, 1))
    assert not accepts(">3.10", (3, 10, 0))


def test_a_form_it_does_not_read_is_an_error_naming_the_clause() -> None:
    script = load_script()
    with pytest.raises(script.SpecifierError, match=r"'~=3\.10'.*operator"):
        script.accepts(">=3.10,~=3.10", (3, 10, 13))


def run_check(pyproject: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--pyproject", str(pyproject)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_interpreter_outside_the_range_is_refused_by_name(tmp_path: Path) -> None:
    running = ".".join(map(str, sys.version_info[:3]))
    pyproject = tmp_path / "pyproject.toml"
    floor = f"{sys.version_info.major}.{sys.version_info.minor + 1}"
    pyproject.write_text(f'[project]\nrequires-python = ">={floor}"\n', encoding="utf-8")

    done = run_check(pyproject)

    assert done.returncode == 1
    assert f"Python {running} ({sys.executable}) is outside" in done.stderr
    assert f"'>={floor}'" in done.stderr
    assert "uv python pin" in done.stderr


def test_the_projects_own_range_accepts_the_interpreter_running_the_tests() -> None:
    done = run_check(ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stderr
    assert "meets requires-python" in done.stdout


def test_a_pyproject_without_requires_python_is_an_error(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n', encoding="utf-8")
    done = run_check(pyproject)
    assert done.returncode == 2
    assert "no `requires-python" in done.stderr


def test_the_readme_and_the_lock_state_the_range_of_requires_python() -> None:
    specifier = load_script().requires_python(ROOT / "pyproject.toml")
    bounds = re.fullmatch(r">=(\d+\.\d+\.\d+),\s*<(\d+\.\d+)", specifier)
    assert bounds is not None, f"requires-python {specifier!r}: expected '>=X.Y.Z,<X.Y'"
    floor, ceiling = bounds.groups()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python {floor} to below {ceiling}" in readme
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    assert f'requires-python = ">={floor}, <{ceiling}"' in lock


def test_make_setup_checks_the_python_before_it_syncs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    setup = re.search(r"^setup:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert setup is not None
    commands = setup.group(1).splitlines()
    assert "scripts/check_python.py" in commands[0]
    assert "--no-project" in commands[0]
    assert "sync" in commands[-1]
