"""The generated project's two test lanes: `make test` (fast) against `make test-all` (everything).

Bakes the default project, syncs it, runs the fast lane once to fill the bytecode cache (not
counted), then alternates: RUNS fast-lane runs and one complete run, on the same project in the
same script. Prints each wall time, the fast lane's median and its ratio to the complete run.

    uv run python bench/test_lanes.py [RUNS]
"""

from __future__ import annotations

import sys
import tempfile

from common import baked_project, median, timed


def main(runs: int = 3) -> None:
    project = baked_project()
    env = {"PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="bench-pycache-")}
    quiet = {**env, "PYTEST_ADDOPTS": "-q -p no:cacheprovider"}
    warm = timed(["make", "test"], project, quiet)
    print(f"fast lane, filling the bytecode cache: {warm:.1f} s", flush=True)
    fast = []
    for run in range(runs):
        fast.append(timed(["make", "test"], project, quiet))
        print(f"fast lane run {run + 1}: {fast[-1]:.1f} s", flush=True)
    complete = timed(["make", "test-all"], project, quiet)
    print(f"complete suite (make test-all): {complete:.1f} s", flush=True)
    print(
        f"fast lane median {median(fast):.1f} s over {runs} runs; "
        f"ratio to the complete suite {median(fast) / complete:.2f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
