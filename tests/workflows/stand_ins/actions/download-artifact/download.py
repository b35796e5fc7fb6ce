"""download-artifact v4 semantics, locally: copy $STANDIN_ARTIFACTS/<name>/ into `path`."""

import json
import os
import shutil
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"::error::download-artifact stand-in: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    root = Path(os.environ["STANDIN_ARTIFACTS"])
    name = os.environ["INPUT_NAME"]
    run_id = os.environ["INPUT_RUN_ID"]
    if not name:
        fail("the stand-in supports downloads by 'name' only")
    if run_id != os.environ["CURRENT_RUN_ID"] and not os.environ["INPUT_GITHUB_TOKEN"]:
        fail("'github-token' is required to download from another run ('run-id')")
    source = root / name
    if not source.is_dir():
        fail(f"unable to download artifact(s): artifact not found for name: {name}")
    destination = Path(os.environ["INPUT_PATH"] or os.environ["GITHUB_WORKSPACE"]).absolute()
    shutil.copytree(source, destination, dirs_exist_ok=True)
    with open(root / "downloads.jsonl", "a", encoding="utf-8") as log:
        log.write(
            json.dumps(
                {
                    "name": name,
                    "run_id": run_id,
                    "repository": os.environ["INPUT_REPOSITORY"],
                    "path": str(destination),
                }
            )
            + "\n"
        )
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"download-path={destination}\n")
    print(f"downloaded artifact {name!r} to {destination}")


main()
