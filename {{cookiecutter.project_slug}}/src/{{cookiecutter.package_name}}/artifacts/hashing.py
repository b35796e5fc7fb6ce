"""Content hashes that identify data and model files."""

from __future__ import annotations

import hashlib
from pathlib import Path


def md5_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The md5 hex digest of a file's bytes (DVC's hash, so the values match `dvc.lock`)."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
