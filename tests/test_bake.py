"""Bake a filtered product of the options and check each generated project.

Each case is baked once (module-scoped cache) and every check runs against every case. Baking
installs nothing; the whole module runs in seconds.
"""

from __future__ import annotations

import configparser
import difflib
import fnmatch
import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from template_tools import (
    TEMPLATE_DIR,
    choice_options,
    files_under,
    git,
    isolate_git,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev environment runs 3.11
    import tomli as tomllib

# The git-tracked files of the default bake. When you add, move or delete a file in the template,
# update this list (the failure message shows the difference).
EXPECTED_TREE = """
.cruft.json
.devcontainer/devcontainer.json
.dvc/.gitignore
.dvc/config
.dvcignore
.github/image.env
.github/uv-requirements.txt
.github/workflows/deploy.yml
.github/workflows/main.yml
.github/workflows/monitor.yml
.github/workflows/pr-comment.yml
.github/workflows/pr.yml
.github/workflows/promote.yml
.gitignore
.pre-commit-config.yaml
.python-version
LICENSE
Makefile
README.md
bentofile.yaml
conf/card/default.yaml
conf/config.yaml
conf/data/bank_marketing.yaml
conf/drift/default.yaml
conf/evaluate/default.yaml
conf/experiment/deep_trees.yaml
conf/experiment/time_split.yaml
conf/fairness/bank_marketing.yaml
conf/model/xgboost.yaml
conf/registry/default.yaml
conf/serve/default.yaml
conf/split/stratified.yaml
conf/split/time.yaml
conf/train/default.yaml
conf/tune/default.yaml
data/incoming/2009-06.csv.gz
data/incoming/2009-09.csv.gz
data/incoming/2010-03.csv.gz
data/incoming/2010-06.csv.gz
data/incoming/2010-09.csv.gz
data/incoming/README.md
data/raw/README.md
data/raw/bank-additional-full.csv.gz
deploy/agents/argocd-applications.yaml
deploy/agents/flux-kustomizations.yaml
deploy/base/deployment.yaml
deploy/base/hpa.yaml
deploy/base/kustomization.yaml
deploy/base/pdb.yaml
deploy/base/service.yaml
deploy/image/Dockerfile.j2
deploy/overlays/dev/kustomization.yaml
deploy/overlays/prod/kustomization.yaml
deploy/overlays/staging/kustomization.yaml
docs/configuration.md
docs/deployment.md
docs/development.md
docs/gate.md
docs/governance.md
docs/monitoring.md
docs/own-data.md
docs/pipeline.md
docs/pull-requests.md
docs/registry-and-audit.md
docs/scaling-and-tuning.md
docs/security.md
docs/serving.md
docs/template-updates.md
dvc.yaml
monitoring/grafana-dashboard.json
monitoring/prometheus.yml
params.yaml
pyproject.toml
scripts/check_github.py
scripts/check_python.py
scripts/data_check.py
scripts/model_check.py
scripts/remote_credentials.py
scripts/report_comment.py
src/term_deposit_model/__init__.py
src/term_deposit_model/__main__.py
src/term_deposit_model/artifacts/__init__.py
src/term_deposit_model/artifacts/atomic.py
src/term_deposit_model/artifacts/hashing.py
src/term_deposit_model/artifacts/keep.py
src/term_deposit_model/artifacts/paths.py
src/term_deposit_model/cli.py
src/term_deposit_model/compat.py
src/term_deposit_model/data/__init__.py
src/term_deposit_model/data/dates.py
src/term_deposit_model/data/describe.py
src/term_deposit_model/data/example.py
src/term_deposit_model/data/incorporate.py
src/term_deposit_model/data/init.py
src/term_deposit_model/data/leaks.py
src/term_deposit_model/data/pii.py
src/term_deposit_model/data/pii_detect.py
src/term_deposit_model/data/raw.py
src/term_deposit_model/data/validation.py
src/term_deposit_model/drift/__init__.py
src/term_deposit_model/drift/chance.py
src/term_deposit_model/drift/check.py
src/term_deposit_model/drift/monitor.py
src/term_deposit_model/drift/summary.py
src/term_deposit_model/errors.py
src/term_deposit_model/governance/__init__.py
src/term_deposit_model/governance/attributions.py
src/term_deposit_model/governance/card.py
src/term_deposit_model/governance/evaluation.py
src/term_deposit_model/governance/fairness.py
src/term_deposit_model/governance/sections.py
src/term_deposit_model/model/__init__.py
src/term_deposit_model/model/batch.py
src/term_deposit_model/model/comparison.py
src/term_deposit_model/model/features.py
src/term_deposit_model/model/files.py
src/term_deposit_model/model/gate.py
src/term_deposit_model/model/metrics.py
src/term_deposit_model/model/row_input.py
src/term_deposit_model/model/scoring.py
src/term_deposit_model/model/threshold.py
src/term_deposit_model/model/training.py
src/term_deposit_model/registry/__init__.py
src/term_deposit_model/registry/audit.py
src/term_deposit_model/registry/command.py
src/term_deposit_model/registry/overlay.py
src/term_deposit_model/registry/provenance.py
src/term_deposit_model/registry/record.py
src/term_deposit_model/registry/tags.py
src/term_deposit_model/review/__init__.py
src/term_deposit_model/review/baseline.py
src/term_deposit_model/review/report.py
src/term_deposit_model/review/sections.py
src/term_deposit_model/scaling/__init__.py
src/term_deposit_model/scaling/cluster.py
src/term_deposit_model/scaling/dask_batch.py
src/term_deposit_model/scaling/dask_external_memory.py
src/term_deposit_model/scaling/dask_train.py
src/term_deposit_model/scaling/engines.py
src/term_deposit_model/scaling/external_memory.py
src/term_deposit_model/scaling/round_progress.py
src/term_deposit_model/serving/__init__.py
src/term_deposit_model/serving/answers.py
src/term_deposit_model/serving/batch.py
src/term_deposit_model/serving/bento/__init__.py
src/term_deposit_model/serving/bento/build.py
src/term_deposit_model/serving/bento/image.py
src/term_deposit_model/serving/entry.py
src/term_deposit_model/serving/http/__init__.py
src/term_deposit_model/serving/http/direct_predict.py
src/term_deposit_model/serving/http/drain.py
src/term_deposit_model/serving/http/fast_decoding.py
src/term_deposit_model/serving/http/prometheus.py
src/term_deposit_model/serving/http/rejection_log.py
src/term_deposit_model/serving/http/request_body.py
src/term_deposit_model/serving/http/request_check.py
src/term_deposit_model/serving/http/request_deadline.py
src/term_deposit_model/serving/http/request_guard.py
src/term_deposit_model/serving/http/request_schema.py
src/term_deposit_model/serving/inference_log.py
src/term_deposit_model/serving/packaged.py
src/term_deposit_model/serving/performance.py
src/term_deposit_model/serving/service.py
src/term_deposit_model/serving/store.py
src/term_deposit_model/settings/__init__.py
src/term_deposit_model/settings/command.py
src/term_deposit_model/settings/compose.py
src/term_deposit_model/settings/params.py
src/term_deposit_model/speedups.py
src/term_deposit_model/stages/__init__.py
src/term_deposit_model/stages/card.py
src/term_deposit_model/stages/drift.py
src/term_deposit_model/stages/evaluate.py
src/term_deposit_model/stages/package.py
src/term_deposit_model/stages/prepare.py
src/term_deposit_model/stages/train.py
src/term_deposit_model/template_updates.py
src/term_deposit_model/text/__init__.py
src/term_deposit_model/text/charts.py
src/term_deposit_model/text/classes.py
src/term_deposit_model/text/html.py
src/term_deposit_model/text/markdown.py
src/term_deposit_model/text/progress.py
src/term_deposit_model/text/svg.py
src/term_deposit_model/tuning/__init__.py
src/term_deposit_model/tuning/progress.py
src/term_deposit_model/tuning/report.py
src/term_deposit_model/tuning/space.py
src/term_deposit_model/tuning/study.py
tests/artifacts/test_atomic.py
tests/artifacts/test_keep.py
tests/conftest.py
tests/data/test_dates.py
tests/data/test_describe.py
tests/data/test_describe_tasks.py
tests/data/test_example.py
tests/data/test_init.py
tests/data/test_leaks.py
tests/data/test_new_table.py
tests/data/test_pii.py
tests/drift/test_chance.py
tests/drift/test_check.py
tests/drift/test_class_spelling.py
tests/drift/test_monitor.py
tests/fairness_cases.py
tests/governance/test_attributions.py
tests/governance/test_card.py
tests/governance/test_card_classes.py
tests/governance/test_fairness.py
tests/governance/test_fairness_bootstrap.py
tests/governance/test_fairness_columns.py
tests/governance/test_sections.py
tests/helpers.py
tests/model/test_features.py
tests/model/test_files.py
tests/model/test_metrics.py
tests/model/test_threshold.py
tests/records.py
tests/registry/test_overlay.py
tests/registry/test_provenance.py
tests/registry/test_registry.py
tests/review/test_gate.py
tests/review/test_report.py
tests/review/test_same_task.py
tests/scaling/test_dask.py
tests/scaling/test_round_progress.py
tests/scripts/test_check_github.py
tests/scripts/test_data_check.py
tests/scripts/test_model_check.py
tests/scripts/test_remote_credentials.py
tests/scripts/test_report_comment.py
tests/served.py
tests/serving/service_answers.py
tests/serving/test_batch.py
tests/serving/test_bento.py
tests/serving/test_direct_predict.py
tests/serving/test_drain.py
tests/serving/test_entry.py
tests/serving/test_image_command.py
tests/serving/test_raw_requests.py
tests/serving/test_rejection_log.py
tests/serving/test_request_body.py
tests/serving/test_request_check.py
tests/serving/test_request_deadline.py
tests/serving/test_request_decoding.py
tests/serving/test_request_guard.py
tests/serving/test_service.py
tests/serving/test_serving_units.py
tests/serving/test_task_answers.py
tests/settings/test_compose.py
tests/settings/test_params.py
tests/settings/test_params_tasks.py
tests/stages/test_evaluate.py
tests/stages/test_prepare.py
tests/stages/test_tasks.py
tests/stages/test_train.py
tests/test_check_python.py
tests/test_cli.py
tests/test_compat.py
tests/test_docs.py
tests/test_dvc_yaml.py
tests/test_package.py
tests/test_pipeline.py
tests/test_speedups.py
tests/test_template_updates.py
tests/text/test_classes.py
tests/text/test_html.py
tests/text/test_progress.py
tests/tuning/test_progress.py
tests/tuning/test_report.py
tests/tuning/test_study.py
tests/tuning/test_tasks.py
tests/tuning/test_tuned_experiment.py
uv.lock
"""

# The answers every case shares: none of them is a default, so defaults leaking through show.
COMMON = {
    "description": "Scores churn risk for the analytical engine.",
    "author_name": "Ada Lovelace",
    "author_email": "ada@analytical.example.org",
    "github_owner": "ada-lab",
}
REMOTE_URLS = {
    "none": "",
    "local": "/srv/dvc/{slug}",
    "s3": "s3://acme-ml/{slug}",
    "gcs": "gs://acme-ml/{slug}",
    "azure": "azure://acme-ml/{slug}",
    "ssh": "ssh://dvc@storage.acme.test/srv/dvc/{slug}",
}
REMOTE_EXTRAS = {"s3": ["s3"], "gcs": ["gs"], "azure": ["azure"], "ssh": ["ssh"]}
MATRIX_COLUMNS = (
    "project_name",
    "dvc_remote",
    "xgboost_build",
    "create_git_repository",
    "license",
    "container_registry",
    "python_version",
)
# Every dvc_remote x xgboost_build pair (Makefile extras), every dvc_remote, license and
# container_registry with and without git, every python_version; slugs of several lengths (the
# uv.lock markers encode the length). See test_matrix_covers_the_interactions.
MATRIX = [
    ("Churn Radar", "none", "cpu", "yes", "MIT", "ghcr", "3.11"),
    ("Fraud Score", "none", "cuda", "no", "Apache-2.0", "dockerhub", "3.12"),
    ("Ltv", "local", "cpu", "no", "MIT", "ghcr", "3.10"),
    ("Credit Risk Model v2", "local", "cuda", "yes", "Apache-2.0", "dockerhub", "3.11"),
    ("Churn Radar", "s3", "cpu", "yes", "BSD-3-Clause", "ghcr", "3.12"),
    ("Fraud Score", "s3", "cuda", "no", "Proprietary", "dockerhub", "3.10"),
    ("Ltv", "gcs", "cpu", "no", "BSD-3-Clause", "ghcr", "3.11"),
    ("Credit Risk Model v2", "gcs", "cuda", "yes", "Proprietary", "dockerhub", "3.12"),
    ("Churn Radar", "azure", "cpu", "yes", "MIT", "ghcr", "3.10"),
    ("Fraud Score", "azure", "cuda", "no", "BSD-3-Clause", "dockerhub", "3.11"),
    ("Ltv", "ssh", "cpu", "no", "Apache-2.0", "ghcr", "3.12"),
    ("Credit Risk Model v2", "ssh", "cuda", "yes", "Proprietary", "dockerhub", "3.10"),
]
# A package name that is not derived from the slug, for one case.
OVERRIDES = {6: {"project_slug": "ltv-gcs", "package_name": "lifetime_value"}}


def _slug(name: str) -> str:
    """The slug cookiecutter.json derives from a project name."""
    return name.lower().strip().replace(" ", "-").replace("_", "-")


def _case(index: int, row: tuple[str, ...]) -> dict[str, str]:
    answers = {**COMMON, **dict(zip(MATRIX_COLUMNS, row, strict=True)), **OVERRIDES.get(index, {})}
    slug = answers.setdefault("project_slug", _slug(answers["project_name"]))
    answers.setdefault("package_name", slug.replace("-", "_"))
    answers["dvc_remote_url"] = REMOTE_URLS[answers["dvc_remote"]].format(slug=slug)
    return answers


CASES = {
    "{project_slug}-{dvc_remote}-{xgboost_build}-git-{create_git_repository}".format(
        **answers
    ): answers
    for answers in itertools.starmap(_case, enumerate(MATRIX))
}

# GitHub's ${{ }} and shell's ${#array[@]} (length) are not ours.
TEXT_MARKERS = re.compile(r"(?<!\$)\{\{|\{%|(?<!\$)\{#")


@dataclass(frozen=True)
class Baked:
    """A generated project and the answers that made it."""

    path: Path
    answers: dict[str, str]


@pytest.fixture(scope="module")
def bake(cookies_session, tmp_path_factory) -> Iterator[Callable[[dict[str, str]], Path]]:
    """Bake answers once per module, with git isolated from the machine's config."""
    cache: dict[tuple[tuple[str, str], ...], Path] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_git(monkeypatch, tmp_path_factory.mktemp("gitconfig"))

        def _bake(answers: dict[str, str]) -> Path:
            key = tuple(sorted(answers.items()))
            if key not in cache:
                result = cookies_session.bake(extra_context=answers, template=str(TEMPLATE_DIR))
                assert result.exception is None, f"bake failed for {answers}: {result.exception}"
                cache[key] = result.project_path
            return cache[key]

        yield _bake


@pytest.fixture(params=list(CASES))
def baked(request, bake) -> Baked:
    answers = CASES[request.param]
    return Baked(bake(answers), answers)


BINARY_SUFFIXES = {".gz"}


def text_files(root: Path) -> Iterator[tuple[str, str]]:
    """(relative path, text) of every text file; binary files (e.g. .gz) are skipped."""
    for relative in files_under(root):
        if Path(relative).suffix in BINARY_SUFFIXES:
            continue
        data = (root / relative).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if "\0" not in text:
            yield relative, text


@functools.cache
def template_authors() -> set[str]:
    """Names and emails of the template's own commits: they must not reach a generated project."""
    if not (TEMPLATE_DIR / ".git").exists():
        return set()
    log = git(TEMPLATE_DIR, "log", "-200", "--format=%an%n%ae%n%cn%n%ce")
    return {line for line in log.splitlines() if line.strip()}


FORBIDDEN = {
    "/work/",
    "/tmp/",
    "/root/",
    "/home/",
    "r-seed",
    "lock-probe",
    "Lock Probe",
    # the defaults that every case overrides
    "Term Deposit Model",
    "term-deposit-model",
    "term_deposit_model",
    "Your Name",
    "you@example.com",
    "your-github-user",
}


# --- the matrix itself ------------------------------------------------------------------------


def test_matrix_covers_the_interactions() -> None:
    for option, values in choice_options().items():
        seen = {answers[option] for answers in CASES.values()}
        assert seen == set(values), f"{option}: {set(values) - seen} never baked"
    pairs = [
        ("dvc_remote", "xgboost_build"),
        ("dvc_remote", "create_git_repository"),
        ("license", "create_git_repository"),
        ("container_registry", "create_git_repository"),
    ]
    choices = choice_options()
    for first, second in pairs:
        seen = {(answers[first], answers[second]) for answers in CASES.values()}
        missing = set(itertools.product(choices[first], choices[second])) - seen
        assert not missing, f"{first} x {second}: {sorted(missing)} never baked"
    lengths = {len(answers["project_slug"]) for answers in CASES.values()}
    assert len(lengths) > 1
    assert len("term-deposit-model") not in lengths


# --- every case -------------------------------------------------------------------------------


def copied_verbatim(relative: str) -> bool:
    """Files cookiecutter copies without rendering: their own {{ }} (Grafana, GitHub) stay."""
    patterns = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["_copy_without_render"]
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


def test_no_template_markers_survive(baked: Baked) -> None:
    files = list(text_files(baked.path))
    leftovers = [
        f"{relative}:{text.count(chr(10), 0, match.start()) + 1}: {match.group()}"
        for relative, text in files
        if not copied_verbatim(relative)
        for match in TEXT_MARKERS.finditer(text)
    ]
    assert leftovers == []
    unrendered = [r for r, text in files if copied_verbatim(r) and "cookiecutter." in text]
    assert unrendered == [], "files copied without rendering must not need cookiecutter values"


def test_commit_hooks_are_locked_tools(baked: Baked) -> None:
    """Commit hooks run the project's locked tools, or a third-party hook pinned by commit SHA."""
    config = yaml.safe_load((baked.path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    for repo in config["repos"]:
        if repo["repo"] == "local":
            for hook in repo["hooks"]:
                assert hook["entry"].startswith("uv run --frozen "), hook
        else:
            assert re.fullmatch(r"[0-9a-f]{40}", str(repo.get("rev"))), repo


def test_nothing_of_the_template_leaks_into_the_project(baked: Baked) -> None:
    """The generated project never points at the template's notes, invariants or benchmarks."""
    leaks = re.compile(r"architecture invariant|docs/benchmarks\.md|the template's|shared/notes")
    found = [
        f"{path.relative_to(baked.path)}: {match.group()}"
        for path in baked.path.rglob("*")
        if path.is_file() and ".git" not in path.parts and path.suffix not in {".gz", ".lock"}
        for match in leaks.finditer(path.read_text(encoding="utf-8", errors="ignore"))
    ]
    assert found == []


def without_template_source(relative: str, text: str) -> str:
    """``.cruft.json`` names the template the bake came from (in these tests, this checkout's
    path): the one place a local path belongs. test_the_project_records_its_template checks it."""
    if relative != ".cruft.json":
        return text
    state = json.loads(text)
    state.pop("template")
    state["context"]["cookiecutter"].pop("_template")
    return json.dumps(state)


def test_no_author_specific_strings(baked: Baked) -> None:
    forbidden = FORBIDDEN | template_authors()
    found = [
        f"{relative}: {needle!r}"
        for relative, text in text_files(baked.path)
        for needle in sorted(forbidden)
        if needle in without_template_source(relative, text)
    ]
    assert found == []


def test_the_project_records_its_template(baked: Baked) -> None:
    """``.cruft.json`` in cruft's format: this checkout, its commit, every answer, no paths."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=TEMPLATE_DIR, capture_output=True, text=True, check=False
    )
    commit = head.stdout.strip() if head.returncode == 0 else None
    state = json.loads((baked.path / ".cruft.json").read_text(encoding="utf-8"))
    assert state["template"] == str(TEMPLATE_DIR)
    assert state["commit"] == commit
    assert state["checkout"] is None
    assert state["directory"] is None
    recorded = state["context"]["cookiecutter"]
    assert {key: recorded[key] for key in baked.answers} == baked.answers
    assert recorded["_template"] == str(TEMPLATE_DIR)
    assert recorded["_commit"] == commit
    assert not {"_output_dir", "_repo_dir", "_checkout"} & set(recorded)
    options = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
    answer_keys = {key for key in options if not key.startswith("_")}
    assert answer_keys <= set(recorded)  # everything a re-render needs


def test_answers_appear_where_expected(baked: Baked) -> None:
    answers, root = baked.answers, baked.path
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    package = answers["package_name"]

    assert root.name == answers["project_slug"]
    assert project["name"] == answers["project_slug"]
    assert project["description"] == answers["description"]
    assert project["authors"] == [
        {"name": answers["author_name"], "email": answers["author_email"]}
    ]
    assert project["license"] == {"text": answers["license"]}
    assert project["scripts"] == {answers["project_slug"]: f"{package}.cli:main"}
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{package}"]
    assert (root / "src" / package / "__init__.py").is_file()
    assert f"python -m {package}.stages.prepare" in (root / "dvc.yaml").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {answers['project_name']}\n\n{answers['description']}\n")
    python_version = (root / ".python-version").read_text(encoding="utf-8").strip()
    assert python_version == answers["python_version"]


LICENSE_PHRASES = {
    "MIT": ["MIT License", "Permission is hereby granted, free of charge"],
    "Apache-2.0": ["Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS"],
    "BSD-3-Clause": ["BSD 3-Clause License", "3. Neither the name of the copyright holder"],
    "Proprietary": ["All rights reserved.", "proprietary and confidential"],
}


def test_license_matches_the_answer(baked: Baked) -> None:
    text = (baked.path / "LICENSE").read_text(encoding="utf-8")
    kind = baked.answers["license"]

    for phrase in LICENSE_PHRASES[kind]:
        assert phrase in text, f"{kind}: {phrase!r} missing"
    for other, phrases in LICENSE_PHRASES.items():
        if other != kind:
            assert phrases[1] not in text, f"{kind} LICENSE holds {other} text"
    year_and_author = rf"Copyright (\(c\) )?\d{{4}},? {re.escape(baked.answers['author_name'])}"
    assert re.search(year_and_author, text)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


def test_dvc_config_has_the_remote_iff_one_was_chosen(baked: Baked) -> None:
    config = configparser.ConfigParser()
    config.read_string((baked.path / ".dvc" / "config").read_text(encoding="utf-8"))
    remote_section = "'remote \"storage\"'"

    assert config.getboolean("hydra", "enabled")
    if baked.answers["dvc_remote"] == "none":
        assert config.sections() == ["core", "hydra"]
        assert not config.has_option("core", "remote")
    else:
        assert config.sections() == ["core", "hydra", remote_section]
        assert config.get("core", "remote") == "storage"
        assert config.get(remote_section, "url") == baked.answers["dvc_remote_url"]
        assert config.getboolean(remote_section, "verify")  # issue 22: pulls are hashed


def test_makefile_extras_match_the_answers(baked: Baked) -> None:
    makefile = (baked.path / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^EXTRAS := (.*)$", makefile, re.MULTILINE)
    assert line is not None
    extras = re.findall(r"--extra (\S+)", line.group(1))
    expected = [baked.answers["xgboost_build"], *REMOTE_EXTRAS.get(baked.answers["dvc_remote"], [])]

    assert extras == expected
    assert line.group(1) == " ".join(f"--extra {extra}" for extra in expected)
    pyproject = tomllib.loads((baked.path / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(extras) <= set(pyproject["project"]["optional-dependencies"])


def test_git_repository_iff_asked(baked: Baked) -> None:
    root = baked.path
    if baked.answers["create_git_repository"] == "no":
        assert not (root / ".git").exists()
        return
    assert git(root, "rev-list", "--count", "--all") == "1"
    assert git(root, "branch", "--format=%(refname:short)") == "main"
    assert git(root, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(root, "status", "--porcelain", "--ignored") == ""
    assert git(root, "ls-files").splitlines() == files_under(root)
    # No identity in the isolated git config: the answers sign the first commit.
    author = f"{baked.answers['author_name']} <{baked.answers['author_email']}>"
    assert git(root, "log", "--format=%an <%ae>|%cn <%ce>") == f"{author}|{author}"


def test_uv_lock_matches_the_project(baked: Baked) -> None:
    """The lock's templated project name is right: uv accepts it, and the extra markers agree."""
    uv = shutil.which("uv")
    assert uv is not None, "uv is not on PATH: it is a dev dependency, run `uv sync`"
    result = subprocess.run(
        [uv, "lock", "--check", "--offline", "--python", sys.executable],
        cwd=baked.path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"},
    )
    assert result.returncode == 0, result.stderr

    # uv lock --check does not notice a wrong length in extra-<len>-<name>-<extra> markers.
    slug = baked.answers["project_slug"]
    lock = (baked.path / "uv.lock").read_text(encoding="utf-8")
    markers = list(re.finditer(r"extra-(\d+)-", lock))
    assert markers, "no extra markers in uv.lock: has the lock format changed?"
    for match in markers:
        assert int(match.group(1)) == len(slug), match.group()
        assert lock[match.end() : match.end() + len(slug)] == slug, match.group()


# --- the default bake -------------------------------------------------------------------------


def test_default_bake_has_exactly_the_expected_files(bake) -> None:
    root = bake({})
    tracked = git(root, "ls-files").splitlines()
    expected = EXPECTED_TREE.split()

    diff = "\n".join(
        difflib.unified_diff(expected, tracked, "EXPECTED_TREE", "git ls-files", lineterm="")
    )
    assert tracked == expected, f"the default bake's files changed: update EXPECTED_TREE\n{diff}"
    assert files_under(root) == tracked, "files on disk that git does not track"
