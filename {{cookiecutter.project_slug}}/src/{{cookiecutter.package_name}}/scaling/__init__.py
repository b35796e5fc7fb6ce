"""Training and batch scoring past one process: Dask (`train.engine: dask`, `predict --engine
dask`) and XGBoost's external memory (`train.engine: external_memory`)."""
