"""Tabular model pipeline: prepare, train, evaluate, and the code that serves the model."""

__version__ = "0.1.0"
