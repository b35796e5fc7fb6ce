"""The hooks: every wrong answer is refused by a real bake, with a message and nothing left behind.

Rejections go through pytest-cookies (``cookies.bake``), or through ``cookiecutter --replay`` for
choice answers, which cookiecutter itself refuses on the command line but not in a replay file.
The hook functions are also imported from the template's own (unrendered) files for unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config
from template_tools import (
    HOOKS_DIR,
    TEMPLATE_DIR,
    choice_options,
    git,
    isolate_git,
    load_hook,
    options,
)

pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")

NO_GIT = {"create_git_repository": "no"}


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Isolate git from the machine's config; send cookiecutter's temp files to ``systmp``."""
    isolate_git(monkeypatch, tmp_path / "git")
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    # cookiecutter renders each hook into a NamedTemporaryFile: keep those where we can see them.
    monkeypatch.setattr(tempfile, "tempdir", str(systmp))
    return systmp


def assert_nothing_left(tmp_path: Path) -> None:
    """The bake left no file: only the empty output directories the test itself made."""
    leftovers = [
        path.relative_to(tmp_path).as_posix()
        for directory in ("cookies", "out", "systmp")
        if (tmp_path / directory).exists()
        for path in (tmp_path / directory).rglob("*")
        if not (path.is_dir() and path.parent.name == "cookies" and not any(path.iterdir()))
    ]
    assert leftovers == [], f"a failed bake left these behind: {leftovers}"


def assert_rejected(stderr: str, field: str, value: str, fragment: str) -> None:
    """stderr names the field, the value and (a part of) what was expected."""
    line = f"error: {field} {value!r} is invalid: expected "
    assert line in stderr, f"expected {line!r} in:\n{stderr}"
    assert fragment in stderr, f"expected {fragment!r} in:\n{stderr}"


# (answers, field, value shown in the message, part of the expectation)
REJECTIONS = [
    pytest.param(
        {"project_slug": "My Proj", "package_name": "my_proj"},
        "project_slug",
        "My Proj",
        "lowercase letters, digits and hyphens, starting with a letter (e.g. term-deposit-model)",
        id="slug-space-uppercase",
    ),
    pytest.param(
        {"project_slug": "1model", "package_name": "model"},
        "project_slug",
        "1model",
        "starting with a letter",
        id="slug-leading-digit",
    ),
    pytest.param(
        {"project_slug": "model--x", "package_name": "model_x"},
        "project_slug",
        "model--x",
        "hyphens",
        id="slug-double-hyphen",
    ),
    pytest.param(
        {"project_slug": "model-", "package_name": "model"},
        "project_slug",
        "model-",
        "hyphens",
        id="slug-trailing-hyphen",
    ),
    pytest.param(
        {"project_slug": "model_x", "package_name": "model_x"},
        "project_slug",
        "model_x",
        "hyphens",
        id="slug-underscore",
    ),
    pytest.param(
        {"package_name": "class"}, "package_name", "class", "not a Python keyword", id="keyword"
    ),
    pytest.param(
        {"package_name": "lambda"}, "package_name", "lambda", "not a Python keyword", id="lambda"
    ),
    pytest.param(
        {"package_name": "xgboost"},
        "package_name",
        "xgboost",
        "does not shadow an existing module ('import xgboost'",
        id="shadow-xgboost",
    ),
    pytest.param(
        {"package_name": "pandas"}, "package_name", "pandas", "shadow", id="shadow-pandas"
    ),
    pytest.param({"package_name": "dvc"}, "package_name", "dvc", "shadow", id="shadow-dvc"),
    pytest.param(
        {"package_name": "bentoml"}, "package_name", "bentoml", "shadow", id="shadow-bentoml"
    ),
    pytest.param({"package_name": "test"}, "package_name", "test", "shadow", id="shadow-test"),
    pytest.param({"package_name": "tests"}, "package_name", "tests", "shadow", id="shadow-tests"),
    pytest.param({"package_name": "json"}, "package_name", "json", "shadow", id="shadow-stdlib"),
    pytest.param(
        {"package_name": "My_Model"},
        "package_name",
        "My_Model",
        "a Python identifier of lowercase letters",
        id="package-uppercase",
    ),
    pytest.param(
        {"package_name": "model-x"},
        "package_name",
        "model-x",
        "a Python identifier",
        id="package-hyphen",
    ),
    pytest.param(
        {"package_name": "_model"},
        "package_name",
        "_model",
        "starting with a letter",
        id="package-underscore-first",
    ),
    pytest.param(
        {"project_name": "   ", "project_slug": "model", "package_name": "model"},
        "project_name",
        "   ",
        "a non-empty name on one line",
        id="name-blank",
    ),
    pytest.param(
        {"description": 'Says "hi"'},
        "description",
        'Says "hi"',
        "without double quotes or backslashes",
        id="description-quote",
    ),
    pytest.param(
        {"description": "two\nlines"},
        "description",
        "two\nlines",
        "one line",
        id="description-newline",
    ),
    pytest.param(
        {"author_name": ""}, "author_name", "", "a non-empty name", id="author-name-empty"
    ),
    pytest.param(
        {"author_name": "Ada \\ Lovelace"},
        "author_name",
        "Ada \\ Lovelace",
        "without double quotes or backslashes",
        id="author-name-backslash",
    ),
    pytest.param(
        {"author_email": "ada"},
        "author_email",
        "ada",
        "an email address such as you@example.com",
        id="email-no-at",
    ),
    pytest.param(
        {"author_email": "ada@localhost"}, "author_email", "ada@localhost", "email", id="email-tld"
    ),
    pytest.param(
        {"author_email": "ada lovelace@example.org"},
        "author_email",
        "ada lovelace@example.org",
        "email",
        id="email-space",
    ),
    pytest.param(
        {"author_email": "ada@@example.org"},
        "author_email",
        "ada@@example.org",
        "email",
        id="email-two-at",
    ),
    pytest.param(
        {"github_owner": "-ada"},
        "github_owner",
        "-ada",
        "1 to 39 letters, digits and single hyphens, not starting or ending with a hyphen",
        id="owner-leading-hyphen",
    ),
    pytest.param(
        {"github_owner": "ada-"}, "github_owner", "ada-", "single hyphens", id="owner-trailing"
    ),
    pytest.param(
        {"github_owner": "ada--lab"}, "github_owner", "ada--lab", "single hyphens", id="owner-2-hy"
    ),
    pytest.param(
        {"github_owner": "ada_lab"}, "github_owner", "ada_lab", "letters, digits", id="owner-under"
    ),
    pytest.param(
        {"github_owner": "a" * 40}, "github_owner", "a" * 40, "1 to 39", id="owner-too-long"
    ),
    pytest.param({"github_owner": ""}, "github_owner", "", "1 to 39", id="owner-empty"),
    pytest.param(
        {"dvc_remote": "none", "dvc_remote_url": "s3://bucket/x"},
        "dvc_remote_url",
        "s3://bucket/x",
        "an empty value because dvc_remote is 'none'",
        id="url-given-with-none",
    ),
    pytest.param(
        {"dvc_remote": "local", "dvc_remote_url": "dvc-storage"},
        "dvc_remote_url",
        "dvc-storage",
        "an absolute path or a file:// URL (e.g. /srv/dvc-storage) because dvc_remote is 'local'",
        id="local-relative",
    ),
    pytest.param(
        {"dvc_remote": "local", "dvc_remote_url": "s3://bucket/x"},
        "dvc_remote_url",
        "s3://bucket/x",
        "because dvc_remote is 'local'",
        id="local-with-s3-url",
    ),
    pytest.param(
        {"dvc_remote": "local", "dvc_remote_url": ""},
        "dvc_remote_url",
        "",
        "an absolute path or a file:// URL",
        id="local-empty",
    ),
    pytest.param(
        {"dvc_remote": "s3", "dvc_remote_url": "gs://bucket/x"},
        "dvc_remote_url",
        "gs://bucket/x",
        "an s3:// URL with a bucket (s3://bucket/path) because dvc_remote is 's3'",
        id="s3-with-gs-url",
    ),
    pytest.param(
        {"dvc_remote": "s3", "dvc_remote_url": "s3://"},
        "dvc_remote_url",
        "s3://",
        "an s3:// URL with a bucket",
        id="s3-no-bucket",
    ),
    pytest.param(
        {"dvc_remote": "gcs", "dvc_remote_url": "s3://bucket/x"},
        "dvc_remote_url",
        "s3://bucket/x",
        "a gs:// URL with a bucket (gs://bucket/path) because dvc_remote is 'gcs'",
        id="gcs-with-s3-url",
    ),
    pytest.param(
        {"dvc_remote": "azure", "dvc_remote_url": "gs://container/x"},
        "dvc_remote_url",
        "gs://container/x",
        "an azure:// URL with a container (azure://container/path) because dvc_remote is 'azure'",
        id="azure-with-gs-url",
    ),
    pytest.param(
        {"dvc_remote": "ssh", "dvc_remote_url": "dvc@example.org:/srv/dvc"},
        "dvc_remote_url",
        "dvc@example.org:/srv/dvc",
        "an ssh:// URL with a host (ssh://user@host/path) because dvc_remote is 'ssh'",
        id="ssh-scp-style",
    ),
    pytest.param(
        {"dvc_remote": "ssh", "dvc_remote_url": "ssh://host/with space"},
        "dvc_remote_url",
        "ssh://host/with space",
        "an ssh:// URL",
        id="ssh-space",
    ),
]


@pytest.mark.parametrize(("answers", "field", "value", "expected"), REJECTIONS)
def test_bake_refuses_wrong_answer(
    cookies, capfd, tmp_path: Path, answers: dict, field: str, value: str, expected: str
) -> None:
    result = cookies.bake(extra_context={**NO_GIT, **answers}, template=str(TEMPLATE_DIR))

    assert isinstance(result.exception, FailedHookException), result
    assert_rejected(capfd.readouterr().err, field, value, expected)
    assert_nothing_left(tmp_path)


def test_bake_reports_every_wrong_answer_at_once(cookies, capfd, tmp_path: Path) -> None:
    answers = {"project_slug": "Bad Slug", "package_name": "class", "author_email": "nope"}

    result = cookies.bake(extra_context={**NO_GIT, **answers}, template=str(TEMPLATE_DIR))

    assert result.exception is not None
    err = capfd.readouterr().err
    for field in answers:
        assert f"error: {field} " in err
    assert "Nothing was generated" in err
    assert_nothing_left(tmp_path)


def test_bake_refuses_git_repository_without_git(
    cookies, capfd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty_path = tmp_path / "no-git-here"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))

    result = cookies.bake(
        extra_context={"create_git_repository": "yes"}, template=str(TEMPLATE_DIR)
    )

    assert result.exception is not None
    assert_rejected(capfd.readouterr().err, "create_git_repository", "yes", "git is not on PATH")
    assert_nothing_left(tmp_path)


def test_cli_refuses_wrong_answer_and_leaves_nothing(tmp_path: Path, hermetic: Path) -> None:
    """What a user sees: the message, exit status 1, an empty output directory."""
    out = tmp_path / "out"
    out.mkdir()
    command = [
        sys.executable,
        "-m",
        "cookiecutter",
        "--no-input",
        "--default-config",
        "-o",
        str(out),
        str(TEMPLATE_DIR),
        "create_git_repository=no",
        "package_name=class",
    ]
    env_home = tmp_path / "home"
    env_home.mkdir()
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOME": str(env_home), "TMPDIR": str(hermetic)},
    )

    assert result.returncode == 1
    assert_rejected(result.stderr, "package_name", "class", "not a Python keyword")
    assert_nothing_left(tmp_path)


# --- choice answers: only a replay file can carry a value outside the listed choices ----------


def _replay_bake(tmp_path: Path, overrides: dict[str, str]) -> None:
    """Bake from a replay file holding the default answers with ``overrides`` applied."""
    context = generate_context(
        context_file=str(TEMPLATE_DIR / "cookiecutter.json"), extra_context=NO_GIT
    )
    answers = dict(prompt_for_config(context, no_input=True))
    answers.update(overrides)
    replay = tmp_path / "replay" / "answers.json"
    replay.parent.mkdir()
    replay.write_text(json.dumps({"cookiecutter": answers}), encoding="utf-8")
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "cookiecutters_dir": str(tmp_path / "cc-dir"),
                "replay_dir": str(tmp_path / "cc-replay"),
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    out.mkdir()
    cookiecutter(
        str(TEMPLATE_DIR), replay=str(replay), output_dir=str(out), config_file=str(config)
    )


CHOICE_REJECTIONS = [
    ("python_version", "3.9"),
    ("xgboost_build", "rocm"),
    ("dvc_remote", "hdfs"),
    ("container_registry", "quay"),
    ("license", "GPL-3.0"),
    ("create_git_repository", "True"),
    ("create_git_repository", "true"),
]


@pytest.mark.parametrize(("field", "value"), CHOICE_REJECTIONS)
def test_replay_refuses_value_outside_choices(
    capfd, tmp_path: Path, field: str, value: str
) -> None:
    with pytest.raises(FailedHookException):
        _replay_bake(tmp_path, {field: value})

    listed = ", ".join(repr(choice) for choice in choice_options()[field])
    assert_rejected(capfd.readouterr().err, field, value, f"one of {listed}")
    assert_nothing_left(tmp_path)


def test_choice_rejections_cover_every_choice_option() -> None:
    assert {field for field, _ in CHOICE_REJECTIONS} == set(choice_options())


def test_replay_with_listed_choices_bakes(tmp_path: Path) -> None:
    _replay_bake(tmp_path, {"license": "Proprietary", "dvc_remote": "none"})

    assert (tmp_path / "out" / "term-deposit-model" / "LICENSE").is_file()


# --- accepted answers -------------------------------------------------------------------------


ACCEPTED = [
    {"project_slug": "a", "package_name": "a"},
    {"project_slug": "model2-x9", "package_name": "model2_x9"},
    {"package_name": "match"},  # a soft keyword is an ordinary name
    # quotes and backslashes are fine in the README, the only place the name goes
    {"project_name": 'Model """ \\ \u00e9', "project_slug": "odd-name", "package_name": "odd"},
    {"description": "Scores things; 100% local, 'quoted' is fine."},
    {"author_name": "Ada Lovelace-Byron"},
    {"author_email": "first.last+tag@sub.example.co.uk"},
    {"github_owner": "a"},
    {"github_owner": "Ada-Lab-9"},
    {"github_owner": "a" * 39},
    {"dvc_remote": "local", "dvc_remote_url": "/srv/dvc storage/model"},
    {"dvc_remote": "local", "dvc_remote_url": "file:///srv/dvc"},
    {"dvc_remote": "local", "dvc_remote_url": "C:\\dvc\\model"},
    {"dvc_remote": "s3", "dvc_remote_url": "s3://bucket"},
    {"dvc_remote": "gcs", "dvc_remote_url": "gs://bucket/a/b"},
    {"dvc_remote": "azure", "dvc_remote_url": "azure://container/a"},
    {"dvc_remote": "ssh", "dvc_remote_url": "ssh://dvc@host.example.org:2222/srv/dvc"},
    {"dvc_remote": "none", "dvc_remote_url": ""},
]


def _default_answers(**overrides: str) -> dict[str, str]:
    context = generate_context(
        context_file=str(TEMPLATE_DIR / "cookiecutter.json"), extra_context=overrides
    )
    return {k: str(v) for k, v in prompt_for_config(context, no_input=True).items()}


@pytest.mark.parametrize("answers", ACCEPTED, ids=lambda answers: ",".join(answers))
def test_validate_accepts_good_answers(answers: dict[str, str]) -> None:
    assert pre_gen.validate(_default_answers(**NO_GIT, **answers)) == []


def test_validate_accepts_every_default() -> None:
    assert pre_gen.validate(_default_answers()) == []


@pytest.mark.parametrize(
    "answers",
    [
        {"project_name": 'Model """ \\ \u00e9', "project_slug": "odd-name", "package_name": "odd"},
        {"dvc_remote": "ssh", "dvc_remote_url": "ssh://dvc@host.example.org:2222/srv/dvc"},
        {"github_owner": "a" * 39, "author_email": "first.last+tag@sub.example.co.uk"},
    ],
    ids=["odd-project-name", "ssh-with-port", "long-owner"],
)
def test_bake_accepts_good_answers(cookies, tmp_path: Path, answers: dict[str, str]) -> None:
    result = cookies.bake(extra_context={**NO_GIT, **answers}, template=str(TEMPLATE_DIR))

    assert result.exception is None, result
    assert result.project_path.is_dir()
    assert list((tmp_path / "systmp").iterdir()) == [], "a rendered hook was left in the temp dir"


# --- the hooks' shape -------------------------------------------------------------------------


def test_every_option_is_validated() -> None:
    """A new option needs a check in CHECKS or its values in CHOICES."""
    validated = set(pre_gen.CHECKS) | set(pre_gen.CHOICES)
    assert validated == set(options())


def test_hook_choices_match_cookiecutter_json() -> None:
    hook_choices = {name: list(values) for name, values in pre_gen.CHOICES.items()}
    assert hook_choices == choice_options()


@pytest.mark.parametrize("hook", sorted(HOOKS_DIR.glob("*.py")), ids=lambda path: path.name)
def test_hooks_hold_one_line_of_jinja(hook: Path) -> None:
    """No Jinja in Python except the context line (a stray brace pair breaks the whole hook)."""
    jinja_lines = [
        line
        for line in hook.read_text(encoding="utf-8").splitlines()
        if any(marker in line for marker in ("{{", "{%", "{#"))
    ]
    assert jinja_lines == ['CONTEXT_JSON = r"""{{ cookiecutter | jsonify }}"""']


# --- post-generation: git and pruning ---------------------------------------------------------


def test_first_commit_uses_configured_identity(
    cookies, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = isolate_git(
        monkeypatch, tmp_path / "git-with-identity", ("Grace Hopper", "grace@example.net")
    )
    before = config.read_text(encoding="utf-8")

    result = cookies.bake(
        extra_context={"author_name": "Ada Lovelace", "author_email": "ada@example.org"},
        template=str(TEMPLATE_DIR),
    )

    assert result.exception is None, result
    log = git(result.project_path, "log", "--format=%an <%ae>|%cn <%ce>")
    assert log == "Grace Hopper <grace@example.net>|Grace Hopper <grace@example.net>"
    assert config.read_text(encoding="utf-8") == before, "the hook wrote to the git config"
    assert "[user]" not in (result.project_path / ".git" / "config").read_text()


def test_first_commit_falls_back_to_answers_per_missing_key(
    cookies, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = isolate_git(monkeypatch, tmp_path / "git-email-only")
    config.write_text("[user]\n\temail = ci@example.net\n", encoding="utf-8")

    result = cookies.bake(
        extra_context={"author_name": "Ada Lovelace", "author_email": "ada@example.org"},
        template=str(TEMPLATE_DIR),
    )

    assert result.exception is None, result
    assert git(result.project_path, "log", "--format=%an <%ae>") == "Ada Lovelace <ci@example.net>"
    assert "[user]" not in (result.project_path / ".git" / "config").read_text()


def test_failed_first_commit_removes_the_project(
    cookies, capfd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A failing post-generation hook also leaves nothing (here: signing that cannot work)."""
    config = isolate_git(monkeypatch, tmp_path / "git-signing")
    config.write_text("[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n", encoding="utf-8")

    result = cookies.bake(template=str(TEMPLATE_DIR))

    assert isinstance(result.exception, FailedHookException), result
    err = capfd.readouterr().err
    assert "error: 'git " in err
    assert "commit" in err
    assert_nothing_left(tmp_path)


def test_next_steps_are_printed(cookies, capfd) -> None:
    result = cookies.bake(extra_context=NO_GIT, template=str(TEMPLATE_DIR))

    assert result.exception is None, result
    out = capfd.readouterr().out
    assert f"cd {result.project_path}" in out
    assert "make setup" in out
    assert "make run" in out
    assert "git init -b main" in out  # no repository was created: say how


def test_post_gen_fails_clearly_without_git(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(post_gen.HookError, match="git is not on PATH: install git"):
        post_gen.create_git_repository(tmp_path, "Ada", "ada@example.org")
