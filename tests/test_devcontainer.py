"""The generated `.devcontainer/devcontainer.json` is valid against the dev container schema
(vendored in tests/schemas/, see its README) for every Python version, and does what the
project needs: Python of the answer, uv, `make setup` after creation, the port of `make serve`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import bake
from jsonschema import Draft201909Validator
from template_tools import choice_options

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "devContainer.base.schema.json").read_text("utf-8")
)
PYTHON_VERSIONS = choice_options()["python_version"]


def validation_errors(document: object) -> list[str]:
    validator = Draft201909Validator(SCHEMA)
    return sorted(error.message for error in validator.iter_errors(document))


@pytest.fixture(scope="module")
def devcontainers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """One bake per Python version; a project name with a quote, to show it is escaped."""
    found = {}
    for version in PYTHON_VERSIONS:
        project = bake(
            tmp_path_factory.mktemp(f"devcontainer-{version}"),
            project_name='Churn "Radar"',
            project_slug="churn-radar",
            python_version=version,
            create_git_repository="no",
        )
        text = (project / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8")
        found[version] = (project, json.loads(text))  # plain JSON: no comments, no commas left
    return found


@pytest.mark.parametrize("version", PYTHON_VERSIONS)
def test_devcontainer_is_valid_against_the_schema(devcontainers: dict, version: str) -> None:
    _, document = devcontainers[version]
    assert validation_errors(document) == []
    assert document["name"] == 'Churn "Radar"'


def test_the_schema_refuses_what_it_should() -> None:
    """The validator is not vacuous: an unknown key and a port out of range are refused."""
    assert validation_errors({"image": "python:3.11", "forwardPort": [3000]}) != []
    assert validation_errors({"image": "python:3.11", "forwardPorts": [70000]}) != []
    assert validation_errors({"image": "python:3.11", "forwardPorts": [3000]}) == []


@pytest.mark.parametrize("version", PYTHON_VERSIONS)
def test_devcontainer_sets_up_the_project(devcontainers: dict, version: str) -> None:
    project, document = devcontainers[version]
    image_tag = document["image"].rsplit(":", 1)[1]
    assert image_tag.split("-")[1] == version
    assert (project / ".python-version").read_text(encoding="utf-8").strip() == version
    setup = document["postCreateCommand"]
    uv_version = re.search(r"\buv==(\d+\.\d+\.\d+)\b", setup).group(1)
    ci_uv = (project / ".github" / "uv-requirements.txt").read_text(encoding="utf-8")
    assert f"\nuv=={uv_version} " in ci_uv  # the uv that CI installs, by its hashes
    assert setup.endswith("make setup")
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert "\nsetup: ##" in makefile
    port = int(re.search(r"^PORT \?= (\d+)$", makefile, re.MULTILINE).group(1))
    assert document["forwardPorts"] == [port]
    assert "--port $(PORT)" in makefile
