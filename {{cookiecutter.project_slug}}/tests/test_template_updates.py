"""Template updates: the real cruft on a small template in a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import module

template_updates = module("template_updates")

# Jinja's delimiters, spelled apart so that generating this project does not render them.
OPEN, CLOSE = "{" * 2 + " ", " " + "}" * 2
PROJECT_FOLDER = f"{OPEN}cookiecutter.project_slug{CLOSE}"
OWNER = f"{OPEN}cookiecutter.owner{CLOSE}"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Author")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A cookiecutter template in its own git repository, one commit."""
    root = tmp_path / "template"
    files = root / PROJECT_FOLDER
    files.mkdir(parents=True)
    (root / "cookiecutter.json").write_text(json.dumps({"project_slug": "demo", "owner": "ada"}))
    (files / "settings.txt").write_text(f"owner = {OWNER}\nlevel = 1\n")
    (files / "shared.txt").write_text("first line\nsecond line\n")
    git(root, "init", "--quiet")
    commit_all(root, "old template")
    return root


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    """A project generated from `template` by cruft, committed."""
    import cruft

    path = cruft.create(str(template), output_dir=tmp_path / "out", no_input=True)
    git(path, "init", "--quiet")
    commit_all(path, "generated")
    return path


def advance_template(template: Path) -> str:
    """A template commit that changes both files and adds one."""
    files = template / PROJECT_FOLDER
    (files / "settings.txt").write_text(f"owner = {OWNER}\nlevel = 2\n")
    (files / "shared.txt").write_text("first line\nsecond line, from the template\n")
    (files / "added.txt").write_text("new in the template\n")
    return commit_all(template, "new template")


def test_update_merges_three_ways_and_lists_conflicts(template, project, capsys) -> None:
    (project / "shared.txt").write_text("first line\nsecond line, from the user\n")
    (project / "mine.txt").write_text("the user's own file\n")
    commit_all(project, "user changes")
    new_commit = advance_template(template)

    assert template_updates.main(["update", "--project", str(project)]) == 1

    out = capsys.readouterr().out
    assert "conflict: shared.txt" in out
    assert "To resolve" in out
    assert (project / "settings.txt").read_text() == "owner = ada\nlevel = 2\n"
    assert (project / "added.txt").read_text() == "new in the template\n"
    shared = (project / "shared.txt").read_text()
    assert "second line, from the user" in shared
    assert "second line, from the template" in shared
    assert "<<<<<<<" in shared
    assert (project / "mine.txt").read_text() == "the user's own file\n"
    assert json.loads((project / ".cruft.json").read_text())["commit"] == new_commit


def test_update_without_conflicts_exits_zero(template, project, capsys) -> None:
    advance_template(template)

    assert template_updates.main(["update", "--project", str(project)]) == 0

    assert "applied cleanly" in capsys.readouterr().out
    assert (project / "shared.txt").read_text().endswith("from the template\n")
    assert template_updates.conflicted_files(project) == []


def test_update_at_newest_commit_changes_nothing(project, capsys) -> None:
    assert template_updates.main(["update", "--project", str(project)]) == 0
    assert "at the newest template commit" in capsys.readouterr().out
    assert git(project, "status", "--porcelain") == ""


def test_a_file_the_template_moved_arrives_with_the_users_change(template, project) -> None:
    (project / "shared.txt").write_text("first line, from the user\nsecond line\n")
    commit_all(project, "user changes")
    files = template / PROJECT_FOLDER
    (files / "moved").mkdir()
    git(files, "mv", "shared.txt", "moved/shared.txt")
    commit_all(template, "the template moves shared.txt")

    assert template_updates.main(["update", "--project", str(project)]) == 0

    assert not (project / "shared.txt").exists()
    moved = (project / "moved" / "shared.txt").read_text()
    assert moved == "first line, from the user\nsecond line\n"


def test_a_file_the_template_deleted_and_the_user_changed_is_kept_and_listed(
    template, project, capsys
) -> None:
    (project / "shared.txt").write_text("first line\nsecond line, from the user\n")
    commit_all(project, "user changes")
    files = template / PROJECT_FOLDER
    git(files, "rm", "--quiet", "shared.txt")
    (files / "settings.txt").write_text(f"owner = {OWNER}\nlevel = 2\n")
    commit_all(template, "the template drops shared.txt")

    assert template_updates.main(["update", "--project", str(project)]) == 1

    assert "not applied: shared.txt (the template deleted or moved it" in capsys.readouterr().out
    assert (project / "shared.txt").read_text() == "first line\nsecond line, from the user\n"
    assert (project / "settings.txt").read_text() == "owner = ada\nlevel = 2\n"


def test_update_refuses_uncommitted_changes(project, capsys) -> None:
    (project / "shared.txt").write_text("edited, not committed\n")

    assert template_updates.main(["update", "--project", str(project)]) == 2

    err = capsys.readouterr().err
    assert "uncommitted changes (shared.txt)" in err
    assert (project / "shared.txt").read_text() == "edited, not committed\n"


def test_rejected_hunks_are_found(project) -> None:
    (project / "shared.txt.rej").write_text("@@ a hunk @@\n")
    assert template_updates.rejected_hunks(project) == {"shared.txt.rej"}


def test_check_says_when_the_template_is_ahead(template, project, capsys) -> None:
    assert template_updates.main(["check", "--project", str(project)]) == 0
    assert "at the newest template commit" in capsys.readouterr().out

    advance_template(template)
    assert template_updates.main(["check", "--project", str(project)]) == 1
    assert "run `make update-template`" in capsys.readouterr().out
    assert template_updates.main(["check", "--project", str(project), "--github-warning"]) == 0
    assert capsys.readouterr().out.startswith("::warning title=Template update available::")


def test_check_warns_when_the_template_is_unreachable(project, tmp_path, capsys) -> None:
    record = json.loads((project / ".cruft.json").read_text())
    record["template"] = str(tmp_path / "gone")
    (project / ".cruft.json").write_text(json.dumps(record))

    assert template_updates.main(["check", "--project", str(project), "--github-warning"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("::warning title=Template check::template check skipped: cannot reach")
    assert template_updates.main(["check", "--project", str(project)]) == 2


def test_a_warning_is_one_line() -> None:
    line = template_updates.github_warning_line("T", "fatal: no\nclone at 100%\n")
    assert line == "::warning title=T::fatal: no%0Aclone at 100%25"


def test_missing_record_says_how_to_link(tmp_path) -> None:
    with pytest.raises(template_updates.TemplateUpdateError, match="cruft link"):
        template_updates.read_record(tmp_path)


def test_record_without_commit_names_the_key(tmp_path) -> None:
    (tmp_path / ".cruft.json").write_text(json.dumps({"template": "/a/folder", "commit": None}))
    with pytest.raises(template_updates.TemplateUpdateError, match="'commit' is None"):
        template_updates.read_record(tmp_path)
