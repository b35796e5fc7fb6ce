"""Tabular model pipeline: prepare, train, evaluate, review, serve and monitor one model.

The folders are the concerns: `settings` (params.yaml's schema and its composition from conf/),
`data` (reading and validating raw tables), `model` (the one preprocessing path, model files,
metrics, scoring), `stages` (one module per dvc.yaml stage), `review` (the quality gate and the
pull-request report), `drift` (drift checks and the monitor), `serving` (the BentoML service,
its request schema and batch scoring), `governance` (the model card, fairness by group, feature
attributions), `registry` (versions and stages as git tags, audit records), `scaling` (Dask and
external-memory training and scoring), `tuning` (hyper-parameter search with Optuna),
`artifacts` (atomic outputs, hashes, output paths). `compat` is the one module that touches
other libraries' private APIs; `errors` holds the one exception type; `cli` dispatches commands.
"""

__version__ = "0.1.0"
PACKAGE = __name__  # the import name chosen when the project was generated
