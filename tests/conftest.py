"""Shared helpers and fixtures for the template's tests.

`pipeline_project` is the expensive one: a default bake with its environment synced and the
pipeline's results committed on `main` (a real git repository); they come from `demo_run`, the
demo (`make demo`) run once, whose `main` ran the same pipeline. Tests that need to
change a project work on `clone_project(...)` copies, never on the shared one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import pythons
from cookiecutter.main import cookiecutter

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SLUG = "term-deposit-model"
DEFAULT_PACKAGE = "term_deposit_model"
# Where baked projects' processes keep their bytecode (keyed by each file's absolute path).
PYCACHE_PREFIX = Path(tempfile.gettempdir()) / f"gitops-ml-tests-pycache-{os.getuid()}"
# Variables that would leak the caller's environment into baked projects' tools.
LEAKY_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "CONDA_PREFIX",
    "UV_PROJECT_ENVIRONMENT",
    # The template's own `make test` would pass its level and command-line variables
    # (PYTEST_ARGS) on to every `make` run in a baked project, and make it print directories.
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "MAKEOVERRIDES",
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for commands run inside a baked project."""
    env = {
        k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES and not k.startswith("GIT_")
    }
    env.update(
        {
            "DVC_NO_ANALYTICS": "1",
            "BENTOML_DO_NOT_TRACK": "True",
            "GIT_AUTHOR_NAME": "Test Author",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test Author",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            # Bytecode is cached outside the projects (nothing appears in their trees, and scans
            # of what a project wrote stay meaningful), so each process does not compile pandas,
            # DVC, Evidently & co. from source again: 13 s → 6 s for one stage's imports.
            "PYTHONPYCACHEPREFIX": str(PYCACHE_PREFIX),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # set on some machines (this CI's among them)
    env.update(extra or {})
    return env


def run(
    args: Sequence[str | os.PathLike[str]],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on an unexpected failure, fail the test showing its output."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def bake(output_dir: Path, **context: str) -> Path:
    """Bake the template with `context` overriding defaults; return the project directory."""
    output_dir.mkdir(parents=True, exist_ok=True)
    project = cookiecutter(
        str(TEMPLATE_ROOT), no_input=True, output_dir=str(output_dir), extra_context=context
    )
    return Path(project)


def uv_sync(project: Path, env: Mapping[str, str] | None = None) -> None:
    """Create the project's .venv from its lock (cpu build of XGBoost, no remote plugins)."""
    run(["uv", "sync", "--frozen", "--extra", "cpu"], project, env=env)


# Appended to the test's own short scripts that read Parquet, after their output: pyarrow 25's
# Parquet reader can abort the interpreter's teardown ("terminate called without an active
# exception", exit 134; apache/arrow#34314). Measured: 6 of 200 runs of a one-line script that
# reads a Parquet file and prints its columns, 8 at once on 2 cores; CI hit it twice.
SKIP_TEARDOWN = "\nimport os, sys\nsys.stdout.flush()\nsys.stderr.flush()\nos._exit(0)\n"


def uv_run(project: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run(["uv", "run", "--frozen", *args], project, **kwargs)  # type: ignore[arg-type]


def ensure_git_repository(project: Path) -> None:
    """A real repository on `main` with everything committed."""
    if not (project / ".git").is_dir():
        run(["git", "init", "-q", "-b", "main"], project)
    run(["git", "add", "-A"], project)
    if run(["git", "status", "--porcelain"], project).stdout.strip():
        run(["git", "commit", "-q", "-m", "Initial commit"], project)


def clone_project(source: Path, destination: Path) -> Path:
    """A working copy of `source`: git clone, its DVC cache copied, environment synced.

    The DVC cache is hard-linked (cheap), then `dvc checkout` restores the outputs.
    """
    run(["git", "clone", "-q", str(source), str(destination)], source.parent)
    cache = source / ".dvc" / "cache"
    if cache.is_dir():
        shutil.copytree(cache, destination / ".dvc" / "cache", copy_function=os.link)
    uv_sync(destination)
    uv_run(destination, "dvc", "checkout", "--quiet")
    return destination


# The shared fixtures that run a baked project's pipeline: a test that uses one (directly or
# through another fixture) is an `e2e` test, whether or not its module says so.
PIPELINE_FIXTURES = frozenset({"pipeline_project", "demo_run"})


@pytest.hookimpl(tryfirst=True)  # before `-m` selects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs a baked project's pipeline `e2e` (`make test-quick` skips them)."""
    for item in items:
        if PIPELINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


# Set-up started in the background after collection (see pytest_collection_finish).
_BACKGROUND: list[subprocess.Popen[bytes]] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test module may define `prepare_in_background()`, returning a started process or None:
    it is called once after collection when one of its tests is selected, so slow set-up that
    mostly waits (downloads) overlaps the tests that run first."""
    if session.config.option.collectonly:
        return
    modules = {id(m): m for item in session.items if (m := getattr(item, "module", None))}
    for module in modules.values():
        prepare = getattr(module, "prepare_in_background", None)
        if callable(prepare) and (process := prepare()) is not None:
            _BACKGROUND.append(process)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop background set-up that no test waited for (a run stopped early, -x)."""
    for process in _BACKGROUND:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default bake, in a git repository on `main`, with its environment synced on the
    oldest interpreter of the default `python_version` that requires-python accepts (where
    there is one): its complete test run is that choice's lane (tests/test_python_versions.py).
    """
    project = bake(tmp_path_factory.mktemp("default"))
    ensure_git_repository(project)
    interpreter = pythons.oldest_accepted(pythons.DEFAULT_OPTION)
    uv_sync(project, env=interpreter.env if interpreter else None)
    return project


@dataclass(frozen=True)
class DemoRun:
    """What `scripts/demo.py` (`make demo`) left: its folder, the project, what it printed."""

    demo: Path
    project: Path
    stdout: str


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo, run once as `make demo` runs it (into a temporary folder instead of demo/):
    the default bake, `main` with its pipeline's results, a branch with its own run, the report.
    """
    demo = tmp_path_factory.mktemp("demo") / "demo"
    script = TEMPLATE_ROOT / "scripts" / "demo.py"
    result = run(
        ["uv", "run", "--frozen", "python", script, "--dir", demo], TEMPLATE_ROOT, timeout=1200
    )
    return DemoRun(demo, demo / DEFAULT_SLUG, result.stdout)


@pytest.fixture(scope="session")
def pipeline_project(default_project: Path, demo_run: DemoRun) -> Path:
    """`default_project` with its pipeline's results committed on `main`.

    The results are those of the demo's run on its `main` (the same bake of the same template:
    checked below; training is deterministic), committed here as `dvc exp run` would have left
    them: the suite runs the default pipeline once, not twice. Read-only for tests: clone it
    (`clone_project`) to change anything.
    """
    source = demo_run.project
    run(["git", "fetch", "-q", str(source), "main"], default_project)
    # .cruft.json names the template's commit at baking time: one the developer may have made
    # while the suite ran. Everything else must match.
    own = ["--", ".", ":!.cruft.json"]
    baked = run(["git", "diff", "--stat", "HEAD", "FETCH_HEAD~1", *own], default_project).stdout
    if baked.strip():
        pytest.fail(f"the demo's bake differs from the default bake:\n{baked}")
    run(["git", "checkout", "FETCH_HEAD", *own], default_project)
    cache = default_project / ".dvc" / "cache"
    shutil.copytree(source / ".dvc" / "cache", cache, copy_function=os.link, dirs_exist_ok=True)
    uv_run(default_project, "dvc", "checkout", "--quiet")
    run(["git", "add", "-A"], default_project)
    run(["git", "commit", "-q", "-m", "Run the pipeline"], default_project)
    return default_project
