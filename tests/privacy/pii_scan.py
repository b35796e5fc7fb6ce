"""Scan files for raw values: `python pii_scan.py NEEDLES.json ROOT... [--skip PATH ...]`.

Run with the baked project's interpreter (it has PyArrow). Reads every file under each ROOT
(symlinks not followed; `.git` and `.venv` skipped, and the paths after `--skip`), looks inside
what could hide a value from a byte search: Parquet (decoded: every cell and the metadata),
gzip, zip and tar (their members, recursively). Prints JSON: the files read and every
(file, value) found.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

SKIP_DIRS = {".git", ".venv"}


def parquet_text(blob: bytes) -> bytes:
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(io.BytesIO(blob))
    table = handle.read()
    parts = [str(handle.schema_arrow).encode(), str(handle.metadata.metadata).encode()]
    for column in table.columns:
        parts.append("\n".join(map(str, column.to_pylist())).encode("utf-8"))
    return b"\n".join(parts)


def expand(blob: bytes, depth: int = 0) -> list[bytes]:
    """The blob and whatever it contains, decoded."""
    found = [blob]
    if depth > 4:
        return found
    if blob[:4] == b"PAR1":
        found.append(parquet_text(blob))
    elif blob[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):
            found += expand(gzip.decompress(blob), depth + 1)
    elif blob[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for name in archive.namelist():
                found += expand(archive.read(name), depth + 1)
    elif len(blob) > 262 and blob[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(blob)) as archive:
            for member in archive.getmembers():
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    found += expand(extracted.read(), depth + 1)
    return found


def scan(roots: list[Path], needles: list[str], skip: set[Path]) -> dict[str, object]:
    encoded = [(n, n.encode("utf-8")) for n in needles]
    files, hits = 0, []
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            if path.is_symlink() or not path.is_file() or path.resolve() in skip:
                continue
            if SKIP_DIRS & set(path.relative_to(root).parts if path != root else ()):
                continue
            files += 1
            blobs = expand(path.read_bytes())
            for needle, raw in encoded:
                if any(raw in blob for blob in blobs):
                    hits.append([str(path), needle])
    return {"files": files, "hits": hits}


def main(argv: list[str]) -> int:
    args, skip = argv, []
    if "--skip" in argv:
        at = argv.index("--skip")
        args, skip = argv[:at], argv[at + 1 :]
    needles = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    result = scan([Path(a) for a in args[1:]], needles, {Path(s).resolve() for s in skip})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
