"""scripts/remote_credentials.py, run as a workflow step runs it (a real DVC project for ssh)."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "remote_credentials.py"
GCS_KEY = '{"type": "service_account", "private_key": "k"}'
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
KNOWN_HOST = "storage.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"


@pytest.fixture
def ci(tmp_path: Path) -> dict[str, str]:
    """The environment of a CI step: RUNNER_TEMP, GITHUB_ENV, a HOME of its own."""
    (tmp_path / "home").mkdir()
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "GITHUB_ENV": str(tmp_path / "github-env"),
    }


def remote_credentials(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_nothing_is_written_without_secrets(tmp_path: Path, ci: dict[str, str]) -> None:
    done = remote_credentials(tmp_path, ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert list((tmp_path / "runner-temp" / "dvc-credentials").iterdir()) == []
    assert not (tmp_path / "github-env").exists()


def test_outside_ci_it_refuses(tmp_path: Path, ci: dict[str, str]) -> None:
    del ci["RUNNER_TEMP"]
    done = remote_credentials(tmp_path, {**ci, "GCS_SERVICE_ACCOUNT_JSON": GCS_KEY})
    assert done.returncode == 1
    assert "RUNNER_TEMP is not set: this script is for CI only" in done.stdout


def test_the_gcs_key_is_an_owner_only_file_named_for_google_clients(
    tmp_path: Path, ci: dict[str, str]
) -> None:
    done = remote_credentials(tmp_path, {**ci, "GCS_SERVICE_ACCOUNT_JSON": GCS_KEY})
    assert done.returncode == 0, done.stdout + done.stderr
    key = tmp_path / "runner-temp" / "dvc-credentials" / "gcs.json"
    assert key.read_text(encoding="utf-8") == GCS_KEY
    assert key.stat().st_mode & 0o077 == 0
    assert key.parent.stat().st_mode & 0o077 == 0
    assert (tmp_path / "github-env").read_text() == f"GOOGLE_APPLICATION_CREDENTIALS={key}\n"
    assert done.stdout == (
        "remote-credentials: gcs service-account key in GOOGLE_APPLICATION_CREDENTIALS\n"
    )


def test_an_ssh_key_without_known_hosts_is_refused_before_anything_is_written(
    tmp_path: Path, ci: dict[str, str]
) -> None:
    done = remote_credentials(tmp_path, {**ci, "DVC_SSH_PRIVATE_KEY": SSH_KEY})
    assert done.returncode == 1
    assert "DVC_SSH_KNOWN_HOSTS is needed with DVC_SSH_PRIVATE_KEY" in done.stdout
    assert not (tmp_path / "runner-temp" / "dvc-credentials" / "ssh_key").exists()
    assert SSH_KEY not in done.stdout + done.stderr


def test_the_ssh_key_becomes_the_default_remotes_keyfile(
    tmp_path: Path, ci: dict[str, str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for args in (["init", "--no-scm", "-q"], ["remote", "add", "-d", "storage", "ssh://h/srv"]):
        subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, env=ci, check=True)
    env = {**ci, "DVC_SSH_PRIVATE_KEY": SSH_KEY, "DVC_SSH_KNOWN_HOSTS": KNOWN_HOST}
    done = remote_credentials(project, env)
    assert done.returncode == 0, done.stdout + done.stderr
    key = tmp_path / "runner-temp" / "dvc-credentials" / "ssh_key"
    assert key.read_text(encoding="utf-8") == SSH_KEY + "\n"
    assert key.stat().st_mode & 0o077 == 0
    local = configparser.ConfigParser()
    local.read(project / ".dvc" / "config.local")
    (section,) = local.sections()  # DVC writes it as 'remote "storage"'
    assert "storage" in section
    assert local[section]["keyfile"] == str(key)
    known_hosts = Path(ci["HOME"]) / ".ssh" / "known_hosts"
    assert known_hosts.read_text(encoding="utf-8") == KNOWN_HOST + "\n"
    assert done.stdout == (
        "remote-credentials: ssh key file set for remote storage, known hosts added\n"
    )
    assert SSH_KEY not in done.stdout + done.stderr
