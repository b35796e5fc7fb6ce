"""The DVC pipeline: one module per `dvc.yaml` stage, each a thin command over the library."""
