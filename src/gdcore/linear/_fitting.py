"""Fit / partial_fit plumbing shared by SGDClassifier and SGDRegressor."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, List, Sequence

import numpy as np


@contextmanager
def transaction(est: Any) -> Iterator[None]:
    """Restore the estimator's attributes if the block raises.

    Training never writes into arrays the estimator already holds (it works
    on copies and assigns the results at the end), so a shallow snapshot of
    ``__dict__`` is enough to leave a failing fit / partial_fit without any
    effect."""
    snapshot = dict(est.__dict__)
    try:
        yield
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(snapshot)
        raise


def sum_curves(curves: Sequence[List[float]]) -> List[float]:
    """Objective of a one-vs-rest model per epoch: the sum of its binary
    problems' objectives, a finished problem contributing its last value."""
    curves = [c for c in curves if c]
    if not curves:
        return []
    n = max(len(c) for c in curves)
    return [float(sum(c[min(e, len(c) - 1)] for c in curves)) for e in range(n)]


def r2_unweighted(y: np.ndarray, pred: np.ndarray) -> float:
    """scikit-learn's r2_score(y, pred) for finite float64 1-D arrays of at
    least two values, its operations in its order (one-column arrays, the
    sums along the rows, 1 when the residuals are all 0, 0 when only the
    targets' spread is)."""
    yt, yp = y.reshape(-1, 1), pred.reshape(-1, 1)
    numerator = np.sum(1.0 * (yt - yp) ** 2, axis=0)
    denominator = np.sum(1.0 * (yt - np.average(yt, axis=0)) ** 2, axis=0)
    if numerator[0] == 0:
        return 1.0
    if denominator[0] == 0:
        return 0.0
    return float(np.average(1 - (numerator / denominator)))


def weighted_r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    y = y.astype(np.float64)
    pred = pred.astype(np.float64)
    w = w.astype(np.float64)
    num = float(np.sum(w * (y - pred) ** 2))
    mean = float(np.average(y, weights=w)) if w.sum() > 0 else float(y.mean())
    den = float(np.sum(w * (y - mean) ** 2))
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den
