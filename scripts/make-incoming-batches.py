"""Cut the bundled sample's later months into the incoming batches the monitor demo checks.

Reads `{{cookiecutter.project_slug}}/data/raw/bank-additional-full.csv.gz` and writes
`{{cookiecutter.project_slug}}/data/incoming/<YYYY-MM>.csv.gz`, one file per batch, named by the
batch's first month (so the names sort in time order). The lines are copied byte for byte (same
header, separator and quoting as the raw file); gzip with mtime 0, so reruns give identical files.

The file has no date column: rows are in time order (May 2008 to November 2010) and the year is
inferred from the month sequence (a month name that comes back after December starts a new year).
"""

from __future__ import annotations

import gzip
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
RAW = ROOT / "data" / "raw" / "bank-additional-full.csv.gz"
OUT = ROOT / "data" / "incoming"
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# Batches as (first month, last month), inclusive, "YYYY-MM".
BATCHES = [
    ("2009-06", "2009-08"),
    ("2009-09", "2009-12"),
    ("2010-03", "2010-05"),
    ("2010-06", "2010-08"),
    ("2010-09", "2010-11"),
]


def main() -> None:
    lines = gzip.decompress(RAW.read_bytes()).decode("utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    month_index = [c.strip('"') for c in header.rstrip("\n").split(";")].index("month")
    year, previous, stamps = 2008, -1, []
    for row in rows:
        month = MONTHS.index(row.split(";")[month_index].strip('"'))
        if month < previous:
            year += 1
        previous = month
        stamps.append(f"{year}-{month + 1:02d}")
    OUT.mkdir(parents=True, exist_ok=True)
    for first, last in BATCHES:
        chosen = [row for row, stamp in zip(rows, stamps, strict=True) if first <= stamp <= last]
        target = OUT / f"{first}.csv.gz"
        target.write_bytes(gzip.compress((header + "".join(chosen)).encode("utf-8"), 9, mtime=0))
        print(f"{target.relative_to(ROOT)}: {len(chosen)} rows ({first} to {last})")


if __name__ == "__main__":
    main()
