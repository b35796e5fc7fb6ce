"""Command `audit`: write this working tree's pipeline-run record (`reports/audit.json`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import PACKAGE
from ..artifacts.atomic import staged_outputs
from . import audit


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import guarded

    parser = argparse.ArgumentParser(prog=f"{PACKAGE} audit", description=__doc__)
    parser.add_argument("--out", type=Path, default=audit.AUDIT_FILE)
    args = parser.parse_args(argv)

    def run() -> None:
        from ..settings.params import load_params

        found = audit.record("pipeline", model=load_params().registry.model)
        with staged_outputs() as staged:
            staged.write_json(args.out, found)
        print(json.dumps(found))

    return guarded(run, "audit")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
