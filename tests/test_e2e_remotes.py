"""DVC remotes for real: push from a baked project, pull into a fresh clone, get every output."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import bake, ensure_git_repository, run, uv_run

pytestmark = pytest.mark.e2e

CONTEXT = {"project_name": "Term Deposit Model", "create_git_repository": "no"}


def outputs_of(lock_file: Path) -> list[str]:
    lock = yaml.safe_load(lock_file.read_text())
    return sorted(o["path"] for s in lock["stages"].values() for o in s.get("outs", []))


def project_with_results(pipeline_project: Path, destination: Path, **context: str) -> Path:
    """A fresh bake of `context` carrying the results of `pipeline_project` in its DVC cache.

    The bake has the same code, data and params, so the same dvc.lock describes it; copying
    the lock and the cache stands for running the pipeline (minutes) and changes nothing DVC
    does when it pushes and pulls.
    """
    project = bake(destination, **CONTEXT, **context)
    shutil.copy(pipeline_project / "dvc.lock", project / "dvc.lock")
    shutil.copytree(pipeline_project / ".dvc" / "cache", project / ".dvc" / "cache")
    for path in ("metrics", "reports", "plots", "dvclive"):
        shutil.copytree(pipeline_project / path, project / path, dirs_exist_ok=True)
    ensure_git_repository(project)
    return project


def sync(project: Path, *extras: str) -> None:
    args = ["uv", "sync", "--frozen", "--extra", "cpu"]
    for extra in extras:
        args += ["--extra", extra]
    run(args, project)


def round_trip(project: Path, clone_into: Path, env: dict[str, str] | None = None) -> Path:
    """checkout + push from `project`; clone it, pull, and check every output came back."""
    uv_run(project, "dvc", "checkout", env=env)
    uv_run(project, "dvc", "push", "--run-cache", env=env)
    run(["git", "clone", "-q", str(project), str(clone_into)], project.parent)
    for local_config in (project / ".dvc").glob("config.local"):
        shutil.copy(local_config, clone_into / ".dvc" / "config.local")
    sync(clone_into, *extras_of(project))
    outputs = outputs_of(clone_into / "dvc.lock")
    cached = [o for o in outputs if not (clone_into / o).exists()]
    assert cached, "the clone should start without the cached outputs"
    uv_run(clone_into, "dvc", "pull", env=env)
    for output in outputs:
        assert file_contents(clone_into / output) == file_contents(project / output), output
    assert "up to date" in uv_run(clone_into, "dvc", "status", env=env).stdout
    return clone_into


def file_contents(path: Path) -> dict[str, bytes]:
    """Every file under `path` (or `path` itself) by relative name, with its bytes."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {
        str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()
    }


def extras_of(project: Path) -> list[str]:
    makefile = (project / "Makefile").read_text()
    line = next(line for line in makefile.splitlines() if line.startswith("EXTRAS :="))
    return [word for word in line.split()[2:] if word not in {"--extra", "cpu"}]


def test_local_remote_push_pull(pipeline_project: Path, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    project = project_with_results(
        pipeline_project, tmp_path / "bake", dvc_remote="local", dvc_remote_url=str(storage)
    )
    remotes = uv_run(project, "dvc", "remote", "list").stdout
    assert f"storage\t{storage}" in remotes.replace("  ", "\t") or str(storage) in remotes
    round_trip(project, tmp_path / "clone")
    assert any(storage.rglob("*")), "the remote directory holds the pushed files"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on loopback, with the bucket created."""
    import boto3

    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket="acme-ml")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_s3_remote_push_pull(pipeline_project: Path, tmp_path: Path, s3_server: str) -> None:
    project = project_with_results(
        pipeline_project,
        tmp_path / "bake",
        dvc_remote="s3",
        dvc_remote_url="s3://acme-ml/term-deposit-model",
    )
    assert extras_of(project) == ["s3"]
    sync(project, "s3")
    # Where the server is and who we are: machine-local settings, as a user would keep them.
    uv_run(project, "dvc", "remote", "modify", "--local", "storage", "endpointurl", s3_server)
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    round_trip(project, tmp_path / "clone", env=env)
