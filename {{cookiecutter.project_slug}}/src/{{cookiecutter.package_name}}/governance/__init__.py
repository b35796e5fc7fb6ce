"""Governance: the model card, fairness by group, and global feature attributions."""
