"""upload-artifact v4 semantics, locally: copy matched files into $STANDIN_ARTIFACTS/<name>/."""

import glob
import json
import os
import shutil
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"::error::upload-artifact stand-in: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    root = Path(os.environ["STANDIN_ARTIFACTS"])
    name = os.environ["INPUT_NAME"]
    if not name or any(c in name for c in '\\/":<>|*?\r\n'):
        fail(f"invalid artifact name {name!r}")
    hidden = os.environ["INPUT_INCLUDE_HIDDEN_FILES"] == "true"
    include: list[Path] = []
    exclude: set[Path] = set()
    patterns = [line.strip() for line in os.environ["INPUT_PATH"].splitlines() if line.strip()]
    if not patterns:
        fail("input 'path' is required")
    searched: list[Path] = []
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!")
        base = Path(pattern.split("*", 1)[0]).absolute()
        searched.append(base if base.is_dir() or not base.exists() else base.parent)
        for match in glob.glob(pattern, recursive=True):
            path = Path(match).absolute()
            files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
            if not hidden:
                files = [
                    f
                    for f in files
                    if not any(part.startswith(".") for part in f.relative_to(path.parent).parts)
                ]
            (exclude.update if negate else include.extend)(files)
    files = sorted({f for f in include if f not in exclude})
    if not files:
        policy = os.environ["INPUT_IF_NO_FILES_FOUND"]
        message = f"no files were found with the provided path: {patterns}"
        if policy == "error":
            fail(message)
        print(
            f"{'::warning::' if policy == 'warn' else ''}{message}. No artifacts will be uploaded."
        )
        return
    common = Path(os.path.commonpath([str(p) for p in searched]))
    destination = root / name
    if destination.exists():
        if os.environ["INPUT_OVERWRITE"] != "true":
            fail(f"an artifact named {name!r} already exists in this run (409 Conflict)")
        shutil.rmtree(destination)
    for file in files:
        target = destination / file.relative_to(common)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    with open(root / "uploads.jsonl", "a", encoding="utf-8") as log:
        log.write(
            json.dumps({"name": name, "files": [str(f.relative_to(common)) for f in files]}) + "\n"
        )
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"artifact-id={abs(hash(name)) % 10**9}\nartifact-url=file://{destination}\n")
    print(f"uploaded {len(files)} file(s) as artifact {name!r}")


main()
