"""A Dask client: on the scheduler at `train.dask.address`, or on a local cluster."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import PipelineError
from ..settings.params import DaskConfig

if TYPE_CHECKING:
    from distributed import Client


@contextmanager
def dask_client(config: DaskConfig) -> Iterator[Client]:
    """A client for the configured scheduler, or a `LocalCluster` of `workers` workers.

    An address that no scheduler answers within `connect_timeout_s` raises `PipelineError`.
    """
    from distributed import Client, LocalCluster

    if config.address:
        try:
            client = Client(config.address, timeout=f"{config.connect_timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise PipelineError(
                f"train.dask.address={config.address!r}: no Dask scheduler answered within "
                f"{config.connect_timeout_s:g} s ({type(exc).__name__}: {exc}). Start one "
                "(`dask scheduler`), fix the address, or set it to null for a local cluster."
            ) from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=config.workers,
            threads_per_worker=config.threads_per_worker,
            processes=config.processes,
            dashboard_address=None,
            silence_logs=logging.WARNING,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def worker_threads(client: Client) -> int:
    """Threads of the smallest worker: XGBoost's `nthread` on each (a fixed, known number)."""
    threads = client.nthreads()
    if not threads:
        raise PipelineError("the Dask cluster has no workers")
    return max(1, min(threads.values()))
