"""scripts/data_check.py in real git repositories, and the planted-object attack on a real DVC
remote served over HTTP on loopback.

The attack: anyone who can write to the remote replaces an object under its own (genuine) md5
name. DVC does not hash what it pulls from s3, gs, azure, ssh or http remotes unless the remote
sets `verify = true`; without it the planted bytes are pulled and `dvc status` says up to date.
This project's `.dvc/config` sets `verify = true` on its remote (every kind), and main.yml also
compares what prepare read with the md5 in git (this script).
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "data_check.py"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
RAW = "data/raw/table.csv"
GENUINE, PLANTED = b"a,b\n1,2\n", b"a,b\n6,6\n"


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    found = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert not check or found.returncode == 0, found.stdout + found.stderr
    return found


def data_check(repo: Path) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(SCRIPT)], repo, check=False)


def write_report(repo: Path, raw_md5: str) -> None:
    (repo / "reports").mkdir(exist_ok=True)
    (repo / "reports" / "data.json").write_text(json.dumps({"raw_md5": raw_md5}), encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose params.yaml reads `RAW`."""
    run(["git", "init", "-q"], tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"data": {"path": RAW}}), encoding="utf-8")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    return tmp_path


def commit_dvc_file(repo: Path, dvc_file: str, md5_value: str) -> None:
    outs = [{"md5": md5_value, "size": 8, "hash": "md5", "path": Path(dvc_file).stem}]
    (repo / dvc_file).write_text(yaml.safe_dump({"outs": outs}), encoding="utf-8")
    run(["git", "add", "params.yaml", dvc_file], repo)
    run([*GIT, "commit", "-qm", "data"], repo)


def test_the_data_prepare_read_matches_the_dvc_file(repo: Path) -> None:
    commit_dvc_file(repo, f"{RAW}.dvc", md5(GENUINE))
    write_report(repo, md5(GENUINE))
    found = data_check(repo)
    assert found.returncode == 0, found.stdout
    assert found.stdout.strip() == (
        f"data-check: {RAW} md5 {md5(GENUINE)} is the one {RAW}.dvc records"
    )
    write_report(repo, md5(PLANTED))
    found = data_check(repo)
    assert found.returncode == 1
    assert (
        f"prepare read {RAW} with md5 '{md5(PLANTED)}' but {RAW}.dvc records '{md5(GENUINE)}'"
    ) in found.stdout


def test_a_file_in_a_tracked_directory_is_checked_against_its_listing(repo: Path) -> None:
    listing = [{"md5": md5(GENUINE), "relpath": "table.csv"}]
    dir_md5 = md5(json.dumps(listing).encode())
    cached = repo / ".dvc" / "cache" / "files" / "md5" / dir_md5[:2] / (dir_md5[2:] + ".dir")
    cached.parent.mkdir(parents=True)
    cached.write_text(json.dumps(listing), encoding="utf-8")
    commit_dvc_file(repo, "data/raw.dvc", dir_md5 + ".dir")
    write_report(repo, md5(PLANTED))
    found = data_check(repo)
    assert found.returncode == 1
    assert f"but data/raw.dvc (directory listing) records '{md5(GENUINE)}'" in found.stdout


def test_data_in_git_is_checked_against_the_committed_blob(repo: Path) -> None:
    (repo / RAW).write_bytes(GENUINE)
    run(["git", "add", "params.yaml", RAW], repo)
    run([*GIT, "commit", "-qm", "data"], repo)
    write_report(repo, md5(GENUINE))
    assert data_check(repo).returncode == 0
    (repo / "params.yaml").write_text(yaml.safe_dump({"data": {"path": "x.csv"}}), "utf-8")
    run([*GIT, "commit", "-qam", "elsewhere"], repo)
    found = data_check(repo)
    assert found.returncode == 1
    assert "x.csv is neither in git nor tracked by a .dvc file at HEAD" in found.stdout


# --- the planted object, on a real DVC remote ---


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """`folder` over HTTP on a free loopback port (DVC's `http` remote reads it)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def project_remote_verifies() -> bool | None:
    """This project's `.dvc/config`: whether its remote sets verify (None: no remote)."""
    config = configparser.ConfigParser()
    config.read_string((ROOT / ".dvc" / "config").read_text(encoding="utf-8"))
    remote = "'remote \"storage\"'"
    return config.getboolean(remote, "verify") if config.has_section(remote) else None


def dvc(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "dvc", *args], repo, check=check)


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[dict]:
    """A DVC repository whose raw data was pushed; on the remote, the object under the data's
    md5 name now holds other bytes. Served over loopback HTTP; the local cache is empty."""
    project = tmp_path / "project"
    storage = tmp_path / "storage"
    project.mkdir()
    storage.mkdir()
    run(["git", "init", "-q"], project)
    dvc(project, "init", "-q")
    dvc(project, "config", "core.analytics", "false")
    (project / "params.yaml").write_text(yaml.safe_dump({"data": {"path": RAW}}), "utf-8")
    (project / "data" / "raw").mkdir(parents=True)
    (project / RAW).write_bytes(GENUINE)
    dvc(project, "remote", "add", "writer", str(storage))
    dvc(project, "add", "-q", RAW)
    dvc(project, "push", "-q", "-r", "writer")
    run(["git", "add", "-A"], project)
    run([*GIT, "commit", "-qm", "data"], project)
    digest = md5(GENUINE)
    target = storage / "files" / "md5" / digest[:2] / digest[2:]
    target.chmod(0o644)
    target.write_bytes(PLANTED)  # the attacker's bytes, under the genuine name
    shutil.rmtree(project / ".dvc" / "cache")
    (project / RAW).unlink()
    with served(storage) as url:
        dvc(project, "remote", "add", "-d", "storage", url)
        yield {"project": project, "digest": digest}


@pytest.mark.integration
def test_a_verified_remote_refuses_a_planted_object(planted: dict) -> None:
    project = planted["project"]
    assert project_remote_verifies() in (True, None)  # every remote this template writes
    dvc(project, "remote", "modify", "storage", "verify", "true")
    pulled = dvc(project, "pull", check=False)
    assert pulled.returncode != 0
    assert "Checkout failed for following targets" in pulled.stdout + pulled.stderr
    assert not (project / RAW).exists()


@pytest.mark.integration
def test_without_verify_the_planted_object_is_pulled_and_the_data_check_catches_it(
    planted: dict,
) -> None:
    """The attack is real on a remote without `verify` (DVC's default for this kind): the
    planted bytes arrive, `dvc status` says up to date; what prepare reads is then caught."""
    project = planted["project"]
    dvc(project, "pull")
    assert (project / RAW).read_bytes() == PLANTED
    assert "up to date" in dvc(project, "status").stdout
    write_report(project, md5((project / RAW).read_bytes()))  # what prepare records
    found = data_check(project)
    assert found.returncode == 1
    assert f"{RAW}.dvc records '{planted['digest']}'" in found.stdout
