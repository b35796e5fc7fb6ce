"""Data and prediction drift: the check shared by the `drift` stage and the monitor, its summary."""
