"""Serving the model: the BentoML service (`service`, its answers, `entry` for `make serve`),
HTTP request plumbing (`http/`), the bento build (`bento/`), and the `predict` command.
"""
