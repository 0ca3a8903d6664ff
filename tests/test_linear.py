"""gdcore.linear: SGDClassifier / SGDRegressor.

- scikit-learn's check_estimator for both estimators (defaults, and
  scikit-learn's own algorithm ``optimizer="sgd", batch_size=1``);
- the fused epoch against the plain-numpy oracle of ``reference/linear.py``
  (shuffle=False, awkward batch sizes, several optimizers and penalties);
- ``optimizer="sgd", batch_size=1`` against scikit-learn's SGD update by
  update (plain and averaged);
- accuracy, R² and objective against scikit-learn on the data sets it ships;
- float32, thread-count invariance, Pipeline / GridSearchCV / clone;
- one table of bad inputs (type and message), and failing calls that must
  leave the model exactly as it was;
- the package without scikit-learn (a subprocess that blocks the import).
"""

from __future__ import annotations

import copy
import math
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import gdcore as gd
from gdcore import _core
from gdcore.linear import SGDClassifier, SGDRegressor
from gdcore.linear._classifier import SIDE_BY_SIDE_MIN_VALUES

sklearn = pytest.importorskip("sklearn")

from reference import linear as ref  # noqa: E402
from sklearn import linear_model as sklm  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

SRC = Path(gd.__file__).resolve().parent.parent


# --------------------------------------------------------------------- data
@pytest.fixture(autouse=True)
def one_thread():
    """Tests run the kernels on one thread, except the thread-count test:
    results do not depend on the thread count (checked below), and a
    parallel region per mini-batch is very slow on an oversubscribed
    machine (measured: 13 µs vs 160-250 µs per batch of 128 × 64 when other
    processes keep both cores busy)."""
    old = gd.get_num_threads()
    gd.set_num_threads(1)
    yield
    gd.set_num_threads(old)


def _scaled_split(X, y, seed):
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=seed, stratify=y if y.dtype.kind in "iu" else None)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


@pytest.fixture(scope="module")
def small():
    """A standardized 300 × 8 binary problem (logistic regression: 97 %)."""
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_redundant=1, class_sep=2.0,
                               flip_y=0.01, random_state=0)
    return StandardScaler().fit_transform(X), y


def _logistic_objective(X, y01, alpha, w, b):
    z = (2.0 * y01 - 1.0) * (X @ w.astype(np.float64) + float(b))
    return float(np.logaddexp(0.0, -z).mean() + 0.5 * alpha * w.astype(np.float64) @ w.astype(np.float64))


def _logistic_optimum(X, y01, alpha):
    from scipy.optimize import minimize
    from scipy.special import expit

    ypm = 2.0 * y01 - 1.0
    n, d = X.shape

    def f(v):
        w, b = v[:d], v[d]
        z = ypm * (X @ w + b)
        g = -ypm * expit(-z) / n
        return np.logaddexp(0, -z).mean() + 0.5 * alpha * w @ w, np.r_[X.T @ g + alpha * w, g.sum()]

    r = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                 options=dict(maxiter=5000, gtol=1e-12, ftol=1e-15))
    return float(r.fun)


# ------------------------------------------------------------ check_estimator
SAMPLE_WEIGHT_XFAIL = (
    "stochastic gradient descent with the objective mean(s_i l_i) + penalty (scikit-learn's "
    "SGD objective, normalised by the number of rows) is not equivalent to repeating rows; "
    "scikit-learn lists the same expected failure for its own SGDClassifier/SGDRegressor"
)


AVERAGED_CLASS_WEIGHT_XFAIL = (
    "with class weights of 1000 and 0.0001 on noisy blobs, averaged per-sample SGD stops on "
    "scikit-learn's objective_sum plateau test after a few dozen epochs for some shuffle "
    "orders, before the averaged weights predict class 0 well; scikit-learn's own "
    "SGDClassifier(average=True, loss='log_loss') fails this check's 0.87 accuracy for "
    "random_state=13 and does so here for random_state=0 with gdcore's shuffle"
)


def _expected_failures(est):
    fails = {"check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_XFAIL,
             "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHT_XFAIL}
    if getattr(est, "average", False) and getattr(est, "batch_size", None) == 1 and \
            isinstance(est, SGDClassifier):
        fails["check_class_weight_classifiers"] = AVERAGED_CLASS_WEIGHT_XFAIL
    return fails


@parametrize_with_checks([SGDClassifier(), SGDRegressor(), SGDClassifier(loss="log_loss"),
                          SGDClassifier(loss="log_loss", multi_class="multinomial")],
                         expected_failed_checks=_expected_failures)
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


# scikit-learn's own algorithm needs all 1000 epochs on the noisy, unscaled
# data of check_class_weight_classifiers (scikit-learn's SGDClassifier warns
# there too).
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        SGDClassifier(loss="log_loss", optimizer="sgd", batch_size=1, learning_rate="optimal",
                      shuffle="block", average=True),
        SGDRegressor(optimizer="sgd", batch_size=1, learning_rate="invscaling", average=True),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_check_estimator_sklearn_algorithm(estimator, check):
    check(estimator)


# ---------------------------------------------------- the oracle, epoch by epoch
ORACLE_CASES = [
    # loss, penalty, optimizer, optimizer_params, batch_size, fit_intercept, learning_rate, weighted
    ("hinge", "l2", "sgd", {}, 7, True, "constant", False),
    ("log_loss", "l2", "adam", {}, 7, True, "invscaling", True),
    ("log_loss", "elasticnet", "adam", {"amsgrad": True}, 16, True, "constant", False),
    ("modified_huber", "l1", "sgd", {"momentum": 0.9, "nesterov": True}, 5, True, "constant", True),
    ("squared_hinge", None, "rmsprop", {"centered": True, "momentum": 0.5}, 32, False, "constant", False),
    ("perceptron", "l2", "adagrad", {}, 1, True, "optimal", False),
    ("huber", "l2", "nadam", {}, 50, True, "constant", True),
    ("squared_error", "elasticnet", "sgd", {}, 13, True, "invscaling", False),
    ("epsilon_insensitive", "l2", "adam", {"weight_decay": 0.01}, 8, True, "constant", False),
]


@pytest.mark.parametrize("case", ORACLE_CASES, ids=lambda c: f"{c[0]}-{c[2]}-bs{c[4]}")
def test_epochs_match_numpy_oracle(case):
    loss, penalty, opt_name, opt_params, bs, fit_intercept, lr_name, weighted = case
    rng = np.random.default_rng(3)
    n, d = 61, 5
    X = rng.standard_normal((n, d))
    regression = loss in ("squared_error", "huber", "epsilon_insensitive")
    y = X @ rng.standard_normal(d) + 0.2 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    kw = dict(loss=loss, penalty=penalty, alpha=0.01, l1_ratio=0.3, fit_intercept=fit_intercept,
              max_iter=3, tol=None, shuffle=False, learning_rate=lr_name, eta0=0.05, power_t=0.4,
              optimizer=opt_name, optimizer_params=opt_params, batch_size=bs)
    if regression:
        est = SGDRegressor(**kw).fit(X, y, sample_weight=sw)
        yy = y
        coef, intercept = est.coef_, est.intercept_
    else:
        labels = (y > 0).astype(int)
        est = SGDClassifier(**kw).fit(X, labels, sample_weight=sw)
        yy = np.where(labels == 1, 1.0, -1.0)
        coef, intercept = est.coef_[0], est.intercept_
    # The oracle: same rows in order, learning rates by scikit-learn's
    # formulas with t counting batches.
    w0 = np.zeros(d)
    b0 = np.zeros(1)
    if regression and opt_name != "sgd":
        # adaptive optimizers: the regressor starts at the target's mean and
        # scales the steps by its standard deviation
        b0[0] = y.mean() if sw is None else np.average(y, weights=sw)
    scale = 1.0
    if regression and opt_name != "sgd":
        m = np.average(y, weights=sw)
        scale = math.sqrt(np.average((y - m) ** 2, weights=sw))
    o = ref.oracle(opt_name, w0, b0, **opt_params)
    s = np.ones(n) if sw is None else sw
    nb = -(-n // bs)
    curve = []
    l1_state = {}  # the cumulative L1 penalty's, carried over like the optimizer state
    for epoch in range(3):
        t = 1.0 + epoch * nb + np.arange(nb)
        if lr_name == "constant":
            lrs = np.full(nb, 0.05)
        elif lr_name == "invscaling":
            lrs = 0.05 / t**0.4
        else:
            typw = math.sqrt(1.0 / math.sqrt(0.01))
            t0 = 1.0 / (typw * 0.01)
            lrs = 1.0 / (0.01 * (t0 + t - 1.0))
        total = ref.minibatch_epoch(X, yy, s, np.arange(n), loss, penalty, 0.01, 0.3, fit_intercept,
                                    bs, o, lrs * scale, l1_state=l1_state)
        w = o.params[0]
        pen = {None: 0.0, "l2": 0.5 * 0.01 * w @ w, "l1": 0.01 * np.abs(w).sum(),
               "elasticnet": 0.01 * (0.3 * np.abs(w).sum() + 0.7 * 0.5 * w @ w)}[penalty]
        curve.append(total / n + pen)  # (1/n) sum s_i loss_i + penalty
    np.testing.assert_allclose(coef, o.params[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(intercept, o.params[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.loss_curve_, curve, rtol=1e-9)
    assert est.t_ == 1 + 3 * nb and est.n_iter_ == 3


def test_float32_epoch_matches_oracle_to_float32_rounding():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((100, 37)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    est = SGDClassifier(loss="log_loss", shuffle=False, max_iter=2, tol=None, batch_size=10,
                        learning_rate="constant", eta0=0.01).fit(X, y)
    o = ref.oracle("adam", np.zeros(37), np.zeros(1))
    for _ in range(2):
        ref.minibatch_epoch(X.astype(np.float64), np.where(y == 1, 1.0, -1.0), np.ones(100), np.arange(100),
                            "log_loss", "l2", 1e-4, 0.15, True, 10, o, np.full(10, 0.01))
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    np.testing.assert_allclose(est.coef_[0], o.params[0], rtol=2e-3, atol=2e-5)


# ------------------------------------------- scikit-learn's algorithm, exactly
@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber", "perceptron", "squared_hinge"])
@pytest.mark.parametrize("learning_rate", ["optimal", "constant", "invscaling"])
@pytest.mark.parametrize("average", [False, True, 100])
def test_sgd_batch1_is_sklearns_algorithm(cancer, loss, learning_rate, average):
    X, y = cancer
    X = StandardScaler().fit_transform(X)[:200]
    y = y[:200]
    kw = dict(loss=loss, learning_rate=learning_rate, shuffle=False, max_iter=3, tol=None,
              eta0=0.01, average=average, class_weight={0: 1.5, 1: 1.0})
    sw = np.linspace(0.5, 1.5, len(y))
    ours = SGDClassifier(optimizer="sgd", batch_size=1, **kw).fit(X, y, sample_weight=sw)
    theirs = sklm.SGDClassifier(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-9 * np.abs(theirs.coef_).max())
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-7, atol=1e-9)
    assert ours.t_ == theirs.t_ and ours.n_iter_ == theirs.n_iter_


def test_sgd_regressor_batch1_is_sklearns_algorithm():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for loss in ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"):
        kw = dict(loss=loss, shuffle=False, max_iter=3, tol=None, average=10)
        ours = SGDRegressor(optimizer="sgd", batch_size=1, learning_rate="invscaling", **kw).fit(X, y)
        theirs = sklm.SGDRegressor(**kw).fit(X, y)
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9)
        assert ours.t_ == theirs.t_


def test_multiclass_is_one_vs_rest(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)[:400]
    y = y[:400]
    kw = dict(loss="log_loss", shuffle=False, max_iter=4, tol=None, class_weight={3: 2.0})
    multi = SGDClassifier(**kw).fit(X, y)
    assert multi.coef_.shape == (10, 64) and multi.intercept_.shape == (10,)
    for k in (0, 3, 9):
        # problem k: positives weighted by class k's weight, the rest by 1
        binary = SGDClassifier(**{**kw, "class_weight": {True: kw["class_weight"].get(k, 1.0), False: 1.0}})
        binary.fit(X, y == k)
        np.testing.assert_array_equal(multi.coef_[k], binary.coef_[0])
        np.testing.assert_array_equal(multi.intercept_[k], binary.intercept_[0])


# ------------------------------------------------- quality against scikit-learn
@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber"])
@pytest.mark.parametrize("dataset", ["cancer", "digits"])
def test_accuracy_matches_sklearn(request, loss, dataset):
    X, y = request.getfixturevalue(dataset)
    ours, theirs = [], []
    for seed in range(3):
        Xtr, Xte, ytr, yte = _scaled_split(X, y, seed)
        ours.append(SGDClassifier(loss=loss, random_state=seed).fit(Xtr, ytr).score(Xte, yte))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs.append(sklm.SGDClassifier(loss=loss, random_state=seed).fit(Xtr, ytr).score(Xte, yte))
    assert np.mean(ours) >= np.mean(theirs) - 0.01, (ours, theirs)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "epsilon_insensitive"])
def test_regression_r2_matches_sklearn(loss):
    X, y = load_diabetes(return_X_y=True)
    ours, theirs, ridge = [], [], []
    for seed in range(3):
        Xtr, Xte, ytr, yte = _scaled_split(X, y, seed)
        ours.append(SGDRegressor(loss=loss, random_state=seed).fit(Xtr, ytr).score(Xte, yte))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs.append(sklm.SGDRegressor(loss=loss, random_state=seed).fit(Xtr, ytr).score(Xte, yte))
        ridge.append(sklm.Ridge(alpha=1e-4 * len(ytr)).fit(Xtr, ytr).score(Xte, yte))
    # diabetes: R² ≈ 0.43 for least squares; scikit-learn's huber/epsilon
    # defaults do worse, gdcore's must stay close to the least-squares fit.
    assert np.mean(ours) >= min(np.mean(theirs), np.mean(ridge)) - 0.02, (ours, theirs, ridge)
    assert np.mean(ours) >= np.mean(ridge) - 0.03


def test_objective_against_sklearn_and_the_optimum(cancer):
    alpha = 1e-4
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 50))
    y = (rng.random(20000) < 1 / (1 + np.exp(-(X @ (rng.standard_normal(50) * 0.4) + 0.5)))).astype(int)
    fstar = _logistic_optimum(X, y, alpha)
    ours = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0).fit(X, y)
    f = _logistic_objective(X, y, alpha, ours.coef_[0], ours.intercept_[0])
    assert f / fstar - 1 < 1e-3
    assert ours.n_iter_ <= 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = sklm.SGDClassifier(loss="log_loss", alpha=alpha, random_state=0).fit(X, y)
    assert f <= _logistic_objective(X, y, alpha, sk.coef_[0], sk.intercept_[0])
    # breast cancer (nearly separable): gdcore's default objective is no
    # worse than scikit-learn's default SGD.
    Xc = StandardScaler().fit_transform(cancer[0])
    ours = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0).fit(Xc, cancer[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = sklm.SGDClassifier(loss="log_loss", alpha=alpha, random_state=0).fit(Xc, cancer[1])
    assert _logistic_objective(Xc, cancer[1], alpha, ours.coef_[0], ours.intercept_[0]) <= \
        _logistic_objective(Xc, cancer[1], alpha, sk.coef_[0], sk.intercept_[0])


# ------------------------------------------------------------ dtypes, threads
def test_float32_stays_float32(small):
    X, y = small
    X32 = X.astype(np.float32)
    clf = SGDClassifier(loss="log_loss", random_state=0).fit(X32, y)
    assert clf.coef_.dtype == np.float32 and clf.intercept_.dtype == np.float32
    assert clf.decision_function(X32).dtype == np.float32
    assert clf.decision_function(X).dtype == np.float64
    clf64 = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    assert abs(clf.score(X, y) - clf64.score(X, y)) <= 0.02
    clf.partial_fit(X, y)  # float64 data continues the float32 model
    assert clf.coef_.dtype == np.float32
    target = X32 @ np.arange(8, dtype=np.float32)
    reg = SGDRegressor(random_state=0).fit(X32, target)
    assert reg.coef_.dtype == np.float32 and reg.predict(X32).dtype == np.float32
    assert reg.score(X32, target) > 0.999


@pytest.mark.parametrize("shuffle", [True, "block"])
def test_thread_count_does_not_change_the_model(shuffle):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((1024, 64))  # batches of 256 × 64: split over threads
    y = (X @ rng.standard_normal(64) > 0).astype(int)
    old = gd.get_num_threads()
    fits = []
    try:
        for n in (1, 2):
            gd.set_num_threads(n)
            fits.append(SGDClassifier(batch_size=256, max_iter=3, tol=None, shuffle=shuffle,
                                      random_state=0).fit(X, y))
    finally:
        gd.set_num_threads(old)
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)
    assert fits[0].loss_curve_ == fits[1].loss_curve_


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_fit_does_not_depend_on_the_thread_count(penalty):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((1024, 64))  # batches of 256 × 64: split over threads
    y = (X[:, :6] @ rng.standard_normal(6) > 0).astype(int)
    old = gd.get_num_threads()
    fits = []
    try:
        for n in (1, 2):
            gd.set_num_threads(n)
            fits.append(SGDClassifier(penalty=penalty, alpha=0.01, l1_ratio=0.5, batch_size=256,
                                      max_iter=5, tol=None, random_state=0).fit(X, y))
    finally:
        gd.set_num_threads(old)
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert np.count_nonzero(fits[0].coef_ == 0) > 0


def test_every_isa_path_gives_the_same_model():
    from helpers import ISAS

    rng = np.random.default_rng(2)
    X = rng.standard_normal((600, 37))
    y = (X @ rng.standard_normal(37) > 0).astype(int)
    X32 = X.astype(np.float32)
    fits = {}
    try:
        for isa in ISAS:
            gd.set_isa(isa)
            fits[isa] = [SGDClassifier(loss=loss, batch_size=50, max_iter=3, tol=None, random_state=0).fit(data, y)
                         for loss in ("log_loss", "hinge") for data in (X, X32)]
    finally:
        gd.set_isa("auto")
    first = fits[ISAS[0]]
    for isa in ISAS[1:]:
        for a, b in zip(first, fits[isa]):
            np.testing.assert_array_equal(a.coef_, b.coef_, err_msg=isa)
            np.testing.assert_array_equal(a.intercept_, b.intercept_, err_msg=isa)


# ------------------------------------------------------------------ API
def test_attributes_and_shapes(small, digits):
    X, y = small
    clf = SGDClassifier(random_state=0).fit(X, y)
    assert clf.coef_.shape == (1, 8) and clf.intercept_.shape == (1,)
    assert clf.n_features_in_ == 8 and list(clf.classes_) == [0, 1]
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.t_ == 1 + clf.n_iter_ * math.ceil(300 / 9)  # batch_size="auto": 300 // 32 rows
    assert SGDClassifier(batch_size=128, random_state=0).fit(X, y).t_ % math.ceil(300 / 128) == 1
    assert clf.decision_function(X).shape == (300,)
    assert not hasattr(clf, "feature_names_in_")
    reg = SGDRegressor(random_state=0).fit(X, X[:, 0])
    assert reg.coef_.shape == (8,) and reg.intercept_.shape == (1,)
    labels = np.array(["b", "a", "c"])[np.arange(300) % 3]
    clf = SGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, labels)
    assert list(clf.classes_) == ["a", "b", "c"] and clf.predict(X).dtype.kind == "U"
    assert clf.decision_function(X).shape == (300, 3)


def test_predict_proba(small, digits):
    X, y = small
    clf = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    p = clf.predict_proba(X)
    d = clf.decision_function(X)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-d)), rtol=1e-12)
    np.testing.assert_allclose(np.log(p), clf.predict_log_proba(X))
    np.testing.assert_array_equal(clf.classes_[p.argmax(1)], clf.predict(X))
    Xd, yd = digits
    Xd = StandardScaler().fit_transform(Xd)[:300]
    multi = SGDClassifier(loss="log_loss", random_state=0, max_iter=5, tol=None).fit(Xd, yd[:300])
    sig = 1 / (1 + np.exp(-multi.decision_function(Xd)))
    np.testing.assert_allclose(multi.predict_proba(Xd), sig / sig.sum(1, keepdims=True), rtol=1e-12)
    mh = SGDClassifier(loss="modified_huber", random_state=0).fit(X, y)
    np.testing.assert_allclose(mh.predict_proba(X)[:, 1],
                               (np.clip(mh.decision_function(X), -1, 1) + 1) / 2)
    hinge = SGDClassifier().fit(X, y)
    assert not hasattr(hinge, "predict_proba") and not hasattr(hinge, "predict_log_proba")
    with pytest.raises(AttributeError, match="predict_proba"):
        hinge.predict_proba(X)


def test_verbose_prints_sklearns_epoch_lines(small, capsys):
    X, y = small
    SGDClassifier(verbose=1, max_iter=3, tol=None, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == 3 and "-- Epoch 3" in out
    for field in ("Norm: ", "NNZs: ", "Bias: ", "T: 300,", "T: 900,", "Avg. loss: ", "Total training time: "):
        assert field in out, field
    SGDClassifier(verbose=1, random_state=0).fit(X, y)
    assert "Convergence after" in capsys.readouterr().out


def test_progress_bar(small, capsys):
    pytest.importorskip("tqdm")
    X, y = small
    clf = SGDClassifier(progress=True, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "epoch" in err
    ref_clf = SGDClassifier(random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.coef_, ref_clf.coef_)


def test_schedules(small):
    X, y = small
    kw = dict(max_iter=4, tol=None, random_state=0, batch_size=128)
    const = SGDClassifier(learning_rate="constant", eta0=0.02, **kw).fit(X, y)
    steps = []

    def vectorised(k):
        steps.append(np.array(k, copy=True))
        return np.full(np.shape(k), 0.02)

    sched = SGDClassifier(schedule=vectorised, **kw).fit(X, y)
    np.testing.assert_array_equal(sched.coef_, const.coef_)
    np.testing.assert_array_equal(np.concatenate(steps), np.arange(4 * 3))  # 0-based batch counts
    scalar_only = SGDClassifier(schedule=lambda k: 0.02 if int(k) >= 0 else math.nan, **kw).fit(X, y)
    np.testing.assert_array_equal(scalar_only.coef_, const.coef_)
    inv = SGDClassifier(learning_rate="invscaling", eta0=0.05, power_t=0.3, **kw).fit(X, y)
    same = SGDClassifier(schedule=lambda k: 0.05 / (np.asarray(k) + 1.0) ** 0.3, **kw).fit(X, y)
    np.testing.assert_allclose(same.coef_, inv.coef_, rtol=1e-12)
    try:
        from gdcore import schedules
    except ImportError:  # pragma: no cover - written in parallel
        return
    cos = SGDClassifier(schedule=schedules.cosine(0.05, T_max=12), **kw).fit(X, y)
    assert cos.score(X, y) > 0.8


def test_optimizers_by_name(small):
    X, y = small
    for name, params, eta0 in [("sgd", {"momentum": 0.9}, 0.05), ("adam", {}, 0.01),
                               ("adamw", {"weight_decay": 0.0}, 0.01), ("rmsprop", {}, 0.01),
                               ("adagrad", {}, 0.1), ("adadelta", {}, 1.0), ("adamax", {}, 0.01),
                               ("nadam", {}, 0.01), ("radam", {}, 0.01), ("lion", {}, 0.001)]:
        clf = SGDClassifier(loss="log_loss", optimizer=name, optimizer_params=params, eta0=eta0,
                            random_state=0).fit(X, y)
        assert clf.score(X, y) > 0.85, name


def test_shuffle_modes_and_reproducibility(small):
    X, y = small
    for shuffle in (True, "block", False):
        a = SGDClassifier(shuffle=shuffle, random_state=3).fit(X, y)
        b = SGDClassifier(shuffle=shuffle, random_state=3).fit(X, y)
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert a.score(X, y) > 0.85
    c = SGDClassifier(shuffle=True, random_state=4, max_iter=3, tol=None).fit(X, y)
    d = SGDClassifier(shuffle=True, random_state=5, max_iter=3, tol=None).fit(X, y)
    assert not np.array_equal(c.coef_, d.coef_)


@pytest.mark.parametrize("inner", [True, False])
def test_block_order_keeps_blocks_together(inner):
    from gdcore.linear._base import block_order

    idx = np.arange(10_000, dtype=np.int64)
    out = block_order(idx, np.random.default_rng(0), block=4096, inner=inner)
    assert sorted(out.tolist()) == idx.tolist()
    blocks = out // 4096
    # each block's rows are contiguous in the output (3 runs), shuffled
    # inside or in order
    change = np.flatnonzero(np.diff(blocks)) + 1
    assert len(change) == 2
    for run in np.split(out, change):
        assert np.array_equal(run, np.sort(run)) == (not inner)
    assert not np.array_equal(out, idx)


def test_block_rows():
    import scipy.sparse as sp

    from gdcore.linear._base import BLOCK_BYTES, block_rows

    # BLOCK_BYTES of rows (values and indices), within [16, 4096] rows
    assert block_rows(np.zeros((10, 100))) == BLOCK_BYTES // 800
    assert block_rows(np.zeros((10, 100), np.float32)) == BLOCK_BYTES // 400
    assert block_rows(np.zeros((10, 1))) == 4096
    assert block_rows(np.zeros((10, 100_000))) == 16
    assert block_rows(np.zeros((0, 5))) == 4096
    C = sp.random(1000, 10_000, density=0.003, format="csr", random_state=0)  # 30 per row
    assert block_rows(C) == BLOCK_BYTES // int((C.data.nbytes + C.indices.nbytes) / 1000)


@pytest.mark.parametrize("n", [0, 1, 4095, 4096, 4097, 3 * 4096])
def test_block_order_sizes(n):
    from gdcore.linear._base import block_order

    idx = np.arange(n, dtype=np.int64) * 2 + 7  # any index set, not only 0..n-1
    out = block_order(idx, np.random.default_rng(1), block=4096)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(np.sort(out), idx)
    pos = (out - 7) // 2
    changes = np.count_nonzero(np.diff(pos // 4096))
    assert changes == max(0, -(-n // 4096) - 1)  # each block once, in one piece


def test_epoch_orders_drawn_ahead_equal_drawn_in_turn(monkeypatch):
    from gdcore.linear import _base

    idx = np.arange(30_000, dtype=np.int64) * 2 + 5  # any increasing rows
    y = np.random.default_rng(1).standard_normal(60_005)
    sw = np.random.default_rng(2).random(60_005)
    cases = ((True, None), (True, (y, None)), (True, (y, sw)), ("block", None), (False, None))
    for shuffle, targets in cases:
        ahead = _base._EpochOrders(shuffle, idx, np.random.default_rng(9), targets=targets)
        assert ahead.pool is not None or shuffle is False
        assert ahead.pieces == (targets is not None)
        got = []
        for k in range(4):
            order = ahead.next(more=k < 3)
            if targets is not None:
                # the orders come with the rows' targets in their order; the
                # first in pieces, 4096 rows first, each later piece as long
                # as all before it
                assert isinstance(order, _base._Pieces)
                parts = [(o.copy(), ty.copy(), None if tsw is None else tsw.copy())
                         for o, ty, tsw in order]
                want_lengths = [4096, 4096, 8192, 30_000 - 16384] if k == 0 else [30_000]
                assert [len(o) for o, _, _ in parts] == want_lengths
                order = np.concatenate([o for o, _, _ in parts])
                np.testing.assert_array_equal(np.concatenate([ty for _, ty, _ in parts]), y[order])
                if sw is not None and targets[1] is not None:
                    np.testing.assert_array_equal(
                        np.concatenate([tsw for _, _, tsw in parts]), sw[order])
                else:
                    assert all(tsw is None for _, _, tsw in parts)
            assert isinstance(order, np.ndarray)
            got.append(order.copy())
        ahead.close()
        monkeypatch.setattr(_base._EpochOrders, "AHEAD_ROWS", 10**9)
        inline = _base._EpochOrders(shuffle, idx, np.random.default_rng(9))
        assert inline.pool is None
        want = [inline.next(more=True).copy() for _ in range(4)]
        monkeypatch.undo()
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        if shuffle is not False:
            assert not np.array_equal(got[0], got[1])


def test_shuffle_auto():
    from gdcore.linear._base import AUTO_BLOCK_BYTES, looks_ordered, resolve_shuffle

    rng = np.random.default_rng(0)
    n = AUTO_BLOCK_BYTES // (8 * 8) + 1000
    # X.nbytes counts every row, so a zero-stride view stands in for big data
    big = np.lib.stride_tricks.as_strided(np.zeros(8), shape=(n, 8), strides=(0, 8))
    assert big.nbytes > AUTO_BLOCK_BYTES
    labels = rng.integers(0, 3, n)
    assert resolve_shuffle("auto", big, labels, classifier=True) == "block"
    assert resolve_shuffle("auto", big, np.sort(labels), classifier=True) is True
    assert resolve_shuffle("auto", big[:1000], labels[:1000], classifier=True) is True
    values = rng.standard_normal(n)
    assert resolve_shuffle("auto", big, values, classifier=False) == "block"
    assert resolve_shuffle("auto", big, np.sort(values), classifier=False) is True
    for explicit in (True, False, "block"):
        assert resolve_shuffle(explicit, big, labels, classifier=True) == explicit
    # grouped (not sorted) labels, and a mostly-one-class random target
    assert looks_ordered(np.repeat(rng.integers(0, 2, 100), 50), classifier=True)
    assert not looks_ordered((rng.random(5000) < 0.05).astype(int), classifier=True)
    assert not looks_ordered(np.array([1, 1]), classifier=True)


def test_auto_batch_size():
    from gdcore.linear._base import auto_batch_size

    # n // 32 within [8, 128]; beyond 131 072 rows n // 1024, at most 1024
    want = {0: 8, 100: 8, 300: 9, 4096: 128, 20_000: 128, 131_072: 128, 200_000: 195,
            500_000: 488, 1 << 20: 1024, 10**7: 1024}
    assert {n: auto_batch_size(n) for n in want} == want


def test_auto_step_scale():
    from gdcore.linear._base import auto_step_scale

    # sqrt(1024 / updates per epoch) within [1, 10]
    want = {0: 10.0, 1: 10.0, 10: 10.0, 16: 8.0, 64: 4.0, 256: 2.0, 1024: 1.0, 5000: 1.0}
    assert {u: auto_step_scale(u) for u in want} == want


@pytest.mark.parametrize("kw, scale", [
    ({}, math.sqrt(1024 / 34)),  # Adam, 300 rows in batches of 9: 34 updates per epoch
    ({"optimizer": "rmsprop", "batch_size": 100}, 10.0),  # 3 updates per epoch
    ({"optimizer": "sgd"}, 1.0),  # plain SGD's step is not scale-free: eta0
])
def test_auto_learning_rate_rule(small, kw, scale):
    # the weights of a default fit are those of the documented step sequence
    # (eta0 * s until the plateau, then divided by 3 ** (1 / s) per epoch)
    # given as an explicit schedule
    X, y = small
    est = SGDClassifier(loss="log_loss", random_state=0, n_iter_no_change=3, tol=1e-3, **kw).fit(X, y)
    steps, stopped = ref.auto_learning_rate_steps(est.loss_curve_, 0.01, scale, 1e-3, 3)
    assert stopped and len(steps) == est.n_iter_ < 1000
    assert steps[0] == 0.01 * scale and min(steps) < steps[0]  # (the annealing ran)
    nb = -(-300 // kw.get("batch_size", 9))  # batches per epoch ("auto": 300 // 32 rows)
    replay = SGDClassifier(loss="log_loss", random_state=0, max_iter=len(steps), tol=None,
                           schedule=lambda step: steps[step // nb], **kw).fit(X, y)
    np.testing.assert_array_equal(replay.coef_, est.coef_)
    np.testing.assert_array_equal(replay.intercept_, est.intercept_)


def test_auto_learning_rate_rule_regressor_tests_the_plateau_relatively(small):
    # the regressor's plateau test asks for tol * |best| (its objective is
    # in the target's units squared): replayed by the reference on the
    # fit's own curve, the steps given as a schedule give the same weights
    X, _ = small
    y = X @ np.linspace(-1.0, 1.0, 8) + 0.3 * np.random.default_rng(4).standard_normal(len(X))
    y = y / 100  # (an objective of about 1e-5: the absolute test sees no progress at all)
    est = SGDRegressor(random_state=0, n_iter_no_change=3).fit(X, y)
    scale = math.sqrt(1024 / 34)
    steps, stopped = ref.auto_learning_rate_steps(est.loss_curve_, 0.01, scale, 1e-3, 3,
                                                  relative=True)
    assert stopped and len(steps) == est.n_iter_
    absolute, _ = ref.auto_learning_rate_steps(est.loss_curve_, 0.01, scale, 1e-3, 3)
    assert absolute != steps  # (the two tests differ on this fit)
    replay = SGDRegressor(random_state=0, max_iter=len(steps), tol=None,
                          schedule=lambda step: steps[step // 34]).fit(X, y)
    np.testing.assert_array_equal(replay.coef_, est.coef_)


@pytest.mark.parametrize("loss", ["squared_error", "squared_epsilon_insensitive"])
def test_default_regression_fit_does_not_depend_on_the_targets_units(loss):
    # steps scaled by the target's spread and the relative plateau test: y
    # and y / 1000 give the same fit up to the factor, for the losses whose
    # objective scales with the target's units squared as the penalty's
    # does (the absolute test stopped the small target's squared-error fit
    # after 13 epochs, 0.2 above the optimum)
    from sklearn.datasets import make_regression

    X, y = make_regression(2000, 20, noise=10, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    y = y - y.mean()
    eps = dict(epsilon=0.1 * y.std()) if loss != "squared_error" else {}
    big = SGDRegressor(loss=loss, random_state=0, **eps).fit(X, y)
    eps = {k: v / 1000 for k, v in eps.items()}
    small = SGDRegressor(loss=loss, random_state=0, **eps).fit(X, y / 1000)
    assert big.n_iter_ == small.n_iter_
    np.testing.assert_allclose(small.coef_ * 1000, big.coef_, rtol=1e-6, atol=1e-9 * y.std())
    if loss == "squared_error":  # near the optimum (ridge normal equations)
        alpha, n = 1e-4, len(y)
        Xc = np.c_[X, np.ones(n)]
        reg = np.diag([alpha * n] * 20 + [0.0])
        wb = np.linalg.solve(Xc.T @ Xc + reg, Xc.T @ (y / 1000))
        f = lambda w, b: 0.5 * np.mean((X @ w + b - y / 1000) ** 2) + 0.5 * alpha * w @ w
        assert f(small.coef_, small.intercept_[0]) / f(wb[:20], wb[20]) - 1 < 1e-3


def _documented_objective(est, X, y, sw=None):
    """(1/n) sum_i s_i loss_i + alpha/2 |w|^2 at the returned weights (L2)."""
    from gdcore import losses

    p = X @ est.coef_.ravel() + est.intercept_[0]
    ys = np.where(y > 0, 1.0, -1.0) if isinstance(est, SGDClassifier) else y
    loss = losses.get(est.loss)
    s = np.ones(len(y)) if sw is None else sw
    return float(np.mean(s * loss.value(ys, p)) + 0.5 * est.alpha * est.coef_.ravel() @ est.coef_.ravel())


@pytest.mark.parametrize("weight", [0.1, 10.0])
def test_loss_curve_is_the_objective_with_sample_weights(small, weight):
    # the steps descend (1/n) sum s_i loss_i + penalty; the curve reports it
    # (it divided by sum s_i: ten times off with weights of 0.1 or 10)
    X, y = small
    sw = np.full(len(y), weight)
    est = SGDClassifier(loss="log_loss", random_state=0).fit(X, y, sample_weight=sw)
    # (the curve sums each row's loss at the weights of its batch, during
    # the last epoch: a few per cent from the objective at the end)
    np.testing.assert_allclose(est.loss_curve_[-1], _documented_objective(est, X, y, sw), rtol=0.05)


@pytest.mark.parametrize("cls", [SGDClassifier, SGDRegressor])
def test_loss_curve_of_an_averaged_fit_is_the_averaged_models(small, cls):
    # with averaging the fit returns the average: the curve and the tol test
    # read its objective (they read the iterates' loss: a curve 48.0 for a
    # model at 161.8, stopped 2.35 above the optimum)
    X, y = small
    if cls is SGDRegressor:
        y = X @ np.linspace(-1.0, 1.0, 8) + 0.1 * np.random.default_rng(2).standard_normal(len(X))
    est = cls(optimizer="sgd", batch_size=32, average=True, random_state=0, max_iter=30,
              tol=None).fit(X, y)
    np.testing.assert_allclose(est.loss_curve_[-1], _documented_objective(est, X, y), rtol=1e-9)


def test_auto_learning_rate_stream_and_tol_none_take_eta0(small):
    # partial_fit's chunks say nothing about an epoch's size, and without
    # the plateau test (tol=None) there is no annealing: steps of eta0
    X, y = small
    const = dict(learning_rate="constant", eta0=0.01, random_state=0)
    a = SGDClassifier(random_state=0, max_iter=2, tol=None).fit(X, y)
    b = SGDClassifier(max_iter=2, tol=None, **const).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = SGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])
    d = SGDClassifier(max_iter=1, tol=None, **const).fit(X, y)
    np.testing.assert_array_equal(c.coef_, d.coef_)
    r1 = SGDRegressor(random_state=0).partial_fit(X, X @ np.arange(8.0))
    r2 = SGDRegressor(max_iter=1, tol=None, **const).fit(X, X @ np.arange(8.0))
    np.testing.assert_array_equal(r1.coef_, r2.coef_)


def test_defaults_on_small_data_near_the_optimum():
    # Few updates per epoch: the scaled "auto" step and its slower annealing
    # (before them: iris test accuracy 0.868 for both losses; the ridge gap
    # 8e-4 to 1.2e-3 over six seeds)
    from sklearn.datasets import load_iris, make_regression

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)
    for loss in ("hinge", "log_loss"):  # the optimum (one-vs-rest): 0.92 and 0.97
        accs = [SGDClassifier(loss=loss, random_state=s).fit(Xtr, ytr).score(Xte, yte) for s in range(3)]
        assert np.mean(accs) >= 0.92, (loss, accs)
    X, y = make_regression(2000, 50, noise=20, random_state=0)
    X = StandardScaler().fit_transform(X)
    n, alpha = len(y), 1e-4
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(50), Xc.T @ yc / n)
    b = y.mean() - X.mean(0) @ w

    def objective(w, b):
        return 0.5 * np.mean((y - X @ w - b) ** 2) + 0.5 * alpha * w @ w

    for s in range(2):
        reg = SGDRegressor(random_state=s).fit(X, y)
        assert objective(reg.coef_, reg.intercept_[0]) <= objective(w, b) * (1 + 3e-4)


def test_early_stopping(small):
    X, y = small
    clf = SGDClassifier(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                        random_state=0).fit(X, y)
    assert clf.n_iter_ < 60 and clf.score(X, y) > 0.85
    # 80 % of the rows train: updates per epoch
    assert clf.t_ == 1 + clf.n_iter_ * math.ceil(240 / 8)  # "auto" batch: max(8, 240 // 32)
    reg = SGDRegressor(early_stopping=True, random_state=0).fit(X, X @ np.arange(8.0))
    assert reg.score(X, X @ np.arange(8.0)) > 0.99
    with pytest.raises(ValueError, match="train set will be empty|empty set"):
        SGDRegressor(early_stopping=True, validation_fraction=0.99).fit(X[:20], y[:20])


def test_warm_start_coef_init_and_partial_fit(small):
    X, y = small
    a = SGDClassifier(random_state=0, max_iter=3, tol=None, batch_size=128).fit(X, y)
    b = SGDClassifier(random_state=0, max_iter=3, tol=None, batch_size=128, warm_start=True).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    start = b.coef_.copy()
    b.fit(X, y)  # continues from the previous solution
    c = SGDClassifier(random_state=0, max_iter=3, tol=None, batch_size=128).fit(X, y, coef_init=start,
                                                                intercept_init=a.intercept_)
    np.testing.assert_array_equal(b.coef_, c.coef_)
    assert b.t_ == c.t_ == 1 + 3 * 3
    p = SGDClassifier(random_state=0, batch_size=128)
    for _ in range(3):
        p.partial_fit(X, y, classes=[0, 1])
    assert p.t_ == 1 + 3 * 3 and p.n_iter_ == 1 and len(p.loss_curve_) == 3
    assert p.loss_curve_[2] < p.loss_curve_[0]
    # partial_fit continues the optimizer state: three calls == one 3-epoch
    # fit when the order is fixed
    q = SGDClassifier(shuffle=False, max_iter=3, tol=None).fit(X, y)
    r = SGDClassifier(shuffle=False)
    for _ in range(3):
        r.partial_fit(X, y, classes=np.array([0, 1]))
    np.testing.assert_array_equal(q.coef_, r.coef_)


def _sparse_truth_data(seed=0, n=2000, d=50):
    """Five informative features of fifty (the data of the L1 report)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[:5] = [2, -1.5, 1, 0.8, -0.5]
    y = (X @ w + 0.3 * rng.standard_normal(n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("kw, max_nnz", [
    ({}, 15),                                    # Adam, batch_size="auto": 13
    ({"optimizer": "rmsprop"}, 15),              # 10
    ({"optimizer": "sgd", "batch_size": 32}, 20),  # 17
    ({"optimizer": "sgd", "batch_size": 32, "learning_rate": "optimal"}, 12),  # 9
])
def test_l1_minibatch_fit_gives_exact_zeros(kw, max_nnz):
    # the cumulative L1 truncation after each mini-batch step sets unneeded
    # weights to exactly 0 (a subgradient α·sign(w) left all 50 non-zero);
    # its threshold in the optimizer's own metric lets adaptive optimizers
    # zero most noise weights too (a shared lr·α threshold left Adam 40);
    # the fit predicts as well as scikit-learn's per-sample L1 fit (the
    # optimum itself keeps 15: test_l1_minibatch_fit_reaches_the_l1_optimum)
    X, y = _sparse_truth_data()
    Xt, yt = _sparse_truth_data(seed=1)
    ours = SGDClassifier(penalty="l1", alpha=0.01, random_state=0, **kw).fit(X, y)
    theirs = sklm.SGDClassifier(penalty="l1", alpha=0.01, random_state=0).fit(X, y)
    nz = np.flatnonzero(ours.coef_[0])
    assert set(range(5)) <= set(nz) and len(nz) <= max_nnz, nz
    assert ours.score(Xt, yt) >= theirs.score(Xt, yt) - 0.01
    # elastic net zeroes some too
    enet = SGDClassifier(penalty="elasticnet", l1_ratio=0.5, alpha=0.01, random_state=0,
                         **kw).fit(X, y)
    assert np.count_nonzero(enet.coef_ == 0) > 0


def _l1_svm_optimum(X, y01, alpha):
    """min mean(hinge) + alpha·‖w‖₁ over (w, b) as a linear program (scipy's
    HiGHS): w = w⁺ − w⁻, b = b⁺ − b⁻, slacks ξ ≥ 1 − yᵢ(xᵢ·w + b), ξ ≥ 0."""
    linprog = pytest.importorskip("scipy.optimize").linprog
    n, d = X.shape
    ys = 2.0 * y01 - 1.0
    c = np.concatenate([alpha * np.ones(2 * d), [0.0, 0.0], np.ones(n) / n])
    A = np.hstack([-ys[:, None] * X, ys[:, None] * X, -ys[:, None], ys[:, None], -np.eye(n)])
    res = linprog(c, A_ub=A, b_ub=-np.ones(n), bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun, res.x[:d] - res.x[d:2 * d]


@pytest.mark.parametrize("kw", [
    {},                                                              # Adam: 0.1872
    {"optimizer": "rmsprop"},                                        # 0.1874
    {"optimizer": "sgd", "batch_size": 32, "learning_rate": "optimal"},  # 0.1876
])
def test_l1_minibatch_fit_reaches_the_l1_optimum(kw):
    # the L1-regularised hinge optimum of the sparse-truth data (a linear
    # program: objective 0.187, 15 non-zero weights); scikit-learn's
    # per-sample fit keeps 5 weights but ends at 0.59-0.91
    X, y = _sparse_truth_data()
    f_opt, w_opt = _l1_svm_optimum(X, y, 0.01)
    est = SGDClassifier(penalty="l1", alpha=0.01, random_state=0, **kw).fit(X, y)
    w, b = est.coef_[0], est.intercept_[0]
    f = np.mean(np.maximum(0.0, 1.0 - (2.0 * y - 1.0) * (X @ w + b))) + 0.01 * np.abs(w).sum()
    assert f <= f_opt * 1.01, (f, f_opt)
    assert np.count_nonzero(w) <= np.count_nonzero(np.abs(w_opt) > 1e-9)


@pytest.mark.parametrize("kw", [
    {},
    {"optimizer": "sgd", "batch_size": 32},
    {"optimizer": "sgd", "batch_size": 32, "average": 10},
    {"loss": "log_loss", "multi_class": "multinomial", "batch_size": 32},
])
def test_l1_partial_fit_continues_the_truncation_state(kw):
    # the cumulative penalty's u and q carry over like the optimizer state:
    # three partial_fit calls == one 3-epoch fit (fixed order)
    X, y = _sparse_truth_data(n=600, d=20)
    if kw.get("multi_class"):
        y = y + (X[:, 2] > 1)  # three classes
    classes = np.unique(y)
    est = dict(penalty="l1", alpha=0.01, shuffle=False, **kw)
    q = SGDClassifier(max_iter=3, tol=None, **est).fit(X, y)
    r = SGDClassifier(**est)
    for _ in range(3):
        r.partial_fit(X, y, classes=classes)
    np.testing.assert_array_equal(q.coef_, r.coef_)
    np.testing.assert_array_equal(q.intercept_, r.intercept_)
    # (the weights, not their average, hold the truncation's zeros)
    assert all(np.count_nonzero(p.coef == 0) > 0 for p in q._problems)
    # (the state matters: restarting it before the last call changes the model)
    s = SGDClassifier(**est)
    for i in range(3):
        if i == 2:
            for p in s._problems:
                p.l1_q[:] = 0
                p.l1_u[:] = 0
        s.partial_fit(X, y, classes=classes)
    assert not np.array_equal(s.coef_, q.coef_)


def test_class_and_sample_weights(small):
    X, y = small
    kw = dict(random_state=0, max_iter=5, tol=None)
    cw = SGDClassifier(class_weight={0: 3.0}, **kw).fit(X, y)
    sw = SGDClassifier(**kw).fit(X, y, sample_weight=np.where(y == 0, 3.0, 1.0))
    np.testing.assert_array_equal(cw.coef_, sw.coef_)
    yb = np.r_[np.zeros(250, int), np.ones(50, int)]
    bal = SGDClassifier(class_weight="balanced", **kw).fit(X, yb)
    counts = np.bincount(yb)
    explicit = SGDClassifier(class_weight={0: 300 / (2 * counts[0]), 1: 300 / (2 * counts[1])}, **kw).fit(X, yb)
    np.testing.assert_allclose(bal.coef_, explicit.coef_, rtol=1e-12)
    zero = SGDClassifier(shuffle=False, max_iter=3, tol=None, batch_size=1, optimizer="sgd",
                         learning_rate="constant").fit(X, y, sample_weight=np.r_[np.ones(150), np.zeros(150)])
    assert np.all(np.isfinite(zero.coef_))


def test_pipeline_gridsearch_clone_pickle(small):
    X, y = small
    pipe = make_pipeline(StandardScaler(), SGDClassifier(random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.85
    grid = GridSearchCV(SGDClassifier(random_state=0, max_iter=20, tol=None),
                        {"alpha": [1e-4, 1e-2], "batch_size": [32, 128], "optimizer": ["adam", "sgd"]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.8 and set(grid.best_params_) == {"alpha", "batch_size", "optimizer"}
    est = SGDRegressor(optimizer="nadam", optimizer_params={"momentum_decay": 0.005}, batch_size=7)
    c = clone(est)
    assert c.get_params() == est.get_params() and c is not est
    est.set_params(alpha=0.5, shuffle="block")
    assert est.alpha == 0.5 and est.shuffle == "block"
    fitted = SGDClassifier(random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.decision_function(X), fitted.decision_function(X))
    again.partial_fit(X, y)
    fitted.partial_fit(X, y)
    np.testing.assert_array_equal(again.coef_, fitted.coef_)


def test_convergence_warning(small):
    X, y = small
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        SGDClassifier(max_iter=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
        SGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])


# ------------------------------------------------------------ bad input table
def _nan(X):
    X = X.copy()
    X[3, 2] = np.nan
    return X


def _inf(X):
    X = X.copy()
    X[0, 0] = np.inf
    return X


BAD = [
    # (id, estimator factory, call(est, X, y) , exception, message regex)
    ("nan-X", SGDClassifier, lambda e, X, y: e.fit(_nan(X), y), ValueError, "Input X contains NaN"),
    ("inf-X", SGDRegressor, lambda e, X, y: e.fit(_inf(X), y), ValueError, "Input X contains infinity"),
    # dense X's check runs in the first epoch: every training path finds NaN
    # and infinity, and that error comes before any other
    ("nan-X-one-class", SGDClassifier, lambda e, X, y: e.fit(_nan(X), np.zeros(len(y))), ValueError,
     "Input X contains NaN"),
    ("nan-X-per-sample", lambda: SGDClassifier(loss="hinge", optimizer="sgd", batch_size=1,
                                               learning_rate="optimal"),
     lambda e, X, y: e.fit(_nan(X), y), ValueError, "Input X contains NaN"),
    ("nan-X-averaged", lambda: SGDClassifier(loss="hinge", average=3), lambda e, X, y: e.fit(_nan(X), y),
     ValueError, "Input X contains NaN"),
    ("inf-X-multinomial", lambda: SGDClassifier(loss="log_loss", multi_class="multinomial"),
     lambda e, X, y: e.fit(_inf(X), np.arange(len(y)) % 3), ValueError, "Input X contains infinity"),
    ("nan-X-partial", SGDRegressor, lambda e, X, y: e.partial_fit(_nan(X), y), ValueError,
     "Input X contains NaN"),
    # (X tiled past the size from which one-vs-rest problems run side by side)
    ("nan-X-ovr-threads", lambda: SGDClassifier(n_jobs=2),
     lambda e, X, y: e.fit(np.tile(_nan(X), (28, 1)), np.arange(28 * len(y)) % 3),
     ValueError, "Input X contains NaN"),
    ("inf-X-per-sample-reg", lambda: SGDRegressor(optimizer="sgd", batch_size=1, learning_rate="invscaling"),
     lambda e, X, y: e.fit(_inf(X), y), ValueError, "Input X contains infinity"),
    ("nan-X-early-stopping", lambda: SGDClassifier(early_stopping=True), lambda e, X, y: e.fit(_nan(X), y),
     ValueError, "Input X contains NaN"),
    ("nan-y", SGDRegressor, lambda e, X, y: e.fit(X, np.where(np.arange(len(y)) == 4, np.nan, 1.0)),
     ValueError, "Input y contains NaN"),
    ("X-1d", SGDClassifier, lambda e, X, y: e.fit(X[:, 0], y), ValueError, "Expected 2D array, got 1D array"),
    ("y-2d", SGDRegressor, lambda e, X, y: e.fit(X, np.c_[y, y]), ValueError, "y should be a 1d array"),
    ("lengths", SGDClassifier, lambda e, X, y: e.fit(X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    ("empty", SGDClassifier, lambda e, X, y: e.fit(X[:0], y[:0]), ValueError, "0 sample"),
    ("one-class", SGDClassifier, lambda e, X, y: e.fit(X, np.zeros(len(y))), ValueError,
     "The number of classes has to be greater than one; got 1 class"),
    ("continuous-labels", SGDClassifier, lambda e, X, y: e.fit(X, X[:, 0]), ValueError, "Unknown label type"),
    ("loss", lambda: SGDClassifier(loss="squared_loss"), lambda e, X, y: e.fit(X, y), ValueError,
     "The 'loss' parameter of SGDClassifier must be a str among"),
    ("reg-loss", lambda: SGDRegressor(loss="hinge"), lambda e, X, y: e.fit(X, y), ValueError,
     "The 'loss' parameter of SGDRegressor"),
    ("penalty", lambda: SGDClassifier(penalty="l3"), lambda e, X, y: e.fit(X, y), ValueError, "'penalty' parameter"),
    ("optimizer", lambda: SGDClassifier(optimizer="adamm"), lambda e, X, y: e.fit(X, y), ValueError,
     "'optimizer' parameter .* among"),
    ("learning-rate", lambda: SGDRegressor(learning_rate="cosine"), lambda e, X, y: e.fit(X, y), ValueError,
     "'learning_rate' parameter"),
    ("alpha", lambda: SGDClassifier(alpha=-0.1), lambda e, X, y: e.fit(X, y), ValueError,
     r"'alpha' parameter of SGDClassifier must be a float in the range \[0.0, inf\). Got -0.1"),
    ("l1-ratio", lambda: SGDClassifier(l1_ratio=1.5), lambda e, X, y: e.fit(X, y), ValueError, "'l1_ratio' parameter"),
    ("l1-ratio-neg", lambda: SGDRegressor(l1_ratio=-0.1), lambda e, X, y: e.fit(X, y), ValueError, "l1_ratio"),
    ("batch-size-0", lambda: SGDClassifier(batch_size=0), lambda e, X, y: e.fit(X, y), ValueError,
     r"'batch_size' parameter of SGDClassifier must be an int in the range \[1, inf\)"),
    ("batch-size-float", lambda: SGDRegressor(batch_size=2.5), lambda e, X, y: e.fit(X, y), TypeError, "batch_size"),
    ("eta0", lambda: SGDClassifier(eta0=0.0), lambda e, X, y: e.fit(X, y), ValueError, "'eta0' parameter"),
    ("shuffle", lambda: SGDClassifier(shuffle="blocks"), lambda e, X, y: e.fit(X, y), ValueError, "'shuffle'"),
    ("schedule", lambda: SGDClassifier(schedule=0.1), lambda e, X, y: e.fit(X, y), ValueError, "'schedule'"),
    ("schedule-negative", lambda: SGDClassifier(schedule=lambda k: -np.ones(np.shape(k))),
     lambda e, X, y: e.fit(X, y), ValueError, "schedule returned the learning rate -1.0"),
    ("optimizer-params", lambda: SGDClassifier(optimizer_params={"beta": 0.9}), lambda e, X, y: e.fit(X, y),
     TypeError, "not valid for optimizer='adam'"),
    ("optimizer-params-lr", lambda: SGDClassifier(optimizer_params={"lr": 0.1}), lambda e, X, y: e.fit(X, y),
     ValueError, "must not contain 'lr'"),
    ("optimizer-params-value", lambda: SGDClassifier(optimizer="sgd", optimizer_params={"momentum": -1}),
     lambda e, X, y: e.fit(X, y), ValueError, "momentum"),
    ("optimal-alpha-0", lambda: SGDClassifier(learning_rate="optimal", alpha=0), lambda e, X, y: e.fit(X, y),
     ValueError, "alpha must be > 0 since learning_rate is 'optimal'"),
    ("elasticnet-no-ratio", lambda: SGDClassifier(penalty="elasticnet", l1_ratio=None),
     lambda e, X, y: e.fit(X, y), ValueError, "l1_ratio must be set"),
    ("sample-weight-shape", SGDRegressor, lambda e, X, y: e.fit(X, y, sample_weight=np.ones(3)), ValueError,
     "sample_weight.shape"),
    ("coef-init", SGDClassifier, lambda e, X, y: e.fit(X, y, coef_init=np.zeros(3)), ValueError,
     "Provided coef_init does not match dataset"),
    ("intercept-init", SGDRegressor, lambda e, X, y: e.fit(X, y, intercept_init=np.zeros(2)), ValueError,
     "Provided intercept_init does not match dataset"),
    ("partial-no-classes", SGDClassifier, lambda e, X, y: e.partial_fit(X, y), ValueError,
     "classes must be passed on the first call to partial_fit"),
    ("partial-early-stopping", lambda: SGDRegressor(early_stopping=True), lambda e, X, y: e.partial_fit(X, y),
     ValueError, "early_stopping should be False with partial_fit"),
    ("partial-balanced", lambda: SGDClassifier(class_weight="balanced"),
     lambda e, X, y: e.partial_fit(X, y, classes=[0, 1]), ValueError, "class_weight 'balanced' is not supported"),
    ("predict-unfitted", SGDClassifier, lambda e, X, y: e.predict(X), NotFittedError, "not fitted yet"),
    ("predict-unfitted-reg", SGDRegressor, lambda e, X, y: e.predict(X), NotFittedError, "not fitted yet"),
    ("complex", SGDRegressor, lambda e, X, y: e.fit(X + 1j, y), ValueError, "Complex data not supported"),
    # an infinite value is outside every interval open or unbounded there,
    # as in scikit-learn
    ("tol-inf", lambda: SGDClassifier(tol=np.inf), lambda e, X, y: e.fit(X, y), ValueError,
     r"'tol' parameter of SGDClassifier must be a float in the range \[0.0, inf\) or None. Got inf"),
    ("alpha-inf", lambda: SGDRegressor(alpha=np.inf), lambda e, X, y: e.fit(X, y), ValueError,
     "'alpha' parameter of SGDRegressor .* Got inf"),
    ("eta0-inf", lambda: SGDClassifier(eta0=np.inf), lambda e, X, y: e.fit(X, y), ValueError,
     "'eta0' parameter"),
    ("epsilon-inf", lambda: SGDRegressor(epsilon=np.inf), lambda e, X, y: e.fit(X, y), ValueError,
     "'epsilon' parameter"),
    ("power-t-inf", lambda: SGDRegressor(power_t=-np.inf), lambda e, X, y: e.fit(X, y), ValueError,
     "'power_t' parameter"),
    # rates and losses beyond the floating-point range: scikit-learn's error
    ("rate-overflow", lambda: SGDClassifier(learning_rate="invscaling", eta0=0.1, power_t=-1000),
     lambda e, X, y: e.fit(X, y), ValueError, "Floating-point under-/overflow occurred at epoch #1"),
    ("loss-overflow", lambda: SGDClassifier(optimizer="lion", eta0=1e307, tol=None, max_iter=5),
     lambda e, X, y: e.fit(X, y), ValueError, "Floating-point under-/overflow occurred at epoch #1"),
    ("optimizer-params-maximize-type", lambda: SGDClassifier(optimizer_params={"maximize": "no"}),
     lambda e, X, y: e.fit(X, y), ValueError, r"optimizer_params\['maximize'\] must be a bool"),
    ("schedule-none", lambda: SGDClassifier(schedule=lambda k: None), lambda e, X, y: e.fit(X, y),
     TypeError, "schedule must return a real learning rate for a step, got None"),
    ("schedule-bool", lambda: SGDRegressor(schedule=lambda k: True), lambda e, X, y: e.fit(X, y),
     TypeError, "schedule must return a real learning rate"),
    ("n-jobs-0", lambda: SGDClassifier(n_jobs=0), lambda e, X, y: e.fit(X, np.arange(len(y)) % 3),
     ValueError, "n_jobs == 0 has no meaning"),
]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("cls", [SGDClassifier, SGDRegressor])
def test_non_finite_X_gets_scikit_learns_error(small, cls, bad):
    sk_linear = pytest.importorskip("sklearn.linear_model")
    X, y = small
    X = X.copy()
    X[150, 3] = bad
    errors = []
    for est in (cls(), getattr(sk_linear, cls.__name__)()):
        with pytest.raises(ValueError) as info:
            est.fit(X, y)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input(small, case):
    _, factory, call, exc, msg = case
    X, y = small
    est = factory()
    with pytest.raises(exc, match=msg):
        call(est, X, y)
    assert not any(k.endswith("_") and not k.startswith("__") for k in vars(est)), vars(est).keys()


@pytest.mark.parametrize("scale", [1e13, 1e17])
def test_large_targets_are_fitted(scale):
    # the mini-batch loops take the loss derivative as it is: clipped at
    # 1e12 (scikit-learn's per-sample algorithm does), steps on targets of
    # 1e17 were the L2 penalty's decay alone (R^2 0.10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3) * scale
    assert SGDRegressor(random_state=0).fit(X, y).score(X, y) > 0.999
    reg = SGDRegressor(optimizer="sgd", batch_size=200, learning_rate="constant", eta0=0.5,
                       alpha=0.0, max_iter=200, tol=None, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.coef_, np.array([1.0, -2.0, 0.5]) * scale, rtol=1e-6)


def test_target_moments_of_huge_targets():
    from gdcore.linear._regressor import _target_moments

    y = np.array([1.0, 2.0, 4.0]) * 1e200
    wsum, mean, var = _target_moments(y, np.ones(3))
    np.testing.assert_allclose([wsum, mean], [3.0, 7e200 / 3])
    assert var == np.inf or var > 1e400  # beyond float64: inf, and no overflow warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, mean, var = _target_moments(np.array([1.0, 3.0]) * 1e150, np.ones(2))
    np.testing.assert_allclose([mean, var], [2e150, 1e300])


@pytest.mark.parametrize("make", [
    lambda: SGDClassifier(penalty="l1", alpha=0.05, random_state=0, max_iter=5, tol=None),
    lambda: SGDClassifier(loss="log_loss", penalty="l1", alpha=0.05, random_state=0, max_iter=5,
                          tol=None, multi_class="multinomial"),
    lambda: SGDRegressor(penalty="l1", alpha=0.05, random_state=0, max_iter=5, tol=None),
], ids=["ovr", "multinomial", "regressor"])
def test_sparsify_and_densify(small, make):
    sp = pytest.importorskip("scipy.sparse")
    X, y = small
    y = np.arange(len(y)) % 3 if isinstance(make(), SGDClassifier) else X[:, 0] - 2 * X[:, 1]
    est = make()
    with pytest.raises(NotFittedError):
        est.sparsify()
    with pytest.raises(NotFittedError):
        est.densify()
    est.fit(X, y)
    dense = est.coef_.copy()
    assert np.count_nonzero(dense == 0) > 0  # the L1 penalty's exact zeros
    predict = est.predict(X)
    assert est.sparsify() is est
    assert sp.issparse(est.coef_)
    assert est.coef_.nnz == np.count_nonzero(dense)
    assert est.coef_.shape in (dense.shape, (1,) + dense.shape)
    np.testing.assert_array_equal(est.predict(X), predict)  # bit for bit
    assert est.score(X, y) == make().fit(X, y).score(X, y)
    # further training reads the weights from the sparse coef_ ...
    twin = copy.deepcopy(est).densify()
    assert type(twin.coef_) is np.ndarray and twin.coef_.shape == dense.shape
    np.testing.assert_array_equal(twin.coef_, dense)
    call = (lambda e: e.partial_fit(X, y, classes=[0, 1, 2])) if isinstance(est, SGDClassifier) else (
        lambda e: e.partial_fit(X, y))
    call(est)
    call(twin)
    assert type(est.coef_) is np.ndarray  # ... and leaves it dense
    np.testing.assert_array_equal(est.coef_, twin.coef_)
    # warm start from a sparse coef_ equals warm start from the dense one
    a = make().set_params(warm_start=True).fit(X, y).sparsify().fit(X, y)
    b = make().set_params(warm_start=True).fit(X, y).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    if make().__class__.__name__ == "SGDClassifier":
        sk = pytest.importorskip("sklearn.linear_model").SGDClassifier(random_state=0).fit(X, y)
        assert est.sparsify().coef_.shape == sk.sparsify().coef_.shape


@pytest.mark.parametrize("cls", [SGDClassifier, SGDRegressor])
def test_batch_larger_than_the_data_is_the_whole_data(small, cls):
    # (buffers were sized by batch_size: 10**9 rows of residuals for 300)
    X, y = small
    kw = dict(random_state=0, max_iter=3, tol=None, shuffle=False)
    huge = cls(batch_size=10**12, **kw).fit(X, y)
    whole = cls(batch_size=len(X), **kw).fit(X, y)
    np.testing.assert_array_equal(huge.coef_, whole.coef_)
    np.testing.assert_array_equal(huge.intercept_, whole.intercept_)


@pytest.mark.parametrize("kw", [{}, dict(optimizer="sgd", batch_size=1, learning_rate="invscaling")])
def test_average_switched_on_mid_stream(small, kw):
    # the running mean from update `average` on cannot be formed once those
    # updates were made without it (a zero average weighted by the update
    # count shrank the model: R^2 1.0 -> -0.74); a later start works
    X, _ = small
    y = X @ np.linspace(-1.0, 2.0, 8) + 3.0
    reg = SGDRegressor(random_state=0, **kw)
    for _ in range(3):
        reg.partial_fit(X, y)
    before = (reg.coef_.copy(), reg.intercept_.copy(), reg.t_)
    reg.set_params(average=1)
    with pytest.raises(ValueError, match=r"average=1 was set after \d+ updates made without"):
        reg.partial_fit(X[:50], y[:50])
    np.testing.assert_array_equal(reg.coef_, before[0])
    assert reg.t_ == before[2]
    # set before its start, it is as if it had been set from the first call
    start = int(reg.t_) + 5
    reg.set_params(average=start)
    reg.partial_fit(X, y)
    twin = SGDRegressor(random_state=0, average=start, **kw)
    for _ in range(4):
        twin.partial_fit(X, y)
    np.testing.assert_array_equal(reg.coef_, twin.coef_)
    np.testing.assert_array_equal(reg.intercept_, twin.intercept_)


def test_uint64_labels_beyond_int64(small):
    X, _ = small
    labels = np.array([2**63, 2**63 + 1, 2**63 + 2], dtype=np.uint64)
    y = labels[np.arange(len(X)) % 3]
    for fit in (lambda e: e.fit(X, y), lambda e: e.partial_fit(X, y, classes=labels)):
        clf = fit(SGDClassifier(random_state=0, max_iter=3, tol=None))
        np.testing.assert_array_equal(clf.classes_, labels)
        assert clf.classes_.dtype == np.uint64
        assert set(clf.predict(X).tolist()) <= set(labels.tolist())


def test_feature_count_mismatch(small):
    X, y = small
    clf = SGDClassifier(random_state=0).fit(X, y)
    for call in (clf.predict, clf.decision_function):
        with pytest.raises(ValueError, match="X has 7 features, but SGDClassifier is expecting 8 features"):
            call(X[:, :7])
    with pytest.raises(ValueError, match="X has 7 features"):
        clf.partial_fit(X[:, :7], y)
    reg = SGDRegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 9 features, but SGDRegressor is expecting 8"):
        reg.predict(np.c_[X, X[:, 0]])


def _state(est):
    return {k: copy.deepcopy(v) for k, v in vars(est).items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if k == "_problems":
            for p, q in zip(a[k], b[k]):
                _assert_same_state(vars(p), vars(q))
        elif isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        elif isinstance(a[k], list) and a[k] and isinstance(a[k][0], np.ndarray):
            for u, v in zip(a[k], b[k]):
                np.testing.assert_array_equal(u, v)
        else:
            assert a[k] == b[k] or (a[k] is None and b[k] is None), k


@pytest.mark.parametrize("cls", [SGDClassifier, SGDRegressor])
def test_failing_partial_fit_changes_nothing(small, cls):
    X, y = small
    est = cls(random_state=0)
    kw = {"classes": [0, 1]} if cls is SGDClassifier else {}
    est.partial_fit(X, y, **kw)
    est.partial_fit(X, y)
    before = _state(est)
    bad_calls = [
        lambda: est.partial_fit(_nan(X), y),
        lambda: est.partial_fit(X[:, :5], y),
        lambda: est.partial_fit(X, y, sample_weight=np.ones(4)),
    ]
    if cls is SGDClassifier:
        bad_calls += [lambda: est.partial_fit(X, np.where(y == 1, 7, 0)),
                      lambda: est.partial_fit(X, y, classes=[0, 1, 2])]
    for call in bad_calls:
        with pytest.raises(ValueError):
            call()
        _assert_same_state(before, _state(est))
    # overflow in the middle of training: the model is left untouched
    est.set_params(optimizer="sgd", learning_rate="constant", eta0=1e300, batch_size=1)
    before = _state(est)
    with pytest.raises(ValueError, match="Floating-point under-/overflow"):
        est.partial_fit(X * 1e10, y)
    _assert_same_state(before, _state(est))
    # a first partial_fit that fails leaves an unfitted estimator
    fresh = cls()
    with pytest.raises(ValueError):
        fresh.partial_fit(X, y + 5 if cls is SGDClassifier else y[:5], **kw)
    assert vars(fresh) == vars(cls())


# -------------------------------------------------------- without scikit-learn
def test_imports_and_works_without_sklearn(tmp_path):
    script = textwrap.dedent(
        """
        import sys, importlib.abc

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "sklearn" or name.startswith("sklearn."):
                    raise ImportError("blocked for the test")
                return None

        sys.meta_path.insert(0, Block())
        import numpy as np
        from gdcore.linear import SGDClassifier, SGDRegressor
        from gdcore.linear import _compat
        assert not _compat.HAVE_SKLEARN
        assert "sklearn" not in sys.modules
        rng = np.random.default_rng(0)
        X = rng.standard_normal((300, 4)); y = (X[:, 0] - X[:, 1] > 0).astype(int)
        clf = SGDClassifier(loss="log_loss", random_state=0)
        try:
            clf.predict(X)
        except _compat.NotFittedError as e:
            assert isinstance(e, ValueError) and isinstance(e, AttributeError)
        else:
            raise AssertionError("predict before fit must raise")
        clf.fit(X, y)
        assert clf.score(X, y) > 0.95, clf.score(X, y)
        assert clf.predict_proba(X).shape == (300, 2)
        assert not hasattr(SGDClassifier().fit(X, y), "predict_proba")
        assert clf.get_params()["loss"] == "log_loss"
        clf.set_params(alpha=0.01)
        assert clf.alpha == 0.01
        for bad, msg in ((lambda: SGDClassifier(alpha=-1).fit(X, y), "'alpha' parameter"),
                         (lambda: clf.fit(np.where(X > 2, np.nan, X), y), "NaN"),
                         (lambda: clf.predict(X[:, :3]), "X has 3 features"),
                         (lambda: SGDClassifier().fit(X, np.zeros(300)), "greater than one")):
            try:
                bad()
            except ValueError as e:
                assert msg in str(e), (msg, str(e))
            else:
                raise AssertionError(msg)
        try:
            import scipy.sparse
            SGDClassifier().fit(scipy.sparse.csr_matrix(X), y)
        except TypeError as e:
            assert "sparse input is not supported yet" in str(e)
        class Frame:
            columns = ["a", "b", "c", "d"]
            def __array__(self, dtype=None, copy=None):
                return X
        reg = SGDRegressor(random_state=0, early_stopping=True).fit(Frame(), X @ np.arange(4.0) + 1)
        assert list(reg.feature_names_in_) == ["a", "b", "c", "d"]
        assert reg.score(X, X @ np.arange(4.0) + 1) > 0.99
        multi = SGDClassifier(random_state=0, class_weight="balanced").fit(X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0))
        assert multi.coef_.shape == (3, 4)
        print("ok")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


# ------------------------------------------------------------------ sparse
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("Est, kw", [
    # (a sparse fit with all step-size defaults runs scikit-learn's algorithm,
    # so the mini-batch path is asked for explicitly)
    (SGDClassifier, dict(loss="log_loss", batch_size=32)),
    (SGDClassifier, dict(loss="hinge", optimizer="rmsprop", batch_size=16)),
    (SGDRegressor, dict(loss="squared_error")),
    # plain SGD on sparse rows: the lazy O(nnz) step (scale times a vector)
    (SGDClassifier, dict(loss="log_loss", optimizer="sgd", batch_size=8, learning_rate="optimal")),
    (SGDRegressor, dict(optimizer="sgd", batch_size=5, learning_rate="invscaling", eta0=0.05,
                        penalty=None)),
])
def test_sparse_fit_equals_dense_fit(fmt, Est, kw):
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 40))
    X[rng.random(X.shape) < 0.7] = 0.0
    w = rng.standard_normal(40)
    y = (X @ w > 0).astype(int) if Est is SGDClassifier else X @ w + 0.1
    dense = Est(random_state=0, max_iter=20, tol=None, **kw).fit(X, y)
    sparse = Est(random_state=0, max_iter=20, tol=None, **kw).fit(sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_sparse_int32_and_int64_indices_fit_the_same_model():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(8)
    X = rng.standard_normal((400, 60))
    X[rng.random(X.shape) < 0.8] = 0.0
    y = (X @ rng.standard_normal(60) > 0).astype(int)
    X32 = sp.csr_matrix(X)
    X64 = sp.csr_matrix(X)
    X64.indices, X64.indptr = X64.indices.astype(np.int64), X64.indptr.astype(np.int64)
    assert X32.indices.dtype == np.int32 and X64.indices.dtype == np.int64
    for kw in (dict(), dict(batch_size=32)):  # per-sample and mini-batch paths
        a = SGDClassifier(random_state=0, max_iter=5, tol=None, **kw).fit(X32, y)
        b = SGDClassifier(random_state=0, max_iter=5, tol=None, **kw).fit(X64, y)
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.intercept_, b.intercept_)


def test_sparse_sklearn_algorithm_equals_scikit_learn():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(400, 200, density=0.05, format="csr", random_state=1)
    y = (X @ np.random.default_rng(2).standard_normal(200) > 0).astype(int)
    kw = dict(shuffle=False, max_iter=5, tol=None, average=10)
    ours = SGDClassifier(optimizer="sgd", batch_size=1, learning_rate="optimal", **kw).fit(X, y)
    theirs = sklm.SGDClassifier(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9, atol=1e-12)


def _objectives(printed: str):
    return [float(line.split("Objective: ")[1].split(",")[0])
            for line in printed.splitlines() if "Objective: " in line]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss, penalty", [("hinge", "l2"), ("log_loss", "elasticnet"),
                                           ("modified_huber", "l1")])
def test_sklearn_algorithm_stops_like_scikit_learn(sparse, loss, penalty, capsys):
    # scikit-learn's tol test runs on its objective_sum: each sample's loss
    # plus the penalty at its running norms; the same updates then give the
    # same objective every epoch, the same stop and the same n_iter_
    sp = pytest.importorskip("scipy.sparse")
    from sklearn.datasets import make_classification

    X, y = make_classification(2000, 20, random_state=3)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X[np.abs(X) < 0.8] = 0.0
        X = sp.csr_matrix(X)
    # (alpha=1e-2: with smaller alphas the "optimal" rate's first steps are
    # so large that rounding differences -- scikit-learn's sequential dot
    # products, its log-loss shortcuts beyond |z| > 18 -- grow into
    # visibly different trajectories)
    kw = dict(loss=loss, penalty=penalty, alpha=1e-2, shuffle=False, verbose=1)
    theirs = sklm.SGDClassifier(**kw).fit(X, y)
    want = _objectives(capsys.readouterr().out)
    ours = SGDClassifier(optimizer="sgd", batch_size=1, learning_rate="optimal", **kw).fit(X, y)
    got = _objectives(capsys.readouterr().out)
    assert ours.n_iter_ == theirs.n_iter_ == len(want) == len(got)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # printed with 6 decimals
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_sklearn_algorithm_regressor_stops_like_scikit_learn(penalty, capsys):
    from sklearn.datasets import make_regression

    X, y = make_regression(1500, 15, noise=5.0, random_state=4)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    kw = dict(penalty=penalty, alpha=1e-3, shuffle=False, verbose=1)
    theirs = sklm.SGDRegressor(**kw).fit(X, y)
    want = _objectives(capsys.readouterr().out)
    ours = SGDRegressor(optimizer="sgd", batch_size=1, learning_rate="invscaling", eta0=0.01,
                        power_t=0.25, **kw).fit(X, y)
    got = _objectives(capsys.readouterr().out)
    assert ours.n_iter_ == theirs.n_iter_ == len(want) == len(got)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-9)


def test_one_vs_rest_in_parallel_equals_sequential():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)  # (past the size from which problems run side by side)
    assert X.size >= SIDE_BY_SIDE_MIN_VALUES
    seq = SGDClassifier(n_jobs=1, random_state=0, max_iter=15, tol=None).fit(X, y)
    par = SGDClassifier(n_jobs=2, random_state=0, max_iter=15, tol=None).fit(X, y)
    np.testing.assert_array_equal(par.coef_, seq.coef_)
    np.testing.assert_array_equal(par.intercept_, seq.intercept_)
    assert par.n_iter_ == seq.n_iter_ and par.t_ == seq.t_


def test_one_vs_rest_threads_only_from_a_size_on(monkeypatch, rng):
    # below SIDE_BY_SIDE_MIN_VALUES values the problems train in turn on the
    # calling thread (n_jobs or not); from there on side by side
    import concurrent.futures as futures

    pools = []

    class Spy(futures.ThreadPoolExecutor):
        def __init__(self, max_workers=None, **kw):
            pools.append(max_workers)
            super().__init__(max_workers=max_workers, **kw)

    monkeypatch.setattr(futures, "ThreadPoolExecutor", Spy)
    rows = SIDE_BY_SIDE_MIN_VALUES // 8
    X = rng.standard_normal((rows, 8))
    y = np.argmax(X[:, :3], axis=1)
    kw = dict(n_jobs=2, random_state=0, max_iter=2, tol=None)
    small = SGDClassifier(**kw).fit(X[: rows - 1], y[: rows - 1])
    assert pools == []
    SGDClassifier(**kw).fit(X, y)
    assert pools == [2]
    alone = SGDClassifier(**{**kw, "n_jobs": 1}).fit(X[: rows - 1], y[: rows - 1])
    np.testing.assert_array_equal(small.coef_, alone.coef_)


@pytest.mark.parametrize("n_jobs", [2, 4])
def test_one_vs_rest_threads_outnumbering_the_cores(n_jobs, rng):
    # batches of 128 rows x 40 features want two threads per epoch: with
    # n_jobs problems side by side an epoch gets the processors the others
    # leave (at least its own thread), the threads held can outnumber a
    # small machine's cores and a team's hand-offs then sleep instead of
    # spinning; the results are those of one problem after the other
    X = rng.standard_normal((8192, 40))
    y = np.argmax(X[:, :4] + 0.5 * rng.standard_normal((8192, 4)), axis=1)
    old = gd.get_num_threads()
    gd.set_num_threads(2)
    try:
        seq = SGDClassifier(n_jobs=1, random_state=0, max_iter=3, tol=None).fit(X, y)
        par = SGDClassifier(n_jobs=n_jobs, random_state=0, max_iter=3, tol=None).fit(X, y)
    finally:
        gd.set_num_threads(old)
    np.testing.assert_array_equal(par.coef_, seq.coef_)
    np.testing.assert_array_equal(par.intercept_, seq.intercept_)
    assert seq.score(X, y) > 0.6  # chance: 0.25


def test_more_threads_than_processors_gives_the_same_fit(rng):
    # a mini-batch loop runs on at most the processors that are free; asking
    # for more threads than there are changes nothing in the result
    X = rng.standard_normal((8192, 40)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.standard_normal(8192) > 0).astype(int)
    old = gd.get_num_threads()
    fits = {}
    try:
        for nt in (1, 2, 2 * (os.cpu_count() or 1) + 1):
            gd.set_num_threads(nt)
            fits[nt] = SGDClassifier(loss="log_loss", random_state=0, max_iter=4, tol=None).fit(X, y)
    finally:
        gd.set_num_threads(old)
    ref_fit = fits.pop(1)
    for fit in fits.values():
        np.testing.assert_array_equal(fit.coef_, ref_fit.coef_)
        np.testing.assert_array_equal(fit.intercept_, ref_fit.intercept_)
        assert fit.loss_curve_ == ref_fit.loss_curve_
    assert ref_fit.score(X, y) > 0.85


def test_openmp_barrier_hand_off_gives_the_same_fit(tmp_path):
    # GDCORE_OPENMP_BARRIERS=1 runs the two-thread mini-batch loop on OpenMP's
    # barriers (the path of platforms without futexes) instead of the
    # per-thread counters: the same weights, losses and counters, for dense
    # and sparse rows, one problem, one-vs-rest and softmax (dense and sparse)
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import scipy.sparse as sp
        import gdcore as gd
        from gdcore.linear import SGDClassifier
        gd.set_num_threads(2)
        rng = np.random.default_rng(5)
        X = rng.standard_normal((6000, 48))
        X[rng.random(X.shape) < 0.3] = 0.0
        y2 = (X[:, 0] - X[:, 1] > 0).astype(int)
        y3 = np.argmax(X[:, :3], axis=1)
        out = []
        for Xi, y, kw in [(X, y2, {}), (X.astype(np.float32), y2, dict(loss="hinge")),
                          (X, y3, {}), (X, y3, dict(loss="log_loss", multi_class="multinomial")),
                          (sp.csr_matrix(X), y2, dict(batch_size=256, optimizer="rmsprop")),
                          (sp.csr_matrix(X), y3, dict(loss="log_loss", multi_class="multinomial"))]:
            c = SGDClassifier(max_iter=3, tol=None, random_state=0, batch_size=kw.pop("batch_size", 256),
                              **kw).fit(Xi, y)
            out += [c.coef_.astype(np.float64).ravel(), np.asarray(c.intercept_, np.float64),
                    np.asarray(c.loss_curve_), np.array([c.t_])]
        np.save(sys.argv[1], np.concatenate(out))
    """)
    paths = {}
    for name, flag in (("counters", None), ("barriers", "1")):
        env = dict(os.environ)
        env.pop("GDCORE_OPENMP_BARRIERS", None)
        if flag:
            env["GDCORE_OPENMP_BARRIERS"] = flag
        paths[name] = tmp_path / f"{name}.npy"
        out = subprocess.run([sys.executable, "-c", script, str(paths[name])], capture_output=True,
                             text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
    a, b = np.load(paths["counters"]), np.load(paths["barriers"])
    assert a.size > 400 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------- multinomial
def test_multinomial_mode_reaches_the_softmax_optimum():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-3
    clf = SGDClassifier(loss="log_loss", multi_class="multinomial", alpha=alpha, random_state=0,
                        max_iter=300, tol=1e-5).fit(X, y)
    assert clf.coef_.shape == (10, 64) and clf.intercept_.shape == (10,)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(proba.argmax(axis=1), np.searchsorted(clf.classes_, clf.predict(X)))

    def objective(W, b):
        Z = X @ W.T + b
        lse = np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1)) + Z.max(1)
        return float(np.mean(lse - Z[np.arange(len(y)), y]) + 0.5 * alpha * np.sum(W * W))

    # the same objective, solved by scikit-learn's lbfgs (C = 1 / (n alpha))
    ref = LogisticRegression(C=1.0 / (len(y) * alpha), max_iter=5000, tol=1e-10).fit(X, y)
    f_ours, f_ref = objective(clf.coef_, clf.intercept_), objective(ref.coef_, ref.intercept_)
    assert f_ours <= f_ref * (1 + 2e-2), (f_ours, f_ref)
    assert clf.score(X, y) >= ref.score(X, y) - 0.01


def test_multinomial_needs_log_loss_and_partial_fit_continues():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    y = np.repeat([0, 1, 2], 30)
    with pytest.raises(ValueError, match="log_loss"):
        SGDClassifier(loss="hinge", multi_class="multinomial").fit(X, y)
    clf = SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    first = clf.coef_.copy()
    clf.partial_fit(X, y)
    assert clf.coef_.shape == (3, 4) and not np.array_equal(clf.coef_, first)


@pytest.fixture(scope="module")
def sparse_digits():
    sp = pytest.importorskip("scipy.sparse")
    X, y = load_digits(return_X_y=True)  # about half of the pixels are 0
    return X, sp.csr_matrix(X), y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [
    dict(),  # Adam, batch_size="auto" (the sparse rule: batches of >= d non-zeros)
    dict(optimizer="sgd", learning_rate="constant", eta0=0.01, penalty="l1", alpha=1e-3,
         batch_size=16),  # the cumulative L1 penalty, exact zeros
    dict(optimizer="adagrad", penalty="elasticnet", alpha=1e-3, batch_size=100, average=5),
    dict(optimizer="sgd", optimizer_params=dict(momentum=0.9), batch_size=300,
         class_weight="balanced"),  # several row blocks a batch, weighted rows
])
def test_multinomial_sparse_digits_fit_equals_dense(sparse_digits, dtype, kw):
    X, C, y = sparse_digits
    est = SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0, max_iter=15,
                        tol=None, **kw)
    dense = clone(est).fit(X.astype(dtype), y)
    sparse = clone(est).fit(C.astype(dtype), y)
    assert sparse.coef_.dtype == dense.coef_.dtype == dtype
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (1e-4, 1e-5)
    scale = np.abs(dense.coef_).max()
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=rtol, atol=atol * scale)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=rtol, atol=atol * scale)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=rtol)
    assert sparse.t_ == dense.t_
    if kw.get("penalty") == "l1":
        assert np.any(dense.coef_ == 0)
        np.testing.assert_array_equal(sparse.coef_ == 0, dense.coef_ == 0)
    np.testing.assert_array_equal(sparse.predict(C.astype(dtype)), dense.predict(X.astype(dtype)))
    np.testing.assert_allclose(sparse.predict_proba(C), dense.predict_proba(X),
                               rtol=1e-6 if dtype == np.float64 else 1e-3, atol=1e-9)
    assert dense.score(X, y) > 0.85


@pytest.mark.parametrize("fmt", ["csc", "coo"])
def test_multinomial_sparse_formats_and_index_dtypes_fit_the_same_model(sparse_digits, fmt):
    _, C, y = sparse_digits
    C64 = C.copy()
    C64.indices, C64.indptr = C64.indices.astype(np.int64), C64.indptr.astype(np.int64)
    est = SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0, max_iter=4,
                        tol=None, penalty="elasticnet", batch_size=64)
    ref_fit = clone(est).fit(C, y)
    for Xs in (C.asformat(fmt), C64):
        fit = clone(est).fit(Xs, y)
        np.testing.assert_array_equal(fit.coef_, ref_fit.coef_)
        np.testing.assert_array_equal(fit.intercept_, ref_fit.intercept_)


def test_multinomial_sparse_fit_is_thread_count_and_isa_invariant(sparse_digits):
    from helpers import ISAS, THREADS, run_on

    _, C, y = sparse_digits
    est = SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0, max_iter=3,
                        tol=None, batch_size=512, penalty="l1")  # several row blocks a batch
    fits = [run_on(isa, nt, lambda: clone(est).fit(C, y)) for isa in ISAS for nt in THREADS]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.coef_, fits[0].coef_)
        np.testing.assert_array_equal(fit.intercept_, fits[0].intercept_)
        assert fit.loss_curve_ == fits[0].loss_curve_


def test_multinomial_sparse_partial_fit_and_early_stopping(sparse_digits):
    X, C, y = sparse_digits
    kw = dict(loss="log_loss", multi_class="multinomial", random_state=0, batch_size=32)
    dense, sparse = SGDClassifier(**kw), SGDClassifier(**kw)
    for _ in range(3):
        dense.partial_fit(X, y, classes=np.unique(y))
        sparse.partial_fit(C, y, classes=np.unique(y))
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)
    es = dict(kw, early_stopping=True, max_iter=50, n_iter_no_change=3)
    a = SGDClassifier(**es).fit(X, y)
    b = SGDClassifier(**es).fit(C, y)
    assert a.n_iter_ == b.n_iter_
    # (sums in different orders over up to 50 epochs of Adam, whose steps
    # amplify rounding differences: with the orders of random_state=0 the
    # weights agree to about 1e-9 relative, 3e-9 absolute)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-8, atol=1e-8)
    assert b.score(C, y) > 0.9


def test_multinomial_sparse_tag():
    assert SGDClassifier(loss="log_loss", multi_class="multinomial").__sklearn_tags__().input_tags.sparse
    assert SGDClassifier().__sklearn_tags__().input_tags.sparse


def test_sparse_default_fit_is_scikit_learns_per_sample_algorithm():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(300, 500, density=0.02, format="csr", random_state=3)
    y = (X @ np.random.default_rng(4).standard_normal(500) > 0).astype(int)
    kw = dict(shuffle=False, max_iter=4, tol=None)
    default = SGDClassifier(**kw).fit(X, y)
    explicit = SGDClassifier(optimizer="sgd", batch_size=1, learning_rate="optimal", **kw).fit(X, y)
    np.testing.assert_array_equal(default.coef_, explicit.coef_)
    np.testing.assert_array_equal(default.intercept_, explicit.intercept_)
    # and a dense fit of the same data keeps gdcore's mini-batch default
    dense = SGDClassifier(**kw).fit(X.toarray(), y)
    assert not np.array_equal(dense.coef_, default.coef_)


def test_order_buffers_are_reused_up_to_the_cap():
    from gdcore.linear._base import _BufferPool

    pool = _BufferPool()
    m = pool.MIN_BYTES // 8  # (smaller buffers are neither kept nor handed out)
    a = pool.take(m + 1000)
    assert a.shape == (m + 1000,) and a.dtype == np.int64
    pool.give(a)
    b = pool.take(m + 600)  # the same memory, cut to length
    assert b.shape == (m + 600,) and np.shares_memory(a, b)
    pool.give(b)
    assert pool.take(m + 2000).shape == (m + 2000,)  # too short a buffer is not handed out
    small = pool.take(m - 1)
    assert small.shape == (m - 1,) and not np.shares_memory(small, b)
    pool.give(small)
    assert not any(np.shares_memory(small, pool.take(m - 1)) for _ in range(3))
    pool.give(b)
    assert not np.shares_memory(b, pool.take(m - 1))  # small requests: fresh arrays
    big = np.empty(pool.MAX_BYTES // 8 + 1, dtype=np.int64)
    pool.give(big)  # over the cap: dropped
    assert not any(np.shares_memory(big, pool.take(m)) for _ in range(3))


# ------------------------------------------------- fast label and finite checks
def _misaligned(a: np.ndarray) -> np.ndarray:
    """A copy of 1-D a whose data starts one byte past an aligned address."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1)
    out[...] = a
    assert a.itemsize == 1 or not out.flags.aligned
    return out


@pytest.mark.parametrize("y", [
    np.array([3, 1, 3, 2], dtype=np.int64),
    np.array([-128, 127, 0, -128], dtype=np.int8),
    np.array([2**64 - 1, 0, 5], dtype=np.uint64),
    np.array([10**12, -(10**12), 0]),
    np.array([7], dtype=np.int32),
    np.array([], dtype=np.int64),
    np.array([True, False, True]),
    np.array(["b", "a", "b"]),
    np.array([0.5, -1.0, 0.5]),
    np.array([1, 0, 0, 1, 1], dtype=np.int64),
    np.array([255, 254, 255], dtype=np.uint8),
    np.array([-127, -128, -128], dtype=np.int8),
    np.array([6, 5, 5, 5]),
    np.array([4, 4, 4], dtype=np.int64),
    np.array([-2**31, 2**31 - 1, -2**31], dtype=np.int32),
    np.array([2, 3, 3, 2, 2], dtype=np.int32),
    np.array([9, 0, 8, 1, 9, 0, 8], dtype=np.int64)[::2],
    np.array([-2**63, 2**63 - 1, 0], dtype=np.int64),
    _misaligned(np.array([3, 1, 3, 3, 1], dtype=np.int64)),
], ids=["int64", "int8-extremes", "uint64-wide", "wide-range", "one", "empty", "bool", "str", "float",
        "two-labels", "two-labels-uint8-top", "two-labels-int8-bottom", "two-labels-shifted",
        "one-label-repeated", "int32-extremes", "two-labels-int32", "strided-int64", "int64-extremes",
        "misaligned-int64"])
def test_label_stats_is_np_unique(y):
    from gdcore.linear._compat import label_stats

    got, got_counts, changes = label_stats(y)
    want, want_counts = np.unique(y, return_counts=True)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_counts, want_counts)
    # the neighbour changes come with contiguous, aligned int32 / int64 labels only
    if y.dtype in (np.int32, np.int64) and y.flags.c_contiguous and y.flags.aligned and y.size:
        assert changes == np.count_nonzero(y[1:] != y[:-1])
    else:
        assert changes is None


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64, str])
@pytest.mark.parametrize("out", [np.float32, np.float64])
def test_signed_targets_is_plus_minus_one(dtype, out, rng):
    from gdcore.linear._compat import signed_targets

    y = rng.integers(0, 3, 1001).astype(dtype)
    positive = y[5]
    got = signed_targets(y, positive, out)
    assert got.dtype == out
    np.testing.assert_array_equal(got, np.where(y == positive, 1.0, -1.0))
    # labels numpy reads at an odd address (the compiled pass takes aligned ones)
    y = _misaligned(y) if y.dtype.kind in "iuf" else y
    got = signed_targets(y, positive, out)
    assert got.dtype == out
    np.testing.assert_array_equal(got, np.where(y == positive, 1.0, -1.0))


def _score_as_metric(est, X, y_test, weights, metric):
    """est.score against scikit-learn's metric on est's predictions: the
    same value, or the same error (returned as (type, message))."""
    def outcome(fn):
        try:
            return fn()
        except (ValueError, TypeError) as e:
            return type(e), str(e)

    got = outcome(lambda: est.score(X, y_test, sample_weight=weights))
    assert got == outcome(lambda: metric(y_test, est.predict(X), sample_weight=weights))
    return got


@pytest.mark.parametrize("labels, y_of, sw", [
    (None, lambda y: y, None),
    (None, lambda y: y.astype(np.uint8), None),
    (None, lambda y: y.astype(np.int8), None),
    (None, lambda y: y.astype(float), None),
    (None, lambda y: y.tolist(), None),
    (None, lambda y: y.astype(str), None),
    (None, lambda y: y, "weights"),
    (None, lambda y: y[:-1], None),
    (None, lambda y: y.reshape(-1, 1), None),
    (None, lambda y: np.where(y == 0, 5, y), None),
    ("three", lambda y: y, None),
    ("bool", lambda y: y.astype(bool), None),
    ("bool", lambda y: y, None),
    ("str", lambda y: y, None),
], ids=lambda v: None)
def test_classifier_score_is_scikit_learns_accuracy(small, labels, y_of, sw):
    # score's direct comparison of integer labels against scikit-learn's
    # accuracy_score (values, errors), and the other inputs through it
    from sklearn.metrics import accuracy_score

    X, y = small
    if labels == "three":
        y = np.arange(len(y)) % 3
    elif labels == "bool":
        y = y.astype(bool)
    elif labels == "str":
        y = np.where(y == 1, "yes", "no")
    est = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    y_test = y_of(y if labels != "bool" else y.astype(int))
    weights = np.linspace(0.5, 2.0, len(X)) if sw == "weights" else None
    got = _score_as_metric(est, X, y_test, weights, accuracy_score)
    if not isinstance(got, tuple):
        assert type(got) is float


def test_classifier_score_compares_integer_labels_itself(small, monkeypatch):
    from sklearn.base import ClassifierMixin
    from sklearn.metrics import accuracy_score

    X, y = small
    est = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    want = accuracy_score(y, est.predict(X))

    def refuse(*a, **k):
        raise AssertionError("scikit-learn's score was called")

    monkeypatch.setattr(ClassifierMixin, "score", refuse)
    assert est.score(X, y) == want
    with pytest.raises(AssertionError, match="was called"):
        est.score(X, y, sample_weight=np.ones(len(y)))


@pytest.mark.parametrize("n", [2, 3, 7, 8, 9, 127, 128, 129, 1000, 4099])
def test_r2_unweighted_is_scikit_learns_r2_score(n):
    from sklearn.metrics import r2_score

    from gdcore.linear._fitting import r2_unweighted

    rng = np.random.default_rng(n)
    y = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3)
    for pred in (y + rng.standard_normal(n), y.copy(), np.full(n, y.mean()), -y):
        assert r2_unweighted(y, pred) == r2_score(y, pred)
    const = np.full(n, 2.5)
    for pred in (const.copy(), const + 1.0):
        assert r2_unweighted(const, pred) == r2_score(const, pred)


@pytest.mark.parametrize("y_of, sw", [
    (lambda y: y, None),
    (lambda y: y.astype(np.float32), None),
    (lambda y: np.round(y).astype(int), None),
    (lambda y: y.tolist(), None),
    (lambda y: y, "weights"),
    (lambda y: y[:-1], None),
    (lambda y: np.where(np.arange(len(y)) == 3, np.nan, y), None),
    (lambda y: y.reshape(-1, 1), None),
], ids=lambda v: None)
def test_regressor_score_is_scikit_learns_r2(y_of, sw, monkeypatch):
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X @ rng.standard_normal(5) + 0.3 * rng.standard_normal(200)
    est = SGDRegressor(random_state=0, max_iter=5, tol=None).fit(X, y)
    weights = np.linspace(0.5, 2.0, len(X)) if sw == "weights" else None
    _score_as_metric(est, X, y_of(y), weights, r2_score)
    # finite float64 targets, unweighted: scikit-learn's checks are skipped
    from sklearn.base import RegressorMixin

    monkeypatch.setattr(RegressorMixin, "score", lambda *a, **k: -123.0)
    assert est.score(X, y) == r2_score(y, est.predict(X))


@pytest.mark.parametrize("labels, classes", [
    (np.array([0, 1]), np.array([0, 1])),
    (np.array([0, 1, 2]), np.array([0, 1])),
    (np.array([-5, 0, 7]), np.array([-3, 0, 2, 9])),
    (np.array([9, 10]), np.array([0, 1])),
    (np.array([0.5, 1.0]), np.array([0, 1])),
    (np.array([0, 1], dtype=np.uint8), np.array([0, 1, 2], dtype=np.int64)),
    (np.array([False, True]), np.array([0, 1])),
    (np.array([1, 2]), np.array([1])),
    (np.array([], dtype=np.int64), np.array([0, 1])),
    (np.array(["a", "c"]), np.array(["a", "b"])),
    (np.array([0, 1]), np.array(["0", "1"])),
], ids=lambda v: None)
def test_not_in_is_setdiff1d(labels, classes):
    from gdcore.linear._classifier import _not_in

    got, want = _not_in(labels, classes), np.setdiff1d(labels, classes)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


_BATCHED_CONFIGS = [
    {}, dict(tol=None, max_iter=37), dict(learning_rate="adaptive", eta0=0.05),
    dict(learning_rate="constant", eta0=0.01), dict(n_iter_no_change=2),
    dict(n_iter_no_change=9, tol=1e-5), dict(penalty=None), dict(max_iter=3),
    dict(learning_rate="optimal", optimizer="sgd", batch_size=8),
    dict(learning_rate="invscaling", eta0=0.05, optimizer="rmsprop"),
    dict(optimizer="adagrad", eta0=0.1, class_weight="balanced"),
    dict(schedule=gd.schedules.cosine(0.02, 400)),
]


@pytest.mark.parametrize("kw", _BATCHED_CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
@pytest.mark.parametrize("data", ["iris", "diabetes"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_epochs_run_several_per_call_with_the_same_bits(monkeypatch, kw, data, dtype):
    # small dense data runs several epochs per compiled call
    # (minibatch_passes): the same model, epochs, curve -- or the same error
    # at the same epoch -- as one call per epoch, whatever stops the fit
    # (the plateau test, "adaptive" steps, "auto"'s annealing, max_iter)
    from sklearn.datasets import load_iris

    import gdcore.linear._base as base

    if data == "iris":
        X, y = load_iris(return_X_y=True)
        make = SGDClassifier
    else:
        if "class_weight" in kw:
            pytest.skip("class_weight is the classifier's")
        X, y = load_diabetes(return_X_y=True)
        make = SGDRegressor
    X = StandardScaler().fit_transform(X).astype(dtype)
    calls = []
    passes = _core.minibatch_passes

    def spy(*a, **k):
        calls.append(a[4])
        return passes(*a, **k)

    monkeypatch.setattr(base._core, "minibatch_passes", spy)

    def fit():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                m = make(random_state=0, **kw).fit(X, y)
        except ValueError as e:
            return str(e)
        return (m.coef_.tobytes(), m.intercept_.tobytes(), m.n_iter_, m.t_,
                np.array(m.loss_curve_).tobytes())

    batched = fit()
    assert calls, "no epochs ran several per call"
    monkeypatch.setattr(base, "BATCH_EPOCHS_VALUES", 0)
    assert fit() == batched


@pytest.mark.parametrize("rows, d", [(1, 1), (17, 3), (64, 33), (1000, 65)])
def test_minibatch_passes_same_bits_on_every_isa_and_thread_count(rows, d):
    # three passes in one call against three minibatch_epoch calls, on every
    # compiled ISA path and thread count (batches of 128 rows use both
    # threads): the same model, losses and squared norms everywhere
    from helpers import ISAS, THREADS, run_on

    from gdcore.linear._base import _OptimizerSpec

    rng = np.random.default_rng(rows)
    X = rng.standard_normal((rows, d))
    y = np.where(rng.random(rows) > 0.5, 1.0, -1.0)
    spec = _OptimizerSpec("adam", None, np.dtype(np.float64))
    bs = 128
    nb = -(-rows // bs)
    order = np.concatenate([rng.permutation(rows) for _ in range(3)]).astype(np.int64)
    lr = rng.uniform(1e-3, 1e-2, 3 * nb)

    def fit(passes):
        coef, b = np.zeros(d), np.zeros(1)
        args = (coef, b, spec.new_state(coef), spec.new_state(b), np.zeros(4, np.int64), np.ones(2))
        head = (4, 0.0, 1, 1e-3, 0.15, True, bs, spec.kind, spec.hyper)
        if passes:
            loss, sq, finite = _core.minibatch_passes(X, y, None, order, rows, *head, lr, *args)
            assert finite.all()
        else:
            loss = [_core.minibatch_epoch(X, y, None, order[p * rows:(p + 1) * rows], *head,
                                          lr[p * nb:(p + 1) * nb], *args) for p in range(3)]
            sq = [float(_core.dot(coef, coef))] * 3  # (only the last is compared)
        return coef.tobytes(), b.tobytes(), list(loss), float(sq[-1])

    want = fit(False)
    for isa in ISAS:
        for nt in THREADS:
            assert run_on(isa, nt, lambda: fit(True)) == want, (isa, nt)


def test_minibatch_passes_bad_arguments_write_nothing():
    from gdcore.linear._base import _OptimizerSpec

    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    y = np.where(rng.random(10) > 0.5, 1.0, -1.0)
    spec = _OptimizerSpec("adam", None, np.dtype(np.float64))
    coef, b = np.full(3, 0.5), np.zeros(1)
    cst, ist = spec.new_state(coef), spec.new_state(b)
    counters, scalars = np.zeros(4, np.int64), np.ones(2)
    order = np.tile(np.arange(10, dtype=np.int64), 2)

    def call(order=order, pass_rows=10, lr=np.full(2 * 4, 0.01)):
        return _core.minibatch_passes(X, y, None, order, pass_rows, 1, 1.0, 1, 1e-4, 0.15, True, 3,
                                      spec.kind, spec.hyper, lr, coef, b, cst, ist, counters,
                                      scalars)

    before = [a.copy() for a in (coef, b, counters, scalars, *cst[:2], *ist[:2])]
    for kw, match in ((dict(pass_rows=0), "pass_rows must be >= 1"),
                      (dict(pass_rows=7), "whole passes of pass_rows rows"),
                      (dict(lr=np.full(4, 0.01)), "one learning rate per batch"),
                      (dict(lr=np.r_[np.full(7, 0.01), np.inf]), "learning rates must be finite"),
                      (dict(order=np.r_[order[:19], 10]), "row index 10 outside")):
        with pytest.raises(ValueError, match=match):
            call(**kw)
        for a, a0 in zip((coef, b, counters, scalars, *cst[:2], *ist[:2]), before):
            np.testing.assert_array_equal(a, a0)
    # no passes: nothing to do, nothing written
    loss, sq_norm, finite = call(order=order[:0], lr=np.zeros(0))
    assert loss.shape == sq_norm.shape == finite.shape == (0,)
    for a, a0 in zip((coef, b, counters, scalars, *cst[:2], *ist[:2]), before):
        np.testing.assert_array_equal(a, a0)
    loss, sq_norm, finite = call()
    assert loss.shape == sq_norm.shape == finite.shape == (2,) and finite.all()
    assert sq_norm[1] == float(coef @ coef)


_X = np.arange(12.0).reshape(4, 3)
_y = np.array([0, 1, 0, 1])
with warnings.catch_warnings():  # (numpy's note on np.matrix, an error under strict filters)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    _X_matrix = np.matrix(_X)


@pytest.mark.parametrize("X, y, kw, fitted", [
    (_X, _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X.astype(np.float32), _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X, _y.astype(bool), dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X, _y.astype(np.float32), dict(dtype=[np.float64, np.float32], order="C", reset=True, y_numeric=True), {}),
    (_X, np.array([0.0, np.nan, 1.0, 1.0]), dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X, np.array([0.0, np.inf, 1.0, 1.0]), dict(dtype=[np.float64, np.float32], order="C", y_numeric=True), {}),
    (_X, _y[:3], dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X, _y.reshape(4, 1), dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X, _y.astype(str), dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X, _y.astype(object), dict(dtype=[np.float64, np.float32], order="C", reset=True, y_numeric=True), {}),
    (_X, np.array([0, 1, 0, 1, 0, 1, 0, 1])[::2], dict(dtype=[np.float64, np.float32], order="C"), {}),
    (_X.astype(np.float32), _y, dict(dtype=np.float64, order="C", reset=False), {"n_features_in_": 3}),
    (_X.astype(np.int64), _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X.astype(np.float16), _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (np.asfortranarray(_X), _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X[:, :2], _y, dict(dtype=[np.float64, np.float32], order="C", reset=False), {"n_features_in_": 3}),
    (_X, "no_validation", dict(dtype=[np.float64, np.float32], order="C", reset=False), {"n_features_in_": 3}),
    (_X, "no_validation", dict(dtype=[np.float64, np.float32], order="C", reset=False), {"n_features_in_": 2}),
    (_X, "no_validation", dict(dtype=[np.float64, np.float32], order="C", reset=False),
     {"n_features_in_": 3, "feature_names_in_": np.array(["a", "b", "c"], dtype=object)}),
    (_X, _y, dict(dtype=[np.float64, np.float32], order="C", reset=True),
     {"n_features_in_": 3, "feature_names_in_": np.array(["a", "b", "c"], dtype=object)}),
    (_X[:0], _y[:0], dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X[:, :0], _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X.reshape(4, 3, 1), _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X.tolist(), _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
    (_X_matrix, _y, dict(dtype=[np.float64, np.float32], order="C", reset=True), {}),
], ids=lambda v: None)
def test_validate_data_passes_plain_arrays_as_scikit_learn_does(monkeypatch, X, y, kw, fitted):
    # the plain-array shortcut of _compat.validate_data against
    # scikit-learn's own validation (the shortcut switched off): the same
    # arrays back (the very objects), attributes, warnings and errors
    import warnings as _warnings

    from gdcore.linear import _compat

    def run():
        est = SGDClassifier()
        for k, v in fitted.items():
            setattr(est, k, v)
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            try:
                out = _compat.validate_data(est, X, y, **kw)
            except (ValueError, TypeError) as e:
                out = e
        attrs = {k: getattr(est, k, None) for k in ("n_features_in_", "feature_names_in_")}
        return out, attrs, [str(w.message) for w in caught]

    fast = run()
    monkeypatch.setattr(_compat, "_unchanged", lambda *a: None)
    slow = run()
    if isinstance(slow[0], Exception):
        assert type(fast[0]) is type(slow[0]) and str(fast[0]) == str(slow[0])
    else:
        outs = [(o if isinstance(o, tuple) else (o,)) for o in (fast[0], slow[0])]
        for a, b in zip(*outs):
            assert a.dtype == b.dtype and a.shape == b.shape and a.flags.c_contiguous == b.flags.c_contiguous
            np.testing.assert_array_equal(a, b)
    for k in ("n_features_in_", "feature_names_in_"):
        np.testing.assert_array_equal(fast[1][k], slow[1][k])
    assert fast[2] == slow[2]


def test_validate_data_shortcut_takes_plain_arrays_only(monkeypatch):
    # the shortcut must actually serve the plain cases (and return the very
    # arrays given), and leave everything else to scikit-learn
    from gdcore.linear import _compat

    est = SGDClassifier()
    assert _compat._unchanged(est, _X, _y, dict(dtype=[np.float64, np.float32], order="C")) is not None
    X_out, y_out = _compat.validate_data(est, _X, _y, dtype=[np.float64, np.float32], order="C")
    assert X_out is _X and y_out is _y and est.n_features_in_ == 3
    for X, y in ((np.asfortranarray(_X), _y), (_X, _y.astype(str)), (_X.astype(np.int64), _y),
                 (_X, np.array([0.0, np.nan, 1.0, 1.0]))):
        assert _compat._unchanged(SGDClassifier(), X, y, dict(dtype=[np.float64, np.float32])) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", [0, 1, -1, 4095, 4096])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_any_non_finite_element(dtype, where, bad):
    from gdcore.linear._compat import all_finite

    X = np.random.default_rng(0).standard_normal((4097, 3)).astype(dtype)
    assert all_finite(X) and all_finite(X[:0]) and all_finite(np.asfortranarray(X))
    X.reshape(-1)[where] = bad
    assert not all_finite(X)
    assert not all_finite(np.asfortranarray(X))


def test_finite_check_overflowing_sum_is_not_an_error(small):
    # |x| sums past the float range without any non-finite element: the fast
    # check's False is overruled by scikit-learn's element-wise check.
    X, y = small
    clf = SGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    big = X * 3e305
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.abs(big).sum()) and np.isfinite(big).all()
    np.testing.assert_allclose(clf.decision_function(big), big @ clf.coef_[0] + clf.intercept_[0], rtol=1e-9)
    X = big.copy()
    X[5, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.predict(X)


def test_multinomial_early_stopping_scores_with_every_intercept():
    # the validation score of a softmax model takes all k intercepts
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 5))
    y = np.arange(600) % 3
    X[:, 0] += 2.0 * y
    clf = SGDClassifier(loss="log_loss", multi_class="multinomial", early_stopping=True,
                        n_iter_no_change=3, random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 5) and clf.intercept_.shape == (3,)
    assert clf.n_iter_ < clf.max_iter
    assert clf.score(X, y) > 0.7


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_log_loss_probabilities_in_log_space(multi_class):
    # Decision values far below zero: the one-vs-rest sigmoids underflow to
    # 0 (0/0 before normalising) and the softmax's exponentials too; the
    # log-space computation gives the limit, finite log-probabilities.
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    clf = SGDClassifier(loss="log_loss", multi_class=multi_class, random_state=0, max_iter=5, tol=None)
    clf.fit(X[:, :3], y[:300] % 3)
    clf.coef_ = np.array([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [-1.0, -1.0, 0.0]])
    clf.intercept_ = np.zeros(3)
    far = np.array([[800.0, 800.0, 0.0], [1.0, 2.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = clf.predict_proba(far)
        logp = clf.predict_log_proba(far)
    s = far @ clf.coef_.T
    if multi_class == "ovr":
        # exact: log σ(s) = −log1p(e^(−s)), normalised over the classes
        ls = -np.logaddexp(0.0, -s)
    else:
        ls = s
    expected = ls - np.max(ls, axis=1, keepdims=True)
    expected = expected - np.log(np.sum(np.exp(expected), axis=1, keepdims=True))
    np.testing.assert_allclose(logp, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p, np.exp(expected), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.0], atol=1e-12)
    assert np.all(np.isfinite(logp))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


def test_binary_log_proba_matches_sklearn_formula(small):
    X, y = small
    clf = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    s = clf.decision_function(X)
    p1 = 1.0 / (1.0 + np.exp(-s))
    np.testing.assert_allclose(clf.predict_proba(X), np.stack([1 - p1, p1], axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(clf.predict_log_proba(X[:1]) , np.log(clf.predict_proba(X[:1])), rtol=1e-12)
    clf.coef_ = clf.coef_ * 1e4  # margins of ±1e4: log-probabilities stay finite
    assert np.all(np.isfinite(clf.predict_log_proba(X)))


@pytest.mark.parametrize("est", [
    SGDClassifier(random_state=0, max_iter=5, tol=None),
    SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0, max_iter=5, tol=None),
    SGDClassifier(optimizer="sgd", batch_size=1, learning_rate="optimal", random_state=0, max_iter=5,
                  tol=None),
    SGDRegressor(random_state=0, max_iter=5, tol=None),
])
def test_partial_fit_continues_from_edited_weights(digits, est):
    # As scikit-learn's: partial_fit starts from coef_ / intercept_ as they
    # are, also after the user assigned them.
    X, y = digits
    X = X[:400] / 16.0
    y = y[:400] % 3 if isinstance(est, SGDClassifier) else y[:400].astype(float)
    if isinstance(est, SGDClassifier) and est.multi_class == "ovr":
        y = (y == 1).astype(int) if est.optimizer == "sgd" else y
    kw = {"classes": np.unique(y)} if isinstance(est, SGDClassifier) else {}
    a = clone(est).fit(X, y)
    b = clone(est).fit(X, y)
    fresh = clone(est)
    fresh.partial_fit(X[:50], y[:50], **kw)  # same shapes, the rest of the state fresh
    b.coef_ = np.zeros_like(b.coef_)
    b.intercept_ = np.zeros_like(b.intercept_)
    a.partial_fit(X, y)
    b.partial_fit(X, y)
    assert not np.array_equal(a.coef_, b.coef_)
    # the same edit done in place takes effect too
    c = clone(est).fit(X, y)
    c.coef_[...] = 0.0
    c.intercept_[...] = 0.0
    c.partial_fit(X, y)
    np.testing.assert_array_equal(c.coef_, b.coef_)
    # untouched weights: partial_fit continues from the fitted ones
    d = clone(est).fit(X, y)
    d.partial_fit(X, y)
    np.testing.assert_array_equal(d.coef_, a.coef_)
    e = clone(est).fit(X, y)
    e.coef_ = np.zeros((e.coef_.size + 1,))
    before = e.intercept_.copy()
    with pytest.raises(ValueError, match="coef_ of shape"):
        e.partial_fit(X, y)
    np.testing.assert_array_equal(e.intercept_, before)


def test_partial_fit_refuses_to_switch_multinomial_to_one_vs_rest(digits):
    X, y = digits
    X, y = X[:300] / 16.0, y[:300] % 3
    clf = SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    coef = clf.coef_.copy()
    clf.set_params(multi_class="ovr")
    with pytest.raises(ValueError, match="multi_class='ovr', but the model was trained with"):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.coef_, coef)


def test_optimizer_params_refuse_maximize(small):
    X, y = small
    with pytest.raises(ValueError, match="maximize=True"):
        SGDClassifier(optimizer_params={"maximize": True}).fit(X, y)
    SGDClassifier(optimizer="sgd", optimizer_params={"maximize": False}, max_iter=2, tol=None).fit(X, y)


def test_regressor_stream_scale_follows_the_targets():
    # partial_fit one row at a time on targets in the thousands: the step
    # scale comes from the targets seen so far (one row: their magnitude),
    # so the default Adam learns as plain SGD does.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 5))
    y = X @ np.array([300.0, -200.0, 100.0, 50.0, 10.0]) + 5000.0 + rng.standard_normal(600)
    reg = SGDRegressor(random_state=0)
    for _ in range(3):
        for i in range(len(y)):
            reg.partial_fit(X[i : i + 1], y[i : i + 1])
    assert reg.score(X, y) > 0.99
    # the running spread equals numpy's over every row seen
    w, mean, _ = reg._y_moments
    assert w == 3 * len(y)
    np.testing.assert_allclose(mean, np.mean(y), rtol=1e-12)
    np.testing.assert_allclose(reg._y_scale, np.std(y), rtol=1e-9)
    # fit takes the scale from its own y, as before
    fitted = SGDRegressor(random_state=0, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_allclose(fitted._y_scale, np.std(y), rtol=1e-12)


@pytest.mark.parametrize("est", [SGDClassifier(random_state=0), SGDRegressor(random_state=0)])
def test_overflowing_optimizer_state_is_reported(est):
    # |g|² overflows: Adam's second moment is inf and its steps 0; the fit
    # says so instead of returning the initial weights.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * 1e200
    y = rng.standard_normal(200)
    y = (y > 0).astype(int) if isinstance(est, SGDClassifier) else y
    with pytest.raises(ValueError, match="Floating-point under-/overflow occurred at epoch #1"):
        clone(est).fit(X, y)


def test_block_shuffle_of_small_data_shuffles_the_batches(small):
    # one block of rows: shuffle="block" still draws a new order each epoch
    X, y = small
    kw = dict(batch_size=16, max_iter=3, tol=None)
    blk = [SGDClassifier(shuffle="block", random_state=s, **kw).fit(X, y).coef_ for s in (0, 1)]
    fixed = SGDClassifier(shuffle=False, random_state=0, **kw).fit(X, y).coef_
    assert not np.array_equal(blk[0], blk[1])
    assert not np.array_equal(blk[0], fixed)


def test_progress_counter_without_tqdm(small, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import fails
    X, y = small
    clf = SGDClassifier(progress=True, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert clf.n_iter_ < clf.max_iter
    # the counter's total drops to the epochs run once the fit converges
    last = err.strip().split("\r")[-1]
    assert last.startswith(f"epoch {clf.n_iter_}/")
    assert f"/{clf.max_iter} " not in last


def test_optimizer_auto(small):
    import scipy.sparse as sp

    X, y = small
    # dense: "auto" is Adam
    auto = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    adam = SGDClassifier(optimizer="adam", random_state=0, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, adam.coef_)
    # sparse: "auto" is scikit-learn's per-sample SGD; a named "adam" stays Adam
    Xs = sp.csr_matrix(X)
    auto_s = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(Xs, y)
    sk_alg = SGDClassifier(optimizer="sgd", batch_size=1, learning_rate="optimal", random_state=0,
                           max_iter=3, tol=None).fit(Xs, y)
    np.testing.assert_array_equal(auto_s.coef_, sk_alg.coef_)
    adam_s = SGDClassifier(optimizer="adam", random_state=0, max_iter=3, tol=None).fit(Xs, y)
    np.testing.assert_allclose(adam_s.coef_, adam.coef_, rtol=1e-10, atol=1e-12)
    assert SGDClassifier().get_params()["optimizer"] == "auto"


def test_per_sample_l1_partial_fit_matches_sklearn(small):
    # each partial_fit call restarts the cumulative L1 penalty (u and q), as
    # scikit-learn's; hinge updates are bit-exact
    X, y = small
    kw = dict(loss="hinge", penalty="elasticnet", l1_ratio=0.7, alpha=1e-3, shuffle=False,
              learning_rate="optimal")
    ours = SGDClassifier(optimizer="sgd", batch_size=1, **kw)
    theirs = sklm.SGDClassifier(**kw)
    for _ in range(3):
        ours.partial_fit(X, y, classes=[0, 1])
        theirs.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-12, atol=1e-14)


def test_regressor_partial_fit_after_fit_keeps_the_target_scale():
    # fit's targets seed the running moments: one more row barely moves the
    # scale, and the model stays as good
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    y = 1000 + X @ np.array([1.0, -2.0, 0.5, 0.0, 0.0]) + 0.1 * rng.normal(size=500)
    reg = SGDRegressor(random_state=0).fit(X, y)
    scale, r2 = reg._y_scale, reg.score(X, y)
    reg.partial_fit(X[:1], y[:1])
    np.testing.assert_allclose(reg._y_scale, np.std(np.concatenate([y, y[:1]])), rtol=1e-9)
    assert abs(reg._y_scale - scale) < 0.01 * scale
    assert reg.score(X, y) > r2 - 0.01
    # moments follow every target even while the optimizer is "sgd"
    reg = SGDRegressor(optimizer="sgd", random_state=0).partial_fit(X, y)
    reg.set_params(optimizer="adam")
    reg.partial_fit(X[:1], y[:1])
    np.testing.assert_allclose(reg._y_scale, np.std(np.concatenate([y, y[:1]])), rtol=1e-9)


def test_auto_optimizer_keeps_its_first_choice_across_partial_fit(small):
    import scipy.sparse as sp

    X, y = small
    dense_only = SGDClassifier(random_state=0)
    mixed = SGDClassifier(random_state=0)
    for i, (a, b) in enumerate([(0, 100), (100, 200), (200, 300)]):
        dense_only.partial_fit(X[a:b], y[a:b], classes=[0, 1])
        chunk = sp.csr_matrix(X[a:b]) if i % 2 == 1 else X[a:b]
        mixed.partial_fit(chunk, y[a:b], classes=[0, 1])
    # the sparse chunk keeps Adam (and its state): the same model up to rounding
    np.testing.assert_allclose(mixed.coef_, dense_only.coef_, rtol=1e-10, atol=1e-12)
    # a stream that starts sparse stays per-sample SGD on dense chunks
    sk_alg = SGDClassifier(optimizer="sgd", batch_size=1, learning_rate="optimal", random_state=0)
    started_sparse = SGDClassifier(random_state=0)
    sk_alg.partial_fit(sp.csr_matrix(X[:100]), y[:100], classes=[0, 1])
    started_sparse.partial_fit(sp.csr_matrix(X[:100]), y[:100], classes=[0, 1])
    sk_alg.partial_fit(X[100:], y[100:])
    started_sparse.partial_fit(X[100:], y[100:])
    np.testing.assert_array_equal(started_sparse.coef_, sk_alg.coef_)


def test_edited_weights_are_checked_before_training(digits):
    X, y = digits
    X, y = X[:300, :6] / 16.0, y[:300] % 3
    clf = SGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    state = copy.deepcopy(clf.__dict__)
    for coef, icpt, match in [
        (np.zeros((6, 3)), np.zeros(3), "do not match"),          # transposed: same size
        (np.zeros((3, 6)), np.zeros((3, 1)), "do not match"),
        (np.full((3, 6), np.nan), np.zeros(3), "must be finite"),
    ]:
        clf.coef_, clf.intercept_ = coef, icpt
        with pytest.raises(ValueError, match=match):
            clf.partial_fit(X, y)
        assert clf.coef_ is coef  # nothing else changed
        np.testing.assert_array_equal(clf._problems[0].coef, state["_problems"][0].coef)
    # a list of the right shape is taken; the model keeps its dtype
    clf.coef_ = np.zeros((3, 6), dtype=np.float32).tolist()
    clf.intercept_ = np.zeros(3, dtype=np.float32)
    clf.partial_fit(X, y)
    assert clf.coef_.dtype == np.float64
    binary = SGDClassifier(random_state=0).partial_fit(X, (y == 1).astype(int), classes=[0, 1])
    binary.coef_ = binary.coef_.reshape(-1, 1)  # (d, 1) instead of (1, d)
    with pytest.raises(ValueError, match="do not match"):
        binary.partial_fit(X, (y == 1).astype(int))


def test_partial_fit_refuses_to_switch_one_vs_rest_to_multinomial(digits):
    X, y = digits
    X, y = X[:300] / 16.0, y[:300] % 3
    clf = SGDClassifier(loss="log_loss", random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    proba = clf.predict_proba(X[:5])
    clf.set_params(multi_class="multinomial")
    with pytest.raises(ValueError, match="multi_class='multinomial', but the model was trained with"):
        clf.partial_fit(X, y)
    # probabilities follow the model that was fitted, not the parameter
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), proba)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_per_sample_fit_reading_its_first_order_in_pieces_is_unchanged(monkeypatch, loss, sparse):
    # 30 000 rows: the per-sample loop reads its first epoch's order in
    # pieces while the rest is drawn, and the targets gathered in each
    # order's order; drawn whole and read in one call with the targets
    # indexed by row, the model is the same, bit for bit (the losses of the
    # pieces are summed, so the curve agrees to rounding)
    from gdcore.linear import _base

    rng = np.random.default_rng(3)
    X = rng.standard_normal((30_000, 6))
    y = (X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(30_000) > 0).astype(int)
    if sparse:
        X = pytest.importorskip("scipy.sparse").csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    sw = rng.uniform(0.5, 2.0, 30_000) if loss == "log_loss" else None
    kw = dict(loss=loss, optimizer="sgd", batch_size=1, learning_rate="optimal", shuffle=True,
              max_iter=3, tol=None, random_state=0, average=10)
    calls = []
    real = _base._PlainRun.epoch

    def spy(self, X, y, sw, order, eta, check=True):
        calls.append(isinstance(order, _base._Pieces))
        return real(self, X, y, sw, order, eta, check)

    monkeypatch.setattr(_base._PlainRun, "epoch", spy)
    pieces = SGDClassifier(**kw).fit(X, y, sample_weight=sw)
    assert calls == [True, True, True]
    monkeypatch.setattr(_base._EpochOrders, "AHEAD_ROWS", 10**9)
    calls.clear()
    whole = SGDClassifier(**kw).fit(X, y, sample_weight=sw)
    assert calls == [False, False, False]
    np.testing.assert_array_equal(pieces.coef_, whole.coef_)
    np.testing.assert_array_equal(pieces.intercept_, whole.intercept_)
    np.testing.assert_allclose(pieces.loss_curve_, whole.loss_curve_, rtol=1e-12)


def test_float32_infinity_bound_is_where_float64_rounds_to_it():
    # the per-sample loop keeps the intercept in float64; the float32 model's
    # intercept is finite exactly below this bound
    import warnings as _warnings

    from gdcore.linear._base import F32_ROUNDS_TO_INF

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isinf(np.float32(F32_ROUNDS_TO_INF))
        assert np.isinf(np.float32(-F32_ROUNDS_TO_INF))
        below = np.nextafter(F32_ROUNDS_TO_INF, 0.0)
        assert np.float32(below) == np.finfo(np.float32).max


def test_check_finite_model_sees_every_array_and_no_false_alarm():
    from types import SimpleNamespace

    from gdcore.linear._base import check_finite_model, model_arrays

    def problem(coef, state, intercept_state):
        return model_arrays(SimpleNamespace(coef=np.asarray(coef), intercept=np.zeros(1),
                                            coef_states=[np.asarray(state), None],
                                            intercept_states=[np.asarray(intercept_state)]))

    # every element finite, but the sum of |x| overflows: not an overflow
    check_finite_model(problem([1e308, 1e308], [1e308, 1e308], [1e308]), 3)
    check_finite_model(problem(np.float32([3e38, 3e38]), np.float32([1, 2]), [0.0]), 3)
    for bad in ({"coef": [1.0, np.nan]}, {"state": [np.inf, 0.0]},
                {"intercept_state": [-np.inf]}):
        kw = {**dict(coef=[1.0, 2.0], state=[0.0, 1.0], intercept_state=[0.0]), **bad}
        with pytest.raises(ValueError, match="Floating-point under-/overflow occurred at epoch #3"):
            check_finite_model(problem(**kw), 3)
