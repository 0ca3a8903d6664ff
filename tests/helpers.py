"""Constants and helpers shared by the tests (importable: pytest puts tests/
on sys.path)."""

from __future__ import annotations

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
