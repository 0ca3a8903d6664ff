"""Constants and helpers shared by the tests (importable: pytest puts tests/
on sys.path)."""

from __future__ import annotations

import numpy as np

import gdcore as gd

ISAS = gd.build_info()["isa_supported"]
THREADS = [1, 2]

# Awkward sizes: empty, one element, vector tails around every width.
SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 1000]
LARGE = 1_100_003  # > 1M, odd


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


def read_ahead_rows(dtype, sparse: bool, seed: int, d: int = 100):
    """Rows for the loops' readers ahead (over 4 MiB of rows, the threshold
    from which a second thread reads the rows ahead of the steps), 301 rows
    past it: X (30 % zeros when ``sparse``), ±1 targets y, sample weights
    sw, and an order that visits most rows once, some twice and some never."""
    rng = np.random.default_rng(seed)
    n = (4 << 20) // (d * np.dtype(dtype).itemsize) + 301
    X = rng.standard_normal((n, d)).astype(dtype)
    if sparse:
        X[rng.random((n, d)) < 0.3] = 0.0
    y = np.where(X[:, :5].sum(axis=1) > 0, 1.0, -1.0).astype(dtype)
    sw = rng.uniform(0.5, 2.0, n).astype(dtype)
    order = np.concatenate([rng.permutation(n)[: n - 500], rng.integers(0, n, 900)])
    return X, y, sw, order.astype(np.int64), rng
