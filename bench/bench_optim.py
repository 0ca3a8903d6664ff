"""Optimizer benchmark: gdcore vs numpy vs torch vs the memory roofline.

    python bench/bench_optim.py [--quick]

Prints markdown tables of medians and ratios measured side by side in one
run (the same code runs as ``gdcore bench``).
"""

import argparse

from gdcore.bench import run_optim_bench

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    run_optim_bench(quick=ap.parse_args().quick)
