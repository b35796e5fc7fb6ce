"""Hyper-parameter search with Optuna (`python -m <package> tune`): space, study, report."""
