"""Linear models: how close the default fits get to the regularised optimum.

For each data set (features standardized, 75/25 split, alpha=1e-4) the
default SGDClassifier(loss="log_loss") and SGDRegressor() of gdcore and of
scikit-learn, against the exact optimum of the same objective (scikit-learn's
LogisticRegression(lbfgs) run to tol=1e-12 on each one-vs-rest problem; the
ridge normal equations for least squares).  "gap" is the relative excess of
the regularised training objective over the optimum (the largest over the
one-vs-rest problems), "acc" the test accuracy (R² for regression), medians
over three seeds.  The fit times are medians over five rounds of the three
seeds, gdcore's and scikit-learn's fits of a seed timed one after the
other; the speed-up is the median of those pairs' ratios.  A small data
set's fit is mostly fixed costs and the steps between epochs, not passes
over the data.  A last table times GridSearchCV over alpha (5 folds, the
estimator's own score) with each library's default classifier, paired over
three rounds, and a stream of partial_fit calls on small chunks (what a
call costs beyond its rows).  Usage: python bench/bench_linear_defaults.py
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

ALPHA = 1e-4


def _log_objective(w, b, X, ys):
    return float(np.mean(np.logaddexp(0.0, -ys * (X @ w + b))) + 0.5 * ALPHA * (w @ w))


def _sq_objective(w, b, X, y):
    return float(0.5 * np.mean((y - X @ w - b) ** 2) + 0.5 * ALPHA * (w @ w))


def _classification_sets():
    from sklearn import datasets

    return {
        "iris 112 x 4, 3 classes": datasets.load_iris(return_X_y=True),
        "wine 133 x 13, 3 classes": datasets.load_wine(return_X_y=True),
        "breast cancer 426 x 30": datasets.load_breast_cancer(return_X_y=True),
        "digits 1 347 x 64, 10 classes": datasets.load_digits(return_X_y=True),
        "synthetic 1 500 x 20": datasets.make_classification(2000, 20, random_state=0),
        "synthetic 15 000 x 50": datasets.make_classification(
            20000, 50, n_informative=20, random_state=1),
        "synthetic 15 000 x 200": datasets.make_classification(
            20000, 200, n_informative=40, random_state=2),
        "sparse 15 000 x 5 000, 30/row (CSR)": _sparse_classification(20000, 5000, 30),
    }


def _sparse_classification(n, d, nnz):
    """CSR rows of ``nnz`` standard-normal values in random columns; labels
    from a weight vector with 10 % non-zeros, plus noise."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    cols = rng.integers(0, d, size=(n, nnz))
    X = sp.csr_matrix((rng.standard_normal(n * nnz), (np.repeat(np.arange(n), nnz), cols.ravel())),
                      shape=(n, d))
    w = rng.standard_normal(d) * (rng.random(d) < 0.1)
    return X, (X @ w + 0.3 * rng.standard_normal(n) > 0).astype(int)


def _regression_sets():
    from sklearn import datasets

    return {
        "diabetes 331 x 10": datasets.load_diabetes(return_X_y=True),
        "synthetic 1 500 x 50": datasets.make_regression(2000, 50, noise=20, random_state=0),
        "synthetic 15 000 x 100": datasets.make_regression(20000, 100, noise=20, random_state=0),
    }


def _split(X, y, stratify):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if not hasattr(X, "tocsr"):  # (the sparse set's values are standard already)
        X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, random_state=0, stratify=y if stratify else None)


ROUNDS = 5


def _runs(make, Xtr, ytr, Xte, yte, gap_of, seeds):
    gaps, scores, epochs = [], [], []
    for s in seeds:
        est = make(s).fit(Xtr, ytr)
        gaps.append(gap_of(est))
        scores.append(est.score(Xte, yte))
        epochs.append(est.n_iter_)
    med = lambda v: float(np.median(v))  # noqa: E731
    return med(gaps), med(scores), med(epochs)


def _times(make_ours, make_theirs, Xtr, ytr, seeds):
    """(gdcore's median fit time, scikit-learn's, median ratio of the pairs)."""
    ours, theirs = [], []
    for _ in range(ROUNDS):
        for s in seeds:
            for make, out in ((make_ours, ours), (make_theirs, theirs)):
                est = make(s)
                t = time.perf_counter()
                est.fit(Xtr, ytr)
                out.append(time.perf_counter() - t)
    ratio = np.median(np.array(theirs) / np.array(ours))
    return float(np.median(ours)), float(np.median(theirs)), float(ratio)


def _print_table(metric: str, digits: int, rows) -> None:
    """rows: (data name, gdcore's _runs, scikit-learn's _runs, the optimum's
    score, _times)."""
    print()
    print(f"| data (training rows x features) | gdcore gap | gdcore test {metric} | epochs | "
          f"scikit-learn SGD gap | test {metric} | epochs | optimum's test {metric} | "
          f"gdcore fit ms | scikit-learn fit ms | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, ours, theirs, opt, (t_ours, t_theirs, ratio) in rows:
        print(f"| {name} | {ours[0]:.1e} | {ours[1]:.{digits}f} | {ours[2]:.0f} | {theirs[0]:.1e} | "
              f"{theirs[1]:.{digits}f} | {theirs[2]:.0f} | {opt:.{digits}f} | "
              f"{t_ours * 1e3:.2f} | {t_theirs * 1e3:.2f} | {ratio:.1f}x |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.linear_model import SGDClassifier as SkC
    from sklearn.linear_model import SGDRegressor as SkR

    import gdcore as gd
    from gdcore.linear import SGDClassifier, SGDRegressor

    warnings.simplefilter("ignore", ConvergenceWarning)
    seeds = (0, 1, 2)
    info = gd.build_info()
    print(f"gdcore {info['version']} | ISA {info['isa_active']} | threads {info['num_threads']} | "
          f"alpha {ALPHA}, standardized features, medians of {len(seeds)} seeds "
          f"(times: of {ROUNDS} rounds of them)")
    rows = []
    for name, (X, y) in _classification_sets().items():
        Xtr, Xte, ytr, yte = _split(X, y, stratify=True)
        classes = np.unique(ytr)
        problems = classes[1:] if len(classes) == 2 else classes
        C = 1.0 / (ALPHA * len(ytr))
        best, opt_models = [], []
        for c in problems:
            ys = np.where(ytr == c, 1.0, -1.0)
            lr = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(Xtr, ys > 0)
            opt_models.append(lr)
            best.append(_log_objective(lr.coef_[0], lr.intercept_[0], Xtr, ys))
        if len(classes) == 2:
            opt_acc = opt_models[0].score(Xte, yte == classes[1])
        else:
            D = np.column_stack([m.decision_function(Xte) for m in opt_models])
            opt_acc = float(np.mean(classes[D.argmax(1)] == yte))

        def gap_of(est, ytr=ytr, problems=problems, best=best, Xtr=Xtr):
            W, B = np.atleast_2d(est.coef_), np.atleast_1d(est.intercept_)
            return max((_log_objective(W[k], B[k], Xtr, np.where(ytr == c, 1.0, -1.0)) - f) / f
                       for k, (c, f) in enumerate(zip(problems, best)))

        make_ours = lambda s: SGDClassifier(loss="log_loss", random_state=s)  # noqa: E731
        make_theirs = lambda s: SkC(loss="log_loss", random_state=s)  # noqa: E731
        ours = _runs(make_ours, Xtr, ytr, Xte, yte, gap_of, seeds)
        theirs = _runs(make_theirs, Xtr, ytr, Xte, yte, gap_of, seeds)
        rows.append((name, ours, theirs, opt_acc, _times(make_ours, make_theirs, Xtr, ytr, seeds)))
    _print_table("acc.", 3, rows)
    rows = []
    for name, (X, y) in _regression_sets().items():
        Xtr, Xte, ytr, yte = _split(X, y, stratify=False)
        n, d = Xtr.shape
        Xc, yc = Xtr - Xtr.mean(0), ytr - ytr.mean()
        w = np.linalg.solve(Xc.T @ Xc / n + ALPHA * np.eye(d), Xc.T @ yc / n)
        b = ytr.mean() - Xtr.mean(0) @ w
        f = _sq_objective(w, b, Xtr, ytr)
        p = Xte @ w + b
        opt_r2 = 1.0 - np.sum((yte - p) ** 2) / np.sum((yte - yte.mean()) ** 2)

        def gap_of(est, f=f, Xtr=Xtr, ytr=ytr):
            return (_sq_objective(est.coef_, float(est.intercept_[0]), Xtr, ytr) - f) / f

        make_ours = lambda s: SGDRegressor(random_state=s)  # noqa: E731
        make_theirs = lambda s: SkR(random_state=s)  # noqa: E731
        ours = _runs(make_ours, Xtr, ytr, Xte, yte, gap_of, seeds)
        theirs = _runs(make_theirs, Xtr, ytr, Xte, yte, gap_of, seeds)
        rows.append((name, ours, theirs, opt_r2, _times(make_ours, make_theirs, Xtr, ytr, seeds)))
    _print_table("R²", 4, rows)
    _grid_search(SGDClassifier, SkC)
    _stream(SGDClassifier, SkC, SGDRegressor, SkR)


def _stream(ours_clf, theirs_clf, ours_reg, theirs_reg) -> None:
    """partial_fit over 200 chunks of 100 rows x 30 features (a binary
    classifier and a regressor), time per call, paired over three rounds."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_100, 30))
    y = (X[:, 0] + 0.5 * rng.standard_normal(len(X)) > 0).astype(int)
    yr = X @ rng.standard_normal(30) + rng.standard_normal(len(X))
    print()
    print("| partial_fit, 200 chunks of 100 x 30 | gdcore us a call | scikit-learn us a call | "
          "speed-up |")
    print("|---|---:|---:|---:|")
    for name, ours, theirs, target, kw in (
            ("classifier", ours_clf, theirs_clf, y, {"classes": np.array([0, 1])}),
            ("regressor", ours_reg, theirs_reg, yr, {})):
        times: dict = {0: [], 1: []}
        for _ in range(3):
            for k, cls in enumerate((ours, theirs)):
                est = cls(random_state=0)
                est.partial_fit(X[:100], target[:100], **kw)
                t = time.perf_counter()
                for i in range(1, 201):
                    est.partial_fit(X[i * 100:(i + 1) * 100], target[i * 100:(i + 1) * 100])
                times[k].append((time.perf_counter() - t) / 200)
        ratio = np.median(np.array(times[1]) / np.array(times[0]))
        print(f"| {name} | {np.median(times[0]) * 1e6:.0f} | {np.median(times[1]) * 1e6:.0f} | "
              f"{ratio:.1f}x |")


def _grid_search(ours_cls, theirs_cls) -> None:
    """GridSearchCV over alpha with each library's default classifier: what
    model selection on small data costs (many fits, each scored)."""
    from sklearn import datasets
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import StandardScaler

    grid = {"alpha": [1e-5, 1e-4, 1e-3, 1e-2]}
    print()
    print("| GridSearchCV(alpha in 1e-5 ... 1e-2, cv=5) | gdcore s | best CV acc. | "
          "scikit-learn s | best CV acc. | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, load in (("iris", datasets.load_iris), ("breast cancer", datasets.load_breast_cancer),
                       ("digits", datasets.load_digits)):
        X, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        times: dict = {0: [], 1: []}
        best = {}
        for _ in range(3):
            for k, cls in enumerate((ours_cls, theirs_cls)):
                search = GridSearchCV(cls(random_state=0), grid, cv=5)
                t = time.perf_counter()
                search.fit(X, y)
                times[k].append(time.perf_counter() - t)
                best[k] = search.best_score_
        ratio = np.median(np.array(times[1]) / np.array(times[0]))
        print(f"| {name} | {np.median(times[0]):.3f} | {best[0]:.3f} | {np.median(times[1]):.3f} | "
              f"{best[1]:.3f} | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
