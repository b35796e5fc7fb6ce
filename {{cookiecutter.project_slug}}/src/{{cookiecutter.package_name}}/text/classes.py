"""Classes spelled as the data config writes them, in text meant for people.

Metric keys keep the compared spelling (stripped, lower-cased: `recall_<class>`), which the
metrics files and `dvc metrics diff` use; what a person reads (the pull-request report, the
model card) spells the class as `data.classes` writes it: `recall_class a` -> `recall_Class A`,
`class_shares.class a` -> `class_shares.Class A`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Names followed by a class: per-class metrics, and the class shares of metrics files.
PER_CLASS_METRICS = ("precision_", "recall_", "selection_rate_", "class_shares.")


def spell_class_metrics(text: str, spelling: Mapping[str, str]) -> str:
    """`text` with each per-class metric name's class spelled by `spelling` (compared
    spelling -> as written); names of other classes and other words are left alone."""
    changed = {compared: written for compared, written in spelling.items() if compared != written}
    if not changed:
        return text
    classes = "|".join(re.escape(c) for c in sorted(changed, key=len, reverse=True))
    prefixes = "|".join(re.escape(p) for p in PER_CLASS_METRICS)
    pattern = re.compile(rf"\b({prefixes})({classes})(?!\w)")
    return pattern.sub(lambda m: f"{m.group(1)}{changed[m.group(2)]}", text)
