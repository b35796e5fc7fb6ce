"""The performance tricks, in one place, each behind one switch.

Every trick here gives the same answers as the plain code it replaces (the tests in
`tests/test_speedups.py` run both and compare: the bootstrap bit for bit, the chance floors to
1e-12, as numpy's sums may differ in the last bit with memory alignment); it does less work:
- `shared_bootstrap`: the evaluate stage draws its bootstrap resample weights once and serves
  them to the test metrics, the comparison with the trivial model and fairness (each used to
  draw the same weights again from the same seed).
- `counted_chance_floor`: the drift check's chance floor (`drift.chance`) scores every random
  split of a column from one sort (Wasserstein) or one count (Jensen-Shannon) of the pooled
  values, instead of handing each split to Evidently's scorer as two pandas series.
- `row_input`: the service turns a request of up to 16 records into model input row by row
  (`model.row_input`: a lookup or a `float` per value) instead of column by column with numpy
  (`features.preprocess`: a handful of array operations per feature); same float32 matrix.
- `lean_predict`: the service calls XGBoost's C prediction directly (`compat.DensePredictor`)
  instead of through `Booster.inplace_predict`, whose per-call Python work cost more than the
  prediction of a lone record (and copies a large answer twice); same C call, same arguments,
  same values.
- `verdicts_before_report`: a drift check whose caller does not write the HTML at once
  (`drift.check.run_check` without `with_report`) scores each column with Evidently's own stat
  test (the function its `ValueDrift` metric calls) instead of building Evidently's report,
  with its plots and its second and third pass over every column; the report is built if the
  HTML is asked for later. The `drift` stage and the monitor write the HTML: their report
  gives the verdicts, in one pass.

Set the environment variable `SPEEDUPS=off` (or `SPEEDUPS=off:<name>,<name>`) to run the
plain code paths, e.g. to rule a trick out when a result looks wrong.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

TRICKS = (
    "shared_bootstrap",
    "counted_chance_floor",
    "verdicts_before_report",
    "row_input",
    "lean_predict",
)
_ENV = "SPEEDUPS"
_forced_off: set[str] = set()


def enabled(name: str) -> bool:
    """Whether trick `name` (one of `TRICKS`) is on: on unless `SPEEDUPS` or `disabled` says."""
    if name not in TRICKS:
        raise ValueError(f"unknown speed-up '{name}': expected one of {', '.join(TRICKS)}")
    if name in _forced_off:
        return False
    setting = os.environ.get(_ENV, "").strip().lower()
    if setting in ("", "on"):
        return True
    if setting == "off":
        return False
    if setting.startswith("off:"):
        return name not in {part.strip() for part in setting[4:].split(",")}
    raise ValueError(f"{_ENV}={setting!r}: expected 'on', 'off' or 'off:<name>,<name>'")


@contextmanager
def disabled(*names: str) -> Iterator[None]:
    """Run the plain code paths of `names` (all tricks when none is named) inside the block."""
    chosen = set(names or TRICKS)
    for name in chosen:
        enabled(name)  # refuses an unknown name
    added = chosen - _forced_off
    _forced_off.update(added)
    try:
        yield
    finally:
        _forced_off.difference_update(added)
