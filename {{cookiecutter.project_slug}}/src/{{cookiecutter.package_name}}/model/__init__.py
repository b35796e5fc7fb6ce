"""The model: the one preprocessing path, model files, scoring, metrics, the decision threshold."""
