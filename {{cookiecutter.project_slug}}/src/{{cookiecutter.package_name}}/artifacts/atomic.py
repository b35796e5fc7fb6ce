"""Atomic output writing: every file appears complete, or not at all.

A stage stages all its outputs in temporary files next to their targets and renames them into
place only once every one was written, so a failure leaves the previous outputs untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _default_file_mode() -> int:
    """0666 less the process umask: the mode `open(path, "w")` would create."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _default_file_mode()


class StagedOutputs:
    """Temporary files that replace their targets together on commit."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def path(self, target: str | Path) -> Path:
        """A temporary path in the target's directory (same suffix, so writers infer format)."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
        )
        os.close(fd)
        # mkstemp creates 0600 files; outputs get the mode an ordinary write would give them
        # (other users and the service image's non-root user must be able to read models).
        os.chmod(tmp, _FILE_MODE)
        self._pending.append((Path(tmp), target))
        return Path(tmp)

    def write_bytes(self, target: str | Path, data: bytes) -> None:
        self.path(target).write_bytes(data)

    def write_text(self, target: str | Path, text: str) -> None:
        self.path(target).write_text(text, encoding="utf-8")

    def write_json(self, target: str | Path, payload: Any) -> None:
        self.write_text(target, json_dumps(payload))

    def commit(self) -> None:
        for tmp, target in self._pending:
            os.replace(tmp, target)
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending.clear()


@contextmanager
def staged_outputs() -> Iterator[StagedOutputs]:
    """Yield a `StagedOutputs`; commit on success, discard every temporary file on error."""
    staged = StagedOutputs()
    try:
        yield staged
    except BaseException:
        staged.discard()
        raise
    staged.commit()


def write_json(target: str | Path, payload: Any) -> None:
    """Write one JSON file atomically."""
    with staged_outputs() as staged:
        staged.write_json(target, payload)


def json_dumps(payload: Any) -> str:
    """Indented JSON that keeps insertion order (reports keep their reading order); no NaN."""
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
