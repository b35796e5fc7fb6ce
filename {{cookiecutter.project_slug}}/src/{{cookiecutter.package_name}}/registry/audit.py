"""Audit records: one JSON object per pipeline run, publication and promotion.

Schema (`SCHEMA`, version 1; every key is always present, `null` when not known):
  schema       1
  event        "pipeline" | "publish" | "promote"
  who          `GITHUB_ACTOR` in CI, else git's user.email (or the OS user)
  when         UTC time, ISO 8601
  commit       the git commit (HEAD, or the tagged commit), `dirty` whether tracked files changed
  data_md5     md5 of the raw data file (`reports/data.json` raw_md5)
  params_md5   md5 of params.yaml
  model_md5    md5 of models/model.ubj
  gate         "passed" | "failed" (reports/gate.json)
  model        the model's name in the registry (registry.model)
  version      the registry version (`v1.2.3`) for publish and promote
  tag          the registry tag that holds the record (publish, promote)
  stage        the stage assigned (promote)
  image        image name, `image_digest` its `sha256:` digest (publish, promote)
  workflow_run the CI run's URL when run in GitHub Actions
`python -m <package> audit` writes the pipeline's record to `reports/audit.json` (after `make
run` and in CI, where it is uploaded as an artifact); publish and promote records are the
messages of the registry's tags (`registry.tags`) and are uploaded the same way. Readers (the
model card's lineage) take `reports/audit.json` and the tags' records.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ..artifacts import paths
from ..artifacts.hashing import md5_file

SCHEMA = 1
AUDIT_FILE = Path("reports/audit.json")
FIELDS = (
    "schema", "event", "who", "when", "commit", "dirty", "data_md5", "params_md5", "model_md5",
    "gate", "model", "version", "tag", "stage", "image", "image_digest", "workflow_run",
)  # fmt: skip


def _git(*args: str) -> str | None:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def who() -> str:
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        return actor
    email = _git("config", "user.email")
    return email or getpass.getuser()


def _md5(path: Path) -> str | None:
    return md5_file(path) if path.is_file() else None


def _json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def record(event: str, **given: Any) -> dict[str, Any]:
    """An audit record of `event`, from the working tree; `given` keys override."""
    gate = _json(paths.GATE_FILE).get("passed")
    run_url = None
    if os.environ.get("GITHUB_RUN_ID"):
        run_url = (
            f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/"
            f"{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
        )
    status = _git("status", "--porcelain", "--untracked-files=no")
    found: dict[str, Any] = {
        "schema": SCHEMA,
        "event": event,
        "who": who(),
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "data_md5": _json(paths.DATA_REPORT).get("raw_md5"),
        "params_md5": _md5(Path("params.yaml")),
        "model_md5": _md5(paths.MODEL_FILE),
        "gate": None if gate is None else ("passed" if gate else "failed"),
        "model": None,
        "version": None,
        "tag": None,
        "stage": None,
        "image": None,
        "image_digest": None,
        "workflow_run": run_url,
    }
    found.update({k: v for k, v in given.items() if k in FIELDS})
    return {key: found[key] for key in FIELDS}
