"""Template updates: a project baked from an older template commit takes a newer one.

The template is a real git repository holding this checkout's files (uncommitted changes
included); projects are baked from it with plain cookiecutter, as users do, and updated with
the project's own `make update-template` (the locked cruft). The end-to-end scenario makes the
changes a user makes (their own table with `make data`, a conf edit, a new function, a Makefile
target, a note in a doc page), then advances the template by a commit that changes generated
modules, adds a file, moves a doc page the user changed, and adds a Makefile target where the
user added theirs.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import DEFAULT_PACKAGE, run, uv_run
from cookiecutter.main import cookiecutter
from template_tools import TEMPLATE_DIR, git, load_hook

PROJECT_DIR = "{{cookiecutter.project_slug}}"
PACKAGE_DIR = f"{PROJECT_DIR}/src/{{{{cookiecutter.package_name}}}}"
MOVED_PAGE = ("docs/template-updates.md", "docs/updates/template.md")
WRITE_TABLE = """
from sklearn.datasets import load_breast_cancer
table = load_breast_cancer(as_frame=True).frame
table["target"] = table["target"].map({0: "malignant", 1: "benign"})
table.rename(columns={"target": "diagnosis"}).to_csv(__import__("sys").argv[1], index=False)
"""
USER_FUNCTION = '''

def describe_error(error: Exception) -> str:
    """The user's own helper."""
    return f"{type(error).__name__}: {error}"
'''
USER_TARGET = "\nmine: ## The user's own target\n\t@echo mine\n"
TEMPLATE_TARGET = "\nnewer: ## A target from a newer template\n\t@echo newer\n"
USER_ROW = "| `make mine` | the user's own target |\n"
TEMPLATE_ROW = "| `make newer` | a target from a newer template |\n"
NEWS_LINK = "\nWhat changed: [news](docs/news.md).\n"
USER_NOTE = "\nOur team updates the template every quarter.\n"
TEMPLATE_COMMENT = "# Changed by a newer template commit.\n"


def add_row(readme: Path, after: str, row: str) -> None:
    """Add `row` to the README's table of Make targets, after the row of `after`."""
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.startswith(f"| `{after}` |")]
    lines.insert(index + 1, row)
    readme.write_text("".join(lines), encoding="utf-8")


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def snapshot_template(destination: Path) -> Path:
    """A git repository holding this checkout's files as they are now, in one commit."""
    listed = git(TEMPLATE_DIR, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / relative
        if source.is_file() and not source.is_symlink():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    git(destination, "init", "-q")
    commit_all(destination, "The older template")
    return destination


def bake_from(template: Path, output: Path, **answers: str) -> Path:
    return Path(
        cookiecutter(str(template), no_input=True, output_dir=str(output), extra_context=answers)
    )


def record(project: Path) -> dict:
    return json.loads((project / ".cruft.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def old_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template"))


def test_plain_cookiecutter_records_what_cruft_create_records(old_template, tmp_path) -> None:
    baked = bake_from(old_template, tmp_path / "cookiecutter")
    import cruft

    created = cruft.create(str(old_template), output_dir=tmp_path / "cruft", no_input=True)
    assert record(baked) == record(created)
    assert record(baked)["commit"] == git(old_template, "rev-parse", "HEAD")
    assert git(baked, "ls-files", ".cruft.json") == ".cruft.json"  # in the first commit
    assert not (created / ".git").exists()  # under cruft the hook leaves git to the user


def test_a_template_folder_without_git_records_no_commit(old_template, tmp_path, capfd) -> None:
    folder = tmp_path / "folder"
    shutil.copytree(old_template, folder, ignore=shutil.ignore_patterns(".git"))
    baked = bake_from(folder, tmp_path / "out", create_git_repository="no")
    assert record(baked)["commit"] is None
    assert record(baked)["template"] == str(folder)
    assert "is not a git checkout, so .cruft.json records no commit" in capfd.readouterr().err


@dataclass(frozen=True)
class Updated:
    """The project after `make update-template`, and what the command said."""

    project: Path
    returncode: int
    output: str
    new_commit: str


def make_user_changes(project: Path) -> None:
    """What a user does in the first weeks, committed."""
    table = project.parent / "breast_cancer.csv"
    uv_run(project, "python", "-c", WRITE_TABLE, str(table))
    run(["make", "data", f"DATA={table}", "TARGET=diagnosis"], project)
    model = project / "conf" / "model" / "xgboost.yaml"
    model.write_text(re.sub(r"(?m)^max_depth: \d+$", "max_depth: 3", model.read_text()))
    run(["make", "params"], project)
    errors = project / "src" / DEFAULT_PACKAGE / "errors.py"
    errors.write_text(errors.read_text() + USER_FUNCTION)
    with (project / "Makefile").open("a") as makefile:
        makefile.write(USER_TARGET)
    add_row(project / "README.md", "make setup", USER_ROW)  # the README lists every target
    with (project / MOVED_PAGE[0]).open("a") as page:
        page.write(USER_NOTE)
    commit_all(project, "Our data, our settings, our code")
    (project / "scratch.txt").write_text("untracked notes\n")


def advance_template(template: Path) -> str:
    """A newer template commit: changed modules, a new file, a moved page, a new target."""
    for module in ("__main__.py", "errors.py"):
        path = template / PACKAGE_DIR / module
        path.write_text(TEMPLATE_COMMENT + path.read_text())
    (template / PROJECT_DIR / "docs" / "news.md").write_text("# News\n\nA page added later.\n")
    with (template / PROJECT_DIR / "Makefile").open("a") as makefile:
        makefile.write(TEMPLATE_TARGET)
    old, new = (f"{PROJECT_DIR}/{page}" for page in MOVED_PAGE)
    (template / new).parent.mkdir(parents=True)
    git(template, "mv", old, new)
    readme = template / PROJECT_DIR / "README.md"
    readme.write_text(readme.read_text().replace(MOVED_PAGE[0], MOVED_PAGE[1]) + NEWS_LINK)
    add_row(readme, "make help", TEMPLATE_ROW)  # far from the user's row: a clean merge
    return commit_all(template, "A newer template")


@pytest.fixture(scope="module")
def updated(old_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Updated:
    template = tmp_path_factory.mktemp("moving-template")
    shutil.copytree(old_template, template, dirs_exist_ok=True)
    project = bake_from(template, tmp_path_factory.mktemp("project"))
    run(["make", "setup"], project)
    make_user_changes(project)
    new_commit = advance_template(template)
    result = run(["make", "update-template"], project, check=False)
    return Updated(project, result.returncode, result.stdout + result.stderr, new_commit)


e2e = pytest.mark.e2e  # bakes, syncs and tests a project (about a minute)


@e2e
def test_the_conflict_is_reported_and_the_command_fails(updated: Updated) -> None:
    assert updated.returncode != 0, updated.output
    listed = re.findall(r"(?m)^(conflict|rejected|not applied): (\S+)", updated.output)
    assert listed == [("conflict", "Makefile")], updated.output
    makefile = (updated.project / "Makefile").read_text()
    assert "<<<<<<<" in makefile
    assert "mine: ##" in makefile
    assert "newer: ##" in makefile


@e2e
def test_the_clean_parts_are_applied(updated: Updated) -> None:
    project, package = updated.project, updated.project / "src" / DEFAULT_PACKAGE
    assert (package / "__main__.py").read_text().startswith(TEMPLATE_COMMENT)
    errors = (package / "errors.py").read_text()
    assert errors.startswith(TEMPLATE_COMMENT)
    assert errors.endswith(USER_FUNCTION)
    assert (project / "docs" / "news.md").is_file()
    readme = (project / "README.md").read_text()
    assert TEMPLATE_ROW in readme
    assert NEWS_LINK.strip() in readme
    assert USER_ROW in readme  # the user's row in the same file, merged
    assert record(project)["commit"] == updated.new_commit


@e2e
def test_a_moved_page_keeps_the_users_note(updated: Updated) -> None:
    project = updated.project
    assert not (project / MOVED_PAGE[0]).exists()
    assert (project / MOVED_PAGE[1]).read_text().endswith(USER_NOTE)
    readme = (project / "README.md").read_text()
    assert MOVED_PAGE[1] in readme
    assert MOVED_PAGE[0] not in readme


@e2e
def test_nothing_of_the_users_is_lost(updated: Updated) -> None:
    project = updated.project
    assert (project / "data" / "raw" / "breast_cancer.csv").is_file()
    assert "breast_cancer" in (project / "conf" / "config.yaml").read_text()
    assert "max_depth: 3" in (project / "conf" / "model" / "xgboost.yaml").read_text()
    assert "max_depth: 3" in (project / "params.yaml").read_text()
    assert (project / "scratch.txt").read_text() == "untracked notes\n"


@e2e
def test_once_resolved_the_project_lints_and_tests(updated: Updated) -> None:
    project = updated.project
    makefile = project / "Makefile"
    kept_both = [
        line
        for line in makefile.read_text().splitlines(keepends=True)
        if not line.startswith(("<<<<<<<", "=======", ">>>>>>>"))
    ]
    makefile.write_text("".join(kept_both))
    git(project, "add", "--all", ":!scratch.txt")
    assert run(["make", "mine", "newer"], project).stdout.split() == ["mine", "newer"]
    run(["make", "lint"], project)
    run(["make", "test"], project, timeout=1800)
    commit_all(project, "Take the newer template")
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""


post_gen = load_hook("post_gen_project")


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("gh:acme/tabular", "https://github.com/acme/tabular.git"),
        ("gl:acme/tabular", "https://gitlab.com/acme/tabular.git"),
        ("git+https://example.org/acme/tabular.git", "https://example.org/acme/tabular.git"),
        ("git@github.com:acme/tabular.git", "git@github.com:acme/tabular.git"),
    ],
)
def test_the_record_names_a_url_git_can_clone(given: str, url: str) -> None:
    assert post_gen.template_url(given) == url


def test_a_relative_template_path_is_found_from_cookiecutters_folder(old_template) -> None:
    assert post_gen.template_directory(".", parent_cwd=old_template) == old_template
    assert post_gen.template_directory(".", parent_cwd=None) is None
    assert post_gen.template_directory(str(old_template), parent_cwd=None) == old_template
    shell = str(old_template.parent)
    assert post_gen.template_directory(old_template.name, None, shell) == old_template
    assert post_gen.template_directory("elsewhere", None, shell) is None


def test_a_template_in_a_subfolder_records_the_folder(tmp_path: Path) -> None:
    inner = tmp_path / "templates" / "tabular"
    inner.mkdir(parents=True)
    (inner / "cookiecutter.json").write_text("{}")
    git(tmp_path, "init", "-q")
    commit = commit_all(tmp_path, "A template in a subfolder")
    assert post_gen.template_source(str(inner), inner) == (
        str(tmp_path.resolve()),
        commit,
        "templates/tabular",
    )
    assert post_gen.template_source("gh:acme/tabular", inner) == (
        "https://github.com/acme/tabular.git",
        commit,
        "templates/tabular",
    )


def test_renders_by_cruft_are_left_alone() -> None:
    """cruft update diffs two renders: a repository or record in them would be diffed too."""
    assert post_gen.rendered_by_cruft({"_commit": "abc", "_template": "x"})
    assert not post_gen.rendered_by_cruft({"_template": "x", "_repo_dir": "x"})


def test_pull_requests_warn_when_the_template_is_ahead(old_template, tmp_path) -> None:
    baked = bake_from(old_template, tmp_path, create_git_repository="no")
    workflow = yaml.safe_load((baked / ".github/workflows/pr.yml").read_text())
    steps = [
        step
        for step in workflow["jobs"]["experiment"]["steps"]
        if "make template-check" in step.get("run", "")
    ]
    assert len(steps) == 1
    assert steps[0]["run"] == "make template-check TEMPLATE_FLAGS=--github-warning"
    assert steps[0]["continue-on-error"] is True  # a timeout or crash still never fails the run
