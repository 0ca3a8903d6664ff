"""Linear models: gdcore.linear vs scikit-learn's SGDClassifier, per epoch.

    python bench/bench_linear.py [--quick]

Side by side in one run, medians of repeats, the threads gdcore is set to
(default: all cores).  Each row is one fit of a fixed number of epochs
(tol=None) on the same data; the table gives the time per epoch, the ratio
scikit-learn / gdcore, and gdcore against the memory floor measured in the
same run: one streaming pass over X (gdcore's decision function, which reads
every row once).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller data, fewer repeats")
    args = ap.parse_args()

    import scipy.sparse as sp
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier as SkSGD

    import gdcore as gd
    from gdcore import _core
    from gdcore.linear import SGDClassifier

    n, d = (100_000, 100) if args.quick else (500_000, 100)
    epochs, repeats = 5, 3 if args.quick else 5
    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (X64 @ w + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    X32 = X64.astype(np.float32)
    info = gd.build_info()
    print(f"gdcore {info['version']} | ISA {info['isa_active']} | threads {info['num_threads']} | "
          f"dense {n} x {d}, {epochs} epochs per fit, median of {repeats}")
    print()
    print("| data | loss | gdcore settings | gdcore s/epoch | scikit-learn s/epoch | speed-up | gdcore / read-X floor |")
    print("|---|---|---|---:|---:|---:|---:|")

    def floor(X):
        coef = np.zeros(X.shape[1], X.dtype)
        return median_time(lambda: _core.decision_function(X, coef, 0.0), repeats)

    floors = {np.float64: floor(X64), np.float32: floor(X32)}
    settings = [
        ("batch_size=1, shuffle=True", dict(optimizer="sgd", batch_size=1, learning_rate="optimal", shuffle=True)),
        ("batch_size=1, shuffle='block'", dict(optimizer="sgd", batch_size=1, learning_rate="optimal", shuffle="block")),
        ("defaults", dict()),
    ]
    for loss in ("hinge", "log_loss"):
        sk = SkSGD(loss=loss, max_iter=epochs, tol=None, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t_sk = median_time(lambda: sk.fit(X64, y), repeats) / epochs
        for dtype, X in ((np.float64, X64), (np.float32, X32)):
            for name, kw in settings:
                if dtype == np.float32 and name != "defaults":
                    continue
                est = SGDClassifier(loss=loss, max_iter=epochs, tol=None, random_state=0, **kw)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    t = median_time(lambda: est.fit(X, y), repeats) / epochs
                print(f"| dense {np.dtype(dtype).name} | {loss} | {name} | {t:.4f} | {t_sk:.4f} | "
                      f"{t_sk / t:.1f}x | {t / floors[dtype]:.1f}x |")

    # sparse
    ns, ds, nnz = (50_000, 100_000, 30) if args.quick else (200_000, 100_000, 30)
    cols = rng.integers(0, ds, size=(ns, nnz))
    rows = np.repeat(np.arange(ns), nnz)
    Xs = sp.csr_matrix((rng.standard_normal(ns * nnz), (rows, cols.ravel())), shape=(ns, ds))
    ws = rng.standard_normal(ds)
    ys = (Xs @ ws > 0).astype(np.int64)
    for loss in ("hinge", "log_loss"):
        sk = SkSGD(loss=loss, max_iter=epochs, tol=None, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t_sk = median_time(lambda: sk.fit(Xs, ys), repeats) / epochs
        for name, kw in settings[:1] + [("defaults", dict())]:
            est = SGDClassifier(loss=loss, max_iter=epochs, tol=None, random_state=0, **kw)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t = median_time(lambda: est.fit(Xs, ys), repeats) / epochs
            print(f"| sparse {ns} x {ds}, {nnz}/row | {loss} | {name} | {t:.4f} | {t_sk:.4f} | "
                  f"{t_sk / t:.1f}x | n/a |")


if __name__ == "__main__":
    main()
