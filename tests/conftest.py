"""Shared fixtures: every kernel test runs on every ISA path this CPU
supports and on 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

import gdcore as gd

ISAS = gd.build_info()["isa_supported"]
THREADS = [1, 2]

# Awkward sizes: empty, one element, vector tails around every width.
SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 1000]
LARGE = 1_100_003  # > 1M, odd


@pytest.fixture(params=ISAS)
def isa(request):
    """Run the test on one ISA path, restoring the automatic choice after."""
    gd.set_isa(request.param)
    yield request.param
    gd.set_isa("auto")


@pytest.fixture(params=THREADS)
def threads(request):
    old = gd.get_num_threads()
    gd.set_num_threads(request.param)
    yield request.param
    gd.set_num_threads(old)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def run_on(isa_name: str, n_threads: int, fn):
    """Call fn() on one ISA path and thread count, restoring both after."""
    old = gd.get_num_threads()
    gd.set_isa(isa_name)
    gd.set_num_threads(n_threads)
    try:
        return fn()
    finally:
        gd.set_isa("auto")
        gd.set_num_threads(old)
