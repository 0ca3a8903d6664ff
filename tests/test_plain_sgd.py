"""scikit-learn's per-sample SGD fused in C++ (gdcore._core.plain_sgd_epoch_*):
equal to scikit-learn's own SGDClassifier update by update, dense and CSR
alike, and bitwise identical on every ISA path and thread count."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import ISAS, THREADS, read_ahead_rows, run_on

from gdcore import _core, losses

sklm = pytest.importorskip("sklearn.linear_model")
sp = pytest.importorskip("scipy.sparse")

PEN = {"none": 0, "l2": 1, "l1": 2, "elasticnet": 3}
LR = {"constant": 0, "optimal": 1, "invscaling": 2}


def fit_plain(X, y, loss, penalty, alpha, l1_ratio, lr_name, eta0, average, epochs, sparse,
              sw=None, power_t=0.5, intercept_decay=1.0, index_dtype=np.int64, order=None, block=0,
              targets_in_order=False):
    """``targets_in_order``: pass y and sw gathered in the order's order
    (the same model)."""
    L = losses.get(loss)
    n, d = X.shape
    dt = X.dtype
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    optimal_init = 1.0 / (typw / max(1.0, float(L.derivative(1.0, -typw))) * alpha)
    w = np.zeros(d, dt)
    aw = np.zeros(d, dt) if average else None
    q = np.zeros(d, dt) if penalty in ("l1", "elasticnet") else None
    state = np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
    order = np.arange(n, dtype=np.int64) if order is None else order
    C = sp.csr_matrix(X) if sparse else None
    if targets_in_order:
        y, sw = y[order], (None if sw is None else sw[order])
    for _ in range(epochs):
        args = (y, sw, order, L.kind, L.param, PEN[penalty], alpha, l1_ratio, LR[lr_name], eta0,
                power_t, optimal_init, True, intercept_decay, int(average), w, aw, q, state, False,
                block)
        if sparse:
            _core.plain_sgd_epoch_csr(C.data, C.indices.astype(index_dtype),
                                      C.indptr.astype(index_dtype), d, *args,
                                      targets_in_order=targets_in_order)
        else:
            _core.plain_sgd_epoch_dense(X, *args, targets_in_order=targets_in_order)
    _core.plain_sgd_finalize(w, aw, state)
    return (aw, state[1]) if average else (w, state[0])


def sumloss_of_epoch(X, y, L, order, objective=False):
    """sumloss of one per-sample epoch from zero weights: L2, alpha 1e-4,
    "optimal" rates (``objective``: also track scikit-learn's objective)."""
    state = np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
    return _core.plain_sgd_epoch_dense(X, y, None, order, L.kind, L.param, 1, 1e-4, 0.0, 1, 0.01,
                                       0.5, 1e3, True, 1.0, 0, np.zeros(X.shape[1], X.dtype), None,
                                       None, state, objective)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, d = 300, 25
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.5] = 0.0  # sparse-ish, so CSR rows have gaps
    wt = rng.standard_normal(d)
    y01 = (X @ wt + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y01


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "loss, penalty, lr_name, average",
    [
        ("hinge", "l2", "optimal", 0),
        ("log_loss", "elasticnet", "optimal", 0),
        ("modified_huber", "l1", "optimal", 0),
        ("squared_hinge", "l2", "invscaling", 0),
        ("perceptron", "none", "constant", 0),
        ("hinge", "l2", "optimal", 10),
        ("log_loss", "l1", "constant", 1),
    ],
)
def test_equals_scikit_learn(data, sparse, loss, penalty, lr_name, average):
    X, y01 = data
    y = np.where(y01 > 0, 1.0, -1.0)
    alpha, epochs, eta0 = 1e-3, 4, 0.01
    clf = sklm.SGDClassifier(loss=loss, penalty=penalty if penalty != "none" else None,
                             alpha=alpha, shuffle=False, max_iter=epochs, tol=None,
                             learning_rate=lr_name, eta0=eta0, average=average or False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(sp.csr_matrix(X) if sparse else X, y01)
    # scikit-learn damps the intercept updates by 0.01 on sparse data
    w, b = fit_plain(X, y, loss, penalty, alpha, 0.15, lr_name, eta0, average, epochs, sparse,
                     intercept_decay=0.01 if sparse else 1.0)
    scale = max(1.0, np.abs(clf.coef_).max())
    np.testing.assert_allclose(w, clf.coef_[0], rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(b, clf.intercept_[0], rtol=1e-7, atol=1e-9 * scale)


@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_csr_int32_indices_equal_int64(data, penalty):
    X, y01 = data
    y = np.where(y01 > 0, 1.0, -1.0)
    a = fit_plain(X, y, "log_loss", penalty, 1e-3, 0.15, "optimal", 0.0, 0, 3, True,
                  index_dtype=np.int64)
    b = fit_plain(X, y, "log_loss", penalty, 1e-3, 0.15, "optimal", 0.0, 0, 3, True,
                  index_dtype=np.int32)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


# (The L1 penalty is applied to a sample's non-zero features only, as in
# scikit-learn, so sparse and dense L1 fits differ by design.)
@pytest.mark.parametrize("loss, penalty", [("hinge", "l2"), ("log_loss", "l2"), ("modified_huber", "l2")])
def test_csr_equals_dense(data, loss, penalty):
    X, y01 = data
    y = np.where(y01 > 0, 1.0, -1.0)
    wd, bd = fit_plain(X, y, loss, penalty, 1e-3, 0.15, "optimal", 0.0, 5, 3, False)
    ws, bs = fit_plain(X, y, loss, penalty, 1e-3, 0.15, "optimal", 0.0, 5, 3, True)
    # the dense dot product sums in fixed partials, the sparse one in four
    np.testing.assert_allclose(ws, wd, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(bs, bd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("penalty", ["elasticnet", "l2"])  # l2: the fused step-and-margin kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_bits_on_every_isa_and_thread_count(data, dtype, penalty):
    X, y01 = data
    X = np.ascontiguousarray(X, dtype=dtype)
    y = np.where(y01 > 0, 1.0, -1.0).astype(dtype)
    ref = None
    for isa in ISAS:
        for nt in THREADS:
            w, b = run_on(isa, nt, lambda: fit_plain(X, y, "log_loss", penalty, 1e-3, 0.15,
                                                      "optimal", 0.0, 7, 2, False))
            assert w.dtype == dtype
            if ref is None:
                ref = (w, b)
            np.testing.assert_array_equal(w, ref[0], err_msg=f"{isa} {nt}")
            assert b == ref[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_sum_same_bits_on_every_isa_and_thread_count(data, dtype):
    # log_loss values are added 64 samples at a time, computed on vectors:
    # sums over 1, 63, 64, 65 and 300 samples agree bitwise on every path,
    # with the running objective tracked or not
    X, y01 = data
    X = np.ascontiguousarray(X, dtype=dtype)
    y = np.where(y01 > 0, 1.0, -1.0).astype(dtype)
    L = losses.get("log_loss")

    def epoch(n, objective):
        order = np.random.default_rng(n).permutation(n).astype(np.int64)
        return sumloss_of_epoch(X[:n], y[:n], L, order, objective)

    for n in (1, 63, 64, 65, 300):
        ref = epoch(n, True)
        assert np.isfinite(ref) and ref > 0
        for isa in ISAS:
            for nt in THREADS:
                assert run_on(isa, nt, lambda: epoch(n, False)) == ref, (n, isa, nt)


@pytest.mark.parametrize("sparse, wide", [(False, 0), (True, 0), (False, 256), (False, 259)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss, penalty", [("log_loss", "l2"), ("log_loss", "elasticnet"),
                                           ("log_loss", "l1"), ("log_loss", "none"),
                                           ("hinge", "elasticnet"), ("hinge", "l2")])
def test_running_objective_same_bits_as_one_sample_per_call(data, sparse, wide, dtype, loss,
                                                             penalty):
    # log_loss's values wait and are added to sumloss and to scikit-learn's
    # running objective 64 samples at a time, with each sample's penalty
    # term; calls of one sample each add them one at a time: the same
    # sumloss, objective, norms and weights, bitwise, on every ISA path and
    # thread count, around the 64 (hinge: values at each step, the control).
    # Wide dense rows (256 and 259 features: from 256 on) also keep the weights each
    # step wrote and sum the norms of eight steps side by side at the flush.
    # With an L2 penalty the norms are followed here too, from the weights
    # (hinge: steps without an update only decay them).
    X, y01 = data
    if wide:
        rng = np.random.default_rng(7)
        X = rng.standard_normal((X.shape[0], wide))
        y01 = (X[:, :25] @ rng.standard_normal(25) > 0).astype(int)
    X = np.ascontiguousarray(X, dtype=dtype)
    y = np.where(y01 > 0, 1.0, -1.0).astype(dtype)
    C = sp.csr_matrix(X)
    L = losses.get(loss)
    d = X.shape[1]

    alpha, rho = 1e-3, {"l2": 0.0, "elasticnet": 0.15, "l1": 1.0, "none": 0.0}[penalty]

    def run(order, calls):
        w = np.zeros(d, dtype)
        q = np.zeros(d, dtype) if penalty in ("l1", "elasticnet") else None
        state = np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
        total, objective = 0.0, 0.0
        norms = [0.0, 0.0]  # (l2 penalty) ‖w‖², ‖w‖₁ kept here as scikit-learn does
        for part in calls(order):
            before = state.copy()
            args = (y, None, part, L.kind, L.param, PEN[penalty], alpha, 0.15, LR["optimal"], 0.01,
                    0.5, 1e3, True, 1.0, 0, w, None, q, state, True)
            if sparse:
                value = _core.plain_sgd_epoch_csr(C.data, C.indices, C.indptr, d, *args)
            else:
                value = _core.plain_sgd_epoch_dense(X, *args)
            total += value
            # scikit-learn's objective_sum, written out: the sample's loss
            # (one sample's sumloss), then the penalty at the norms before it
            objective += value
            if penalty == "l2":
                # the norms too (the weights after a step are its add's: no
                # L1 truncation): the step's decay, then, after an update,
                # the squared weights of the row's features summed in order
                objective += alpha * (0.5 * math.sqrt(norms[0]) ** 2 + 0.0 * norms[1])
                eta = 1.0 / (alpha * (1e3 + before[6] - 1.0))
                c = max(0.0, 1.0 - (1.0 * eta * alpha))
                norms = [norms[0] * (c * c), 0.0]
                if value > 0.0:  # (a loss > 0 has a derivative != 0: the step updated)
                    cols = C.indices[C.indptr[part[0]]:C.indptr[part[0] + 1]] if sparse else range(d)
                    total_sq = 0.0
                    for j in cols:
                        total_sq += float(w[j]) * float(w[j])
                    ws = dtype(state[2])
                    norms[0] = total_sq * float(ws * ws)
            elif penalty != "none":
                objective += alpha * ((1 - rho) * 0.5 * math.sqrt(before[7]) ** 2 + rho * before[8])
        return total, state.copy(), w, objective

    for n in (1, 63, 64, 65, 129, 300):
        order = np.random.default_rng(n).permutation(300)[:n].astype(np.int64)
        total, state, w, objective = run(order, lambda o: [o[k:k + 1] for k in range(len(o))])
        assert np.isfinite(total) and total > 0 and state[9] > 0
        assert state[9] == objective, n
        # the norms after the last step: those the penalty reads (‖w‖² for
        # l2 and elasticnet, ‖w‖₁ for elasticnet), the others not kept
        assert (state[7] > 0) == (penalty in ("l2", "elasticnet"))
        assert (state[8] > 0) == (penalty in ("l1", "elasticnet"))
        for isa in ISAS:
            for nt in THREADS:
                got = run_on(isa, nt, lambda: run(order, lambda o: [o]))
                assert got[0] == total, (n, isa, nt)
                np.testing.assert_array_equal(got[1], state, err_msg=f"{n} {isa} {nt}")
                np.testing.assert_array_equal(got[2], w, err_msg=f"{n} {isa} {nt}")


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n", [1, 37, 300])
def test_block_prefetch_does_not_change_the_result(data, sparse, n):
    # block= only tells the loop which rows to fetch next (shuffle="block")
    from gdcore.linear._base import block_order

    X, y01 = data
    X, y = X[:n], np.where(y01[:n] > 0, 1.0, -1.0)
    rng = np.random.default_rng(3)
    for block in (1, 16, 64, 512):
        order = block_order(np.arange(n, dtype=np.int64), rng, block)
        want = fit_plain(X, y, "hinge", "l2", 1e-3, 0.15, "optimal", 0.0, 0, 2, sparse, order=order)
        for hint in (block, 7):  # the right block size, and a wrong one
            got = fit_plain(X, y, "hinge", "l2", 1e-3, 0.15, "optimal", 0.0, 0, 2, sparse,
                            order=order, block=hint)
            np.testing.assert_array_equal(got[0], want[0])
            assert got[1] == want[1]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["blocks", "random", "gathered"])
def test_rows_read_ahead_do_not_change_the_result(sparse, dtype, kind):
    # Over 4 MiB of rows: with two threads a second one reads the rows ahead
    # of the steps (rows, targets and weights; only reads) -- by blocks
    # (shuffle="block"), or row by row in any other order (shuffle=True:
    # a permutation, here with rows visited twice and rows never; its
    # targets also gathered in the order's order).  The model must be the one
    # a single thread fits, on every ISA path; blocks also with a wrong
    # block hint and a short last block.
    from gdcore.linear._base import block_order

    X, y, sw, order, rng = read_ahead_rows(dtype, sparse, seed=11)
    n, block = X.shape[0], 163
    if kind == "blocks":
        order = block_order(np.arange(n, dtype=np.int64), rng, block)
        assert n % block != 0
        runs = [dict(block=block), dict(block=7)]
    else:
        runs = [dict(targets_in_order=kind == "gathered")]
    args = (X, y, "log_loss", "l2", 1e-4, 0.15, "optimal", 0.0, 0, 1, sparse)
    want = run_on(ISAS[0], 1, lambda: fit_plain(*args, sw=sw, order=order))
    for isa in ISAS:
        for nt in THREADS:
            for kw in runs:
                got = run_on(isa, nt, lambda: fit_plain(*args, sw=sw, order=order, **kw))
                np.testing.assert_array_equal(got[0], want[0], err_msg=f"{isa} {nt} {kw}")
                assert got[1] == want[1], (isa, nt, kw)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss, penalty, average", [("hinge", "l2", 0), ("log_loss", "elasticnet", 5),
                                                    ("squared_hinge", "l2", 3)])
def test_targets_in_the_orders_order_give_the_same_model(data, sparse, loss, penalty, average):
    # y[k], sample_weight[k] for row order[k]: the same steps as y[i] for row
    # i, on every ISA path and thread count; rows visited twice or never
    X, y01 = data
    y = np.where(y01 > 0, 1.0, -1.0)
    sw = np.random.default_rng(5).uniform(0.2, 3.0, len(y))
    n = len(y)
    order = np.concatenate([np.random.default_rng(6).permutation(n)[: n - 40],
                            np.arange(25)]).astype(np.int64)
    args = (X, y, loss, penalty, 1e-3, 0.3, "optimal", 0.0, average, 2, sparse)
    want = fit_plain(*args, sw=sw, order=order)
    for isa in ISAS:
        for nt in THREADS:
            got = run_on(isa, nt, lambda: fit_plain(*args, sw=sw, order=order,
                                                    targets_in_order=True))
            np.testing.assert_array_equal(got[0], want[0])
            assert got[1] == want[1]


def test_targets_in_order_must_hold_one_entry_per_step(data):
    X, y01 = data
    y = np.where(y01 > 0, 1.0, -1.0)
    w = np.zeros(X.shape[1])
    st = np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
    order = np.arange(10, dtype=np.int64)
    rest = (1, 1.0, 1, 1e-3, 0.15, 1, 0.0, 0.5, 1.0, True, 1.0, 0, w, None, None, st)
    C = sp.csr_matrix(X)
    for yy, sw, match in ((y, None, "y"), (y[:10], y[:9], "sample_weight")):
        with pytest.raises(ValueError, match=match):
            _core.plain_sgd_epoch_dense(X, yy, sw, order, *rest, targets_in_order=True)
        with pytest.raises(ValueError, match=match):
            _core.plain_sgd_epoch_csr(C.data, C.indices, C.indptr, X.shape[1], yy, sw, order, *rest,
                                      targets_in_order=True)
        assert not w.any() and st[6] == 1.0
    # rows indexed by row: y needs one entry per row, not per step
    with pytest.raises(ValueError, match="y"):
        _core.plain_sgd_epoch_dense(X, y[:10], None, order, *rest)
    _core.plain_sgd_epoch_dense(X, y[order], None, order, *rest, targets_in_order=True)
    assert st[6] == 11.0


def test_regression_loss_with_sample_weights(data):
    X, _ = data
    rng = np.random.default_rng(1)
    y = X @ rng.standard_normal(X.shape[1]) + 0.1
    sw = rng.uniform(0.5, 2.0, len(y))
    reg = sklm.SGDRegressor(loss="huber", epsilon=0.5, penalty="l2", alpha=1e-4, shuffle=False,
                            max_iter=3, tol=None, learning_rate="invscaling", eta0=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y, sample_weight=sw)
    L = losses.get("huber", epsilon=0.5)
    w = np.zeros(X.shape[1])
    state = np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
    for _ in range(3):
        _core.plain_sgd_epoch_dense(X, y, sw, np.arange(len(y), dtype=np.int64), L.kind, L.param,
                                    1, 1e-4, 0.0, 2, 0.01, 0.25, 0.0, True, 1.0, 0, w, None, None,
                                    state)
    _core.plain_sgd_finalize(w, None, state)
    np.testing.assert_allclose(w, reg.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state[0], reg.intercept_[0], rtol=1e-9)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("loss", ["hinge", "log_loss", "squared_error"])
def test_sumloss_is_nan_when_a_margin_is_not_finite(data, loss, bad):
    X, y01 = data
    X = X.copy()
    y = np.where(y01 > 0, 1.0, -1.0)
    L = losses.get(loss)

    def sumloss():
        return sumloss_of_epoch(X, y, L, np.arange(len(y), dtype=np.int64))

    assert np.isfinite(sumloss())
    X[len(y) // 2, 1] = bad
    assert np.isnan(sumloss())


def test_bad_arguments(data):
    X, y01 = data
    y = np.where(y01 > 0, 1.0, -1.0)
    w = np.zeros(X.shape[1])
    st = np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
    base = dict(X=X, y=y, sample_weight=None, order=np.arange(len(y), dtype=np.int64),
                loss_kind=5, loss_param=1.0, penalty=2, alpha=1e-3, l1_ratio=0.15,
                learning_rate=1, eta0=0.0, power_t=0.5, optimal_init=1.0, fit_intercept=True,
                intercept_decay=1.0, average=0, w=w, aw=None, q=np.zeros(X.shape[1]), state=st)
    d = X.shape[1]
    buf = np.zeros(len(y) + d - 2, np.int64)  # the order's last two entries under w
    order_under_w = buf[:len(y)]
    order_under_w[:] = np.arange(len(y))
    w_over_order = buf[len(y) - 2:].view(np.float64)
    cases = [
        (dict(q=None), "L1 needs"),
        (dict(average=3), "averag"),
        (dict(order=np.array([0, 10**6], np.int64)), "outside"),
        (dict(alpha=0.0), "alpha must be > 0"),
        (dict(block=-1), "block must be >= 0"),
        (dict(l1_ratio=2.0), "l1_ratio"),
        (dict(state=np.ones(3)), "10 elements"),
        (dict(state=st[::1].reshape(2, 5)), "10 elements"),
        (dict(state=np.ones(20)[::2]), "state must be contiguous"),
        (dict(w=np.zeros(3)), "w must be 1-D"),
        # the weights over the row order or X: refused before the pass
        (dict(w=w_over_order, order=order_under_w), "w must not share memory with order"),
        (dict(w=X[0], X=X), "w must not share memory with X"),
    ]
    for change, match in cases:
        kw = dict(base, **change)
        before = [kw["w"].copy(), kw["state"].copy(), kw["order"].copy()]
        with pytest.raises(ValueError, match=match):
            _core.plain_sgd_epoch_dense(**kw)
        for a, b in zip((kw["w"], kw["state"], kw["order"]), before):
            np.testing.assert_array_equal(a, b)
    # the state is read and written in place: no converted copy
    for bad, exc in ((st.astype(np.float32), TypeError), (st.tolist(), TypeError)):
        with pytest.raises(exc, match="state must"):
            _core.plain_sgd_epoch_dense(**dict(base, state=bad))
        np.testing.assert_array_equal(w, 0.0)
    C = sp.csr_matrix(X)
    bad_idx = C.indices.astype(np.int64)
    bad_idx[0] = 10**6
    tail = (X.shape[1], y, None, base["order"], 5, 1.0, 1, 1e-3, 0.15, 1, 0.0, 0.5, 1.0, True,
            1.0, 0, w, None, None, st)
    before = w.copy()
    with pytest.raises(ValueError, match="column index"):
        _core.plain_sgd_epoch_csr(C.data, bad_idx, C.indptr.astype(np.int64), *tail)
    bad32 = C.indices.astype(np.int32)
    bad32[3] = -1
    with pytest.raises(ValueError, match="column index"):
        _core.plain_sgd_epoch_csr(C.data, bad32, C.indptr.astype(np.int32), *tail)
    with pytest.raises(TypeError, match="same dtype"):
        _core.plain_sgd_epoch_csr(C.data, C.indices.astype(np.int32), C.indptr.astype(np.int64),
                                  *tail)
    with pytest.raises(TypeError, match="int32 or int64"):
        _core.plain_sgd_epoch_csr(C.data, C.indices.astype(np.uint32), C.indptr.astype(np.uint32),
                                  *tail)
    with pytest.raises(ValueError, match="contiguous"):
        _core.plain_sgd_epoch_csr(C.data, np.repeat(C.indices.astype(np.int64), 2)[::2],
                                  C.indptr.astype(np.int64), *tail)
    np.testing.assert_array_equal(w, before)
