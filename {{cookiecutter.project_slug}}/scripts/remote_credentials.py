"""CI: write the DVC remote's file-based credentials from secrets in the environment.

    uv run --frozen python scripts/remote_credentials.py

Files go under $RUNNER_TEMP/dvc-credentials (outside the repository, owner-only):
- GCS_SERVICE_ACCOUNT_JSON (gcs): the key as gcs.json, named in GOOGLE_APPLICATION_CREDENTIALS
  for the following steps (through $GITHUB_ENV);
- DVC_SSH_PRIVATE_KEY with DVC_SSH_KNOWN_HOSTS (ssh): the key as ssh_key, set as the default
  remote's `keyfile` in .dvc/config.local, and the host line added to ~/.ssh/known_hosts.
Nothing happens for secrets that are not set. pr.yml, main.yml and monitor.yml run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PREFIX = "remote-credentials:"


class CredentialsError(Exception):
    """A setting this script needs is missing; the message names it."""


def write_private(path: Path, text: str, append: bool = False) -> None:
    """Write (or append) `text` to a file only its owner can read."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(path, 0o600)


def required(env: Mapping[str, str], name: str, why: str) -> str:
    value = env.get(name, "")
    if not value:
        raise CredentialsError(f"{PREFIX} {name} {why}")
    return value


def dvc(*args: str) -> str:
    """Run a DVC command in this environment; its standard output, stripped."""
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CredentialsError(f"{PREFIX} dvc {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def write_credentials(env: Mapping[str, str]) -> list[str]:
    """Write every file the set secrets call for; one line per remote kind handled."""
    runner_temp = required(env, "RUNNER_TEMP", "is not set: this script is for CI only")
    folder = Path(runner_temp) / "dvc-credentials"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    done = []
    if env.get("GCS_SERVICE_ACCOUNT_JSON"):
        github_env = required(env, "GITHUB_ENV", "is not set (the step's environment file)")
        key = folder / "gcs.json"
        write_private(key, env["GCS_SERVICE_ACCOUNT_JSON"])
        with open(github_env, "a", encoding="utf-8") as stream:
            stream.write(f"GOOGLE_APPLICATION_CREDENTIALS={key}\n")
        done.append(f"{PREFIX} gcs service-account key in GOOGLE_APPLICATION_CREDENTIALS")
    if env.get("DVC_SSH_PRIVATE_KEY"):
        known_hosts = required(env, "DVC_SSH_KNOWN_HOSTS", "is needed with DVC_SSH_PRIVATE_KEY")
        remote = dvc("remote", "default")
        key = folder / "ssh_key"
        write_private(key, env["DVC_SSH_PRIVATE_KEY"] + "\n")
        dvc("remote", "modify", "--local", remote, "keyfile", str(key))
        ssh = Path(env.get("HOME") or Path.home()) / ".ssh"
        ssh.mkdir(mode=0o700, exist_ok=True)
        ssh.chmod(0o700)
        write_private(ssh / "known_hosts", known_hosts + "\n", append=True)
        done.append(f"{PREFIX} ssh key file set for remote {remote}, known hosts added")
    return done


def main() -> int:
    try:
        lines = write_credentials(os.environ)
    except CredentialsError as error:
        print(error)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
