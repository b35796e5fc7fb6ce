"""Reviewing a model: the quality gate, the comparison with a baseline, the pull-request report."""
