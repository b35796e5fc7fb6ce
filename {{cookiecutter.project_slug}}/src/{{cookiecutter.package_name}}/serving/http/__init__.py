"""HTTP request plumbing in front of the service: reading bodies under limits, strict checks,
fast decoding, the request deadline, the drain on shutdown, rejection logging and metrics,
and `/predict` answered directly from checked rows."""
