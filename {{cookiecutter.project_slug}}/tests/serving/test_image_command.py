"""`make image`: the containerize call for each backend, and the backend that exists here."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helpers import module

image = module("serving.bento.image")
errors = module("errors")


def test_podman_keeps_the_healthcheck_and_a_base_mirror_is_a_build_argument() -> None:
    command = image.containerize_command(
        "model:abc", "model:dev", "podman", "mirror/python:3.11", ["build-arg=PIP_CERT=/ca"]
    )
    assert command[1:] == [
        "-m", "bentoml", "containerize", "model:abc", "--backend", "podman",
        "--image-tag", "model:dev", "--opt", "format=docker",
        "--opt", "build-arg=BASE_IMAGE=mirror/python:3.11", "--opt", "build-arg=PIP_CERT=/ca",
    ]  # fmt: skip


def test_buildx_gets_no_podman_option_and_bad_input_is_named() -> None:
    command = image.containerize_command("model:abc", "model:dev", "buildx")
    assert "--opt" not in command
    with pytest.raises(errors.PipelineError, match="backend 'kaniko': expected one of"):
        image.containerize_command("model:abc", "model:dev", "kaniko")
    with pytest.raises(errors.PipelineError, match="--opt 'network': expected KEY=VALUE"):
        image.containerize_command("model:abc", "model:dev", "podman", options=["network"])


def fake_tool(folder: Path, name: str, exit_code: int) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\nexit {exit_code}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        ({"docker": 0, "podman": 0}, "buildx"),
        ({"docker": 1, "podman": 0}, "podman"),  # Docker without buildx
        ({"podman": 0}, "podman"),
    ],
)
def test_the_backend_is_docker_buildx_else_podman(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tools: dict[str, int], expected: str
) -> None:
    for name, code in tools.items():
        fake_tool(tmp_path, name, code)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert image.available_backend() == expected


def test_no_backend_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(errors.PipelineError, match="install Docker with buildx, or podman"):
        image.available_backend()
    assert os.environ["PATH"] == str(tmp_path)
