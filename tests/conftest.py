"""Shared fixtures: every kernel test runs on every ISA path this CPU
supports and on 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ISAS, THREADS

import gdcore as gd


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
