"""Serving the model: the BentoML service, its request checks, the bento build, batch scoring."""
