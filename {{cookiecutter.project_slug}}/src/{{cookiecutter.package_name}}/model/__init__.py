"""The model: the one preprocessing path, training, model files, scoring (batch scoring too),
metrics, the decision threshold, the comparison with a baseline and the quality gate.
"""
