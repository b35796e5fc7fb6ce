"""Tabular model pipeline: prepare, train, evaluate, review, serve and monitor one model.

The folders are the concerns, in three layers that import only downward (`[tool.importlinter]`
in pyproject.toml; `make lint` checks them):
- entry points: `cli` (dispatches `python -m <package> <command>`) and `stages` (one module per
  dvc.yaml stage);
- features: `registry` (versions and stages as git tags, audit records), `review` (the
  pull-request report), `tuning` (hyper-parameter search with Optuna), `drift` (drift checks
  and the monitor), `governance` (the model card, fairness by group, feature attributions),
  `serving` (the BentoML service, its HTTP request plumbing, the bento build, batch scoring's
  command), `scaling` (Dask and external-memory training and scoring);
- core: `model` (the one preprocessing path, training, model files, metrics, scoring, the
  quality gate), `data` (reading and validating raw tables), `settings` (params.yaml's schema
  and its composition from conf/), `artifacts` (atomic outputs, hashes, output paths), `text`
  (Markdown and number formats, charts), `errors` (the one exception type), and `compat`, the
  one module that touches other libraries' private APIs.
"""

__version__ = "0.1.0"
PACKAGE = __name__  # the import name chosen when the project was generated
