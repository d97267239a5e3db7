"""Fixtures of the sweep tests: a local Dask cluster with 2 worker processes."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="module")
def client():
    """A client of a LocalCluster with 2 worker processes of one thread (one per test file)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client
