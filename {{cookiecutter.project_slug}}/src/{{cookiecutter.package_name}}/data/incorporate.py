"""Command `incorporate`: add a new batch to the training data (what a retraining PR commits).

The batch is validated exactly like training data (labels required), its header must match the
raw file's, and its data lines are appended to `data.path` (a gzip file gets a new gzip member,
which every gzip reader concatenates). The batch's name is recorded in `ADDED` next to it, so the
same batch is never added twice. Both files are replaced together, or not at all.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import PACKAGE
from ..artifacts.atomic import staged_outputs
from ..errors import PipelineError, guarded
from ..settings.params import PARAMS_FILE, Params, load_params
from .raw import read_table
from .validation import clean

LEDGER = "ADDED"


def incorporate(params: Params, batch: Path) -> int:
    """Append `batch`'s rows to the raw training file; return the number of rows added.

    A bare file name that does not exist here is looked up in `drift.incoming_dir`.
    """
    if not batch.exists() and batch.parent == Path():
        batch = Path(params.drift.incoming_dir) / batch
    data = params.data
    raw_path = Path(data.path)
    if not raw_path.name.endswith((".csv", ".csv.gz")):
        raise PipelineError(f"data.path {raw_path}: only CSV training files (.csv, .csv.gz) grow")
    ledger = batch.parent / LEDGER
    added = ledger.read_text(encoding="utf-8").split() if ledger.is_file() else []
    if batch.name in added:
        raise PipelineError(f"batch {batch} was already added to {raw_path} (listed in {ledger})")
    try:
        clean(read_table(batch, data), data)
    except PipelineError as exc:
        raise PipelineError(f"batch {batch}: {exc}") from None
    header, rows = _split_lines(_text(batch))
    raw_header, _ = _split_lines(_text(raw_path, first_line_only=True))
    if header != raw_header:
        raise PipelineError(
            f"batch {batch}: its header {header.strip()!r} differs from the header of "
            f"{raw_path} {raw_header.strip()!r}; write the batch in the raw file's format"
        )
    body = "".join(rows).encode("utf-8")
    with staged_outputs() as staged:
        grown = raw_path.read_bytes()
        if raw_path.name.endswith(".gz"):
            grown += gzip.compress(body, 9, mtime=0)
        else:
            grown += body if grown.endswith(b"\n") else b"\n" + body
        staged.write_bytes(raw_path, grown)
        staged.write_text(ledger, "".join(f"{name}\n" for name in [*added, batch.name]))
    return len(rows)


def _text(path: Path, first_line_only: bool = False) -> str:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        return handle.readline() if first_line_only else handle.read()


def _split_lines(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines(keepends=True)
    if not lines:
        raise PipelineError("empty file: expected a header line")
    rows = [line if line.endswith("\n") else line + "\n" for line in lines[1:] if line.strip()]
    return lines[0].rstrip("\r\n") + "\n", rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} incorporate", description=__doc__)
    parser.add_argument("batch", type=Path, help="the batch file to add to the training data")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)
    added: list[int] = []
    status = guarded(
        lambda: added.append(incorporate(load_params(args.params), args.batch)), "incorporate"
    )
    if status == 0:
        print(f"added {added[0]} rows of {args.batch} to the training data")
    return status


if __name__ == "__main__":
    sys.exit(main())
