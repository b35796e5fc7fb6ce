"""Configuration: the typed schema of `params.yaml` and its composition from `conf/`."""
