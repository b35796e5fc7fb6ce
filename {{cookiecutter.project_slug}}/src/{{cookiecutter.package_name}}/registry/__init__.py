"""The model registry in git: GTO-format version and stage tags, and the audit records."""
