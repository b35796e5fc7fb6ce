"""The actions/cache stand-in's store: entries under $STANDIN_CACHE, one folder per key.

`restore` and `save` follow actions/cache v4.3.0 where the workflows depend on it: an exact key
is a hit (`cache-hit=true`); otherwise the newest entry whose key starts with one of
`restore-keys` is restored (`cache-hit=false`); `lookup-only` restores nothing; an entry is
immutable (saving an existing key warns and keeps the old one, as GitHub does); saving paths
that match nothing fails. Paths are stored relative to the workspace (absolute ones as given).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path


def store() -> Path:
    root = os.environ.get("STANDIN_CACHE")
    if not root:
        sys.exit("::error::the harness must set STANDIN_CACHE (the stand-in's cache folder)")
    return Path(root)


def lines(name: str) -> list[str]:
    return [line.strip() for line in os.environ.get(name, "").splitlines() if line.strip()]


def entry(key: str) -> Path:
    return store() / hashlib.sha256(key.encode()).hexdigest()[:32]


def output(**values: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as file:
        for name, value in values.items():
            file.write(f"{name}={value}\n")


def workspace_path(path: str) -> Path:
    return (
        Path(os.path.expanduser(path))
        if os.path.isabs(os.path.expanduser(path))
        else (Path(os.environ["GITHUB_WORKSPACE"]) / path)
    )


def restore() -> None:
    key = os.environ["INPUT_KEY"]
    found = entry(key) if (entry(key) / "key").is_file() else None
    if found is None:
        prefixes = lines("INPUT_RESTORE_KEYS")
        candidates = [
            folder
            for folder in store().glob("*")
            if (folder / "key").is_file()
            and any((folder / "key").read_text(encoding="utf-8").startswith(p) for p in prefixes)
        ]
        found = max(candidates, key=lambda f: (f / "key").stat().st_mtime, default=None)
    if found is None:
        if os.environ.get("INPUT_FAIL_ON_CACHE_MISS") == "true":
            sys.exit(f"::error::Failed to restore cache entry (fail-on-cache-miss): {key}")
        print(f"Cache not found for input keys: {key}")
        output(**{"cache-hit": "false", "cache-primary-key": key})
        return
    matched = (found / "key").read_text(encoding="utf-8")
    if os.environ.get("INPUT_LOOKUP_ONLY") != "true":
        manifest = json.loads((found / "paths.json").read_text(encoding="utf-8"))
        for index, path in enumerate(manifest):
            target = workspace_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            saved = found / "files" / str(index)
            if saved.is_dir():
                shutil.copytree(saved, target, dirs_exist_ok=True)
            else:
                shutil.copy2(saved, target)
    print(f"Cache restored from key: {matched}")
    output(
        **{
            "cache-hit": str(matched == key).lower(),
            "cache-primary-key": key,
            "cache-matched-key": matched,
        }
    )


def save() -> None:
    key = os.environ["INPUT_KEY"]
    folder = entry(key)
    if (folder / "key").is_file():
        print(f"::warning::Failed to save: Unable to reserve cache with key {key}")
        return
    paths = lines("INPUT_PATH")
    present = [p for p in paths if workspace_path(p).exists()]
    if not present:
        sys.exit("::error::Path Validation Error: the paths to cache do not exist; nothing saved")
    staging = folder.with_name(folder.name + f".tmp{os.getpid()}")
    for index, path in enumerate(present):
        source = workspace_path(path)
        destination = staging / "files" / str(index)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)
    (staging / "paths.json").write_text(json.dumps(present), encoding="utf-8")
    (staging / "key").write_text(key, encoding="utf-8")
    os.utime(staging / "key", (time.time(), time.time()))
    staging.rename(folder)
    print(f"Cache saved with key: {key}")


if __name__ == "__main__":
    {"restore": restore, "save": save}[sys.argv[1]]()
