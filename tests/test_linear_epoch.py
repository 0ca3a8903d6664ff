"""The fused mini-batch epoch (gdcore._core.minibatch_epoch) against a plain
numpy implementation of the documented algorithm, and bitwise identical on
every ISA path and thread count."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ISAS, LARGE, SIZES, THREADS, read_ahead_rows, run_on

from gdcore import _core, losses
from gdcore.optim import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, NAdam, RAdam,
                          RMSprop)
from reference import linear as ref_linear

PENALTIES = {"none": 0, "l2": 1, "l1": 2, "elasticnet": 3}
ALL_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron", "squared_error",
              "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]


def numpy_epoch(X, y, sw, order, loss, penalty, alpha, l1_ratio, fit_intercept, bs, lr, w, b,
                l1_state=None):
    """Plain SGD (no momentum) mini-batch epoch: for each batch B,
    g = X_B^T r / |B| + (1 - rho) alpha w, r_i = sw_i * dloss(y_i, x_i.w + b),
    w <- w - lr_k g, then (l1, elasticnet) the cumulative L1 truncation with
    u_j <- u_j + lr_k alpha rho (plain SGD's step scale is 1 in every
    coordinate).  ``l1_state``: a dict {"u": array, "q": array} carried over
    and updated in place (None: a fresh zero state)."""
    w = w.astype(np.float64).copy()
    b = float(b)
    total = 0.0
    rho = ref_linear.l1_share(penalty, l1_ratio)
    if l1_state is None:
        l1_state = {}
    l1_state.setdefault("u", np.zeros_like(w))
    l1_state.setdefault("q", np.zeros_like(w))
    for k, start in enumerate(range(0, len(order), bs)):
        rows = order[start : start + bs]
        m = X[rows] @ w + b
        s = sw[rows] if sw is not None else np.ones(len(rows))
        total += float(np.sum(s * loss.value(y[rows], m)))
        r = s * loss.derivative(y[rows], m)
        g = X[rows].T @ r / len(rows)
        if penalty == "l2":
            g = g + alpha * w
        elif penalty == "elasticnet":
            g = g + alpha * (1 - l1_ratio) * w
        gb = r.sum() / len(rows)
        w = w - lr[k] * g
        if fit_intercept:
            b = b - lr[k] * gb
        if rho:
            l1_state["u"] = l1_state["u"] + lr[k] * alpha * rho
            ref_linear.cumulative_l1(w, l1_state["q"], l1_state["u"])
    return w, b, total


def run_epochs(X, y, sw, order, loss, penalty, alpha, l1_ratio, fit_intercept, bs, lr, opt_cls, kw, epochs=1,
               sparse=False, index_dtype=np.int64, l1=None):
    """``epochs`` passes of minibatch_epoch (minibatch_epoch_csr on X as CSR
    with ``index_dtype`` indices when ``sparse``); returns w, b, totals, the
    coef state and the counters.  ``l1``: a list [] that receives the
    cumulative L1 penalty's state (l1_q, l1_u) kept across the passes."""
    dt = X.dtype
    w = np.zeros(X.shape[1], dt)
    b = np.zeros(1, dt)
    probe = opt_cls([np.zeros(1, dt)], **kw)
    group = probe.param_groups[0]
    slots = probe._slots(group)
    cst = [np.zeros(X.shape[1], dt) if s else None for s in slots]
    bst = [np.zeros(1, dt) if s else None for s in slots]
    counters = np.zeros(4, np.int64)
    scalars = np.ones(2)
    args = (y, sw, order, loss.kind, loss.param, PENALTIES[penalty], alpha, l1_ratio, fit_intercept,
            bs, probe._kind, probe._hyper(group, 0.0), lr, w, b, cst, bst, counters, scalars)
    state = dict(l1_q=np.zeros(X.shape[1], dt), l1_u=np.zeros(X.shape[1]))
    if l1 is not None:
        l1[:] = [state["l1_q"], state["l1_u"]]
    if sparse:
        C = pytest.importorskip("scipy.sparse").csr_matrix(X)
        csr = (C.data, C.indices.astype(index_dtype), C.indptr.astype(index_dtype), X.shape[1])
    totals = []
    for _ in range(epochs):
        if sparse:
            totals.append(_core.minibatch_epoch_csr(*csr, *args, **state))
        else:
            totals.append(_core.minibatch_epoch(X, *args, **state))
    return w, b, totals, cst, counters


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    n, d = 203, 37
    X = rng.standard_normal((n, d))
    wt = rng.standard_normal(d)
    y_cls = np.where(X @ wt + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    y_reg = X @ wt + 0.1 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    return X, y_cls, y_reg, sw


@pytest.mark.parametrize("loss_name", ALL_LOSSES)
@pytest.mark.parametrize("penalty", ["none", "l2", "l1", "elasticnet"])
def test_sgd_epoch_matches_numpy(data, loss_name, penalty):
    X, y_cls, y_reg, sw = data
    loss = losses.get(loss_name)
    y = y_cls if loss.classification else y_reg
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y)).astype(np.int64)
    bs = 16
    lr = np.linspace(0.05, 0.01, -(-len(order) // bs))
    w, b, totals, _, counters = run_epochs(X, y, sw, order, loss, penalty, 1e-2, 0.3, True, bs, lr, SGD, {})
    wr, br, tr = numpy_epoch(X, y, sw, order, loss, penalty, 1e-2, 0.3, True, bs, lr, np.zeros(X.shape[1]), 0.0)
    np.testing.assert_allclose(w, wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b[0], br, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(totals[0], tr, rtol=1e-9)
    assert counters[0] == len(lr) and counters[1] == len(lr)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss_name", ALL_LOSSES)
def test_dense_block_kernel_matches_numpy_on_every_isa(loss_name, dtype):
    """The per-ISA block kernel of dense mini-batches: every loss, every ISA
    path and thread count, row widths around every vector width (with 0 and
    1), batches of one full 64-row block, of 64 + 1 rows, of several blocks
    and of a short one."""
    loss = losses.get(loss_name)
    rng = np.random.default_rng(11)
    n = 150
    tol = dict(rtol=2e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    for d in SIZES[:-1] + [100]:
        X = rng.standard_normal((n, d))
        wt = rng.standard_normal(d)
        y = np.where(X @ wt + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0) if loss.classification \
            else X @ wt + 0.1 * rng.standard_normal(n)
        sw = rng.uniform(0.5, 2.0, n)
        order = rng.permutation(n).astype(np.int64)
        for bs in (64, 65, 150, 23):
            lr = np.linspace(0.05, 0.01, -(-n // bs))
            wr, br, tr = numpy_epoch(X, y, sw, order, loss, "l2", 1e-2, 0.0, True, bs, lr, np.zeros(d), 0.0)
            Xd, yd, swd = X.astype(dtype), y.astype(dtype), sw.astype(dtype)
            ref = None
            for isa in ISAS:
                for nt in THREADS:
                    w, b, totals, _, _ = run_on(isa, nt, lambda: run_epochs(
                        Xd, yd, swd, order, loss, "l2", 1e-2, 0.0, True, bs, lr, SGD, {}))
                    where = f"{isa} {nt} d={d} bs={bs}"
                    np.testing.assert_allclose(w, wr, err_msg=where, **tol)
                    np.testing.assert_allclose(b[0], br, err_msg=where, **tol)
                    np.testing.assert_allclose(totals[0], tr, rtol=tol["rtol"], err_msg=where)
                    ref = ref or (w, b, totals)
                    np.testing.assert_array_equal(w, ref[0], err_msg=where)
                    np.testing.assert_array_equal(b, ref[1], err_msg=where)
                    assert totals == ref[2], where


def test_dense_block_kernel_rows_longer_than_a_million():
    rng = np.random.default_rng(12)
    n, d = 3, LARGE
    X = rng.standard_normal((n, d))
    y = np.array([1.0, -1.0, 1.0])
    order = np.array([2, 0, 1], dtype=np.int64)
    lr = np.array([1e-3])
    loss = losses.get("log_loss")
    wr, br, tr = numpy_epoch(X, y, None, order, loss, "none", 0.0, 0.0, True, n, lr, np.zeros(d), 0.0)
    ref = None
    for isa in ISAS:
        for nt in THREADS:
            w, b, totals, _, _ = run_on(isa, nt, lambda: run_epochs(
                X, y, None, order, loss, "none", 0.0, 0.0, True, n, lr, SGD, {}))
            np.testing.assert_allclose(w, wr, rtol=1e-9, atol=1e-15)
            np.testing.assert_allclose(b[0], br, rtol=1e-12)
            np.testing.assert_allclose(totals[0], tr, rtol=1e-12)
            ref = ref or (w, totals)
            np.testing.assert_array_equal(w, ref[0], err_msg=f"{isa} {nt}")
            assert totals == ref[1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("loss_name", ["hinge", "log_loss", "squared_error", "epsilon_insensitive"])
def test_total_is_nan_when_a_margin_is_not_finite(data, loss_name, bad):
    # (hinge at a NaN margin has no subgradient step and a zero loss term, so
    # only the documented NaN total reveals the bad row)
    X, y_cls, y_reg, sw = data
    loss = losses.get(loss_name)
    y = y_cls if loss.classification else y_reg
    order = np.arange(len(y), dtype=np.int64)
    lr = np.full(-(-len(y) // 16), 0.01)
    for dt in (np.float32, np.float64):
        Xd, yd, swd = X.astype(dt), y.astype(dt), sw.astype(dt)
        assert np.isfinite(run_epochs(Xd, yd, swd, order, loss, "l2", 1e-3, 0.0, True, 16, lr, SGD, {})[2][0])
        Xd[57, 11] = bad
        assert np.isnan(run_epochs(Xd, yd, swd, order, loss, "l2", 1e-3, 0.0, True, 16, lr, SGD, {})[2][0])


def test_no_intercept_and_subset_order(data):
    X, y, _, _ = data
    loss = losses.get("log_loss")
    order = np.arange(0, len(y), 3, dtype=np.int64)  # a subset, in order
    bs = 10
    lr = np.full(-(-len(order) // bs), 0.1)
    w, b, _, _, _ = run_epochs(X, y, None, order, loss, "l2", 1e-3, 0.15, False, bs, lr, SGD, {})
    wr, br, _ = numpy_epoch(X, y, None, order, loss, "l2", 1e-3, 0.15, False, bs, lr, np.zeros(X.shape[1]), 0.0)
    np.testing.assert_allclose(w, wr, rtol=1e-9, atol=1e-12)
    assert b[0] == 0.0 and br == 0.0


@pytest.mark.parametrize("penalty", ["elasticnet", "l1"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_identical_across_isa_and_threads(dtype, penalty):
    rng = np.random.default_rng(5)
    n, d = 5000, 33
    X = rng.standard_normal((n, d)).astype(dtype)
    y = np.where(rng.standard_normal(n) > 0, 1, -1).astype(dtype)
    order = rng.permutation(n).astype(np.int64)
    loss = losses.get("log_loss")
    results = []
    for isa in ISAS:
        for nt in THREADS:
            for bs in (1, 64, 128, 1000, n):
                lr = np.full(-(-n // bs), 0.01)
                l1 = []
                got = run_on(isa, nt, lambda: run_epochs(
                    X, y, None, order, loss, penalty, 1e-3, 0.5, True, bs, lr, Adam, {}, epochs=2,
                    l1=l1))
                results.append(((isa, nt, bs), got + (l1,)))
    by_bs = {}
    for (isa, nt, bs), (w, b, totals, cst, _, l1) in results:
        assert w.dtype == dtype
        ref = by_bs.setdefault(bs, (w, b, totals, cst, l1))
        np.testing.assert_array_equal(w, ref[0], err_msg=f"{isa} {nt} {bs}")
        np.testing.assert_array_equal(b, ref[1])
        assert totals == ref[2]
        for s, r in zip(cst, ref[3]):
            np.testing.assert_array_equal(s, r)
        for s, r in zip(l1, ref[4]):  # the cumulative L1 penalty's q and u
            np.testing.assert_array_equal(s, r)
    # the truncation leaves exact zeros (pure-noise labels; 10 000 steps of batch 1)
    assert np.count_nonzero(by_bs[1][0] == 0) >= 5


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_truncation_state_carries_over_epochs(penalty, sparse):
    """Three passes with the same (l1_q, l1_u) arrays == three numpy epochs
    with the state carried over; the truncation leaves exact zeros, and
    starting each pass from a fresh state gives another model."""
    rng = np.random.default_rng(4)
    n, d = 300, 40
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.6] = 0.0
    y = np.where(X[:, :4] @ np.array([2.0, -1.0, 1.5, 0.7]) + 0.3 * rng.standard_normal(n) > 0,
                 1.0, -1.0)
    loss = losses.get("log_loss")
    order = rng.permutation(n).astype(np.int64)
    bs, alpha = 16, 0.02
    lr = np.linspace(0.2, 0.05, -(-n // bs))
    l1 = []
    w, b, totals, _, _ = run_epochs(X, y, None, order, loss, penalty, alpha, 0.6, True, bs, lr, SGD,
                                    {}, epochs=3, sparse=sparse, l1=l1)
    state = {}
    wr, br = np.zeros(d), 0.0
    for e in range(3):
        wr, br, tr = numpy_epoch(X, y, None, order, loss, penalty, alpha, 0.6, True, bs, lr, wr, br,
                                 l1_state=state)
        np.testing.assert_allclose(totals[e], tr, rtol=1e-9)
    np.testing.assert_allclose(w, wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b[0], br, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(l1[0], state["q"], rtol=1e-9, atol=1e-12)
    # plain SGD: every weight's threshold is the same sum of lr_k alpha rho,
    # bit for bit the shared threshold of the scalar rule
    u = 0.0
    for _ in range(3):
        for lk in lr:
            u += lk * alpha * ref_linear.l1_share(penalty, 0.6)
    np.testing.assert_array_equal(l1[1], np.full(d, u))
    np.testing.assert_array_equal(state["u"], np.full(d, u))
    assert u == pytest.approx(3 * alpha * ref_linear.l1_share(penalty, 0.6) * lr.sum(), rel=1e-12)
    zeros = np.flatnonzero(w == 0)
    assert 10 <= len(zeros) < d - 4 and np.array_equal(zeros, np.flatnonzero(wr == 0))
    # the carried state matters: a fresh state every pass is another fit
    wf, bf = np.zeros(d), 0.0
    for e in range(3):
        wf, bf, _ = numpy_epoch(X, y, None, order, loss, penalty, alpha, 0.6, True, bs, lr, wf, bf)
    assert np.abs(wf - w).max() > 1e-3


# optimizer, its options, the (constant) learning rate
L1_OPTIMIZERS = [
    (Adam, {}, 0.01),
    (Adam, {"amsgrad": True, "weight_decay": 1e-3}, 0.01),
    (AdamW, {}, 0.01),
    (NAdam, {}, 0.01),
    (RAdam, {}, 0.01),  # 19 batches an epoch: unrectified steps, then rectified ones
    (RMSprop, {}, 0.005),
    (RMSprop, {"centered": True, "momentum": 0.5}, 0.002),
    (Adagrad, {}, 0.05),
    (Adagrad, {"lr_decay": 0.05}, 0.05),
    (Adamax, {}, 0.01),
    (Adadelta, {}, 1.0),
    (Lion, {}, 0.001),
    (SGD, {"momentum": 0.9}, 0.05),
]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("opt_cls, kw, lr0", L1_OPTIMIZERS,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_l1_threshold_in_the_optimizers_metric_matches_numpy(opt_cls, kw, lr0, penalty, sparse):
    """Three passes with the cumulative L1 state carried == three epochs of
    the numpy oracle (reference/linear.py), whose threshold of weight j grows
    by lr·α·ρ·s_j with s_j the optimizer's own step scale (1 / (√v̂_j + eps)
    for Adam, ...): weights, intercept, losses, q and u."""
    rng = np.random.default_rng(14)
    n, d = 300, 24
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.5] = 0.0
    X[:, 7] = 0.0  # a feature no row has: its v stays 0 for Adam (s_j = 1 / eps)
    y = np.where(X[:, :4] @ np.array([2.0, -1.0, 1.5, 0.7]) + 0.3 * rng.standard_normal(n) > 0,
                 1.0, -1.0)
    order = rng.permutation(n).astype(np.int64)
    bs, alpha, l1_ratio = 16, 0.01, 0.6
    lr = np.full(-(-n // bs), lr0)
    l1 = []
    w, b, totals, _, counters = run_epochs(X, y, None, order, losses.get("log_loss"), penalty,
                                           alpha, l1_ratio, True, bs, lr, opt_cls, kw, epochs=3,
                                           sparse=sparse, l1=l1)
    o = ref_linear.oracle(opt_cls.__name__.lower(), np.zeros(d), np.zeros(1), **kw)
    state = {}
    for e in range(3):
        tr = ref_linear.minibatch_epoch(X, y, np.ones(n), order, "log_loss", penalty, alpha,
                                        l1_ratio, True, bs, o, lr, l1_state=state)
        np.testing.assert_allclose(totals[e], tr, rtol=1e-12)
    np.testing.assert_allclose(w, o.params[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, o.params[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(l1[0], state["q"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(l1[1], state["u"], rtol=1e-12)
    np.testing.assert_array_equal(w == 0, o.params[0] == 0)
    assert counters[0] == 3 * len(lr)
    # the informative weights stay, the absent feature's is 0 (and noise ones too)
    assert np.all(w[:4] != 0) and w[7] == 0, w
    assert opt_cls is Lion or np.count_nonzero(w == 0) >= 2, w
    if opt_cls in (SGD, Lion):  # step scale 1: every weight's threshold is the same
        np.testing.assert_array_equal(l1[1], l1[1][0])
    else:
        assert len(np.unique(l1[1])) > d // 2


def test_l1_threshold_sgd_is_the_shared_sum_bit_for_bit():
    """Plain SGD and Lion: u_j is, bit for bit, the running sum of
    lr_k·α·ρ that the shared threshold was (so their L1 fits are unchanged),
    and the weights are those of the numpy epoch with that threshold."""
    rng = np.random.default_rng(21)
    n, d = 200, 15
    X = rng.standard_normal((n, d))
    y = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    order = rng.permutation(n).astype(np.int64)
    lr = np.linspace(0.3, 0.05, -(-n // 8))
    for opt_cls in (SGD, Lion):
        l1 = []
        w, b, _, _, _ = run_epochs(X, y, None, order, losses.get("hinge"), "elasticnet", 0.03, 0.7,
                                   True, 8, lr, opt_cls, {}, epochs=2, l1=l1)
        u = 0.0
        for _ in range(2):
            for lk in lr:
                u += lk * 0.03 * 0.7
        np.testing.assert_array_equal(l1[1], np.full(d, u))
    state = {}
    wr, br = np.zeros(d), 0.0
    for _ in range(2):
        wr, br, _ = numpy_epoch(X, y, None, order, losses.get("hinge"), "elasticnet", 0.03, 0.7,
                                True, 8, lr, wr, br, l1_state=state)
    l1 = []
    w, b, _, _, _ = run_epochs(X, y, None, order, losses.get("hinge"), "elasticnet", 0.03, 0.7,
                               True, 8, lr, SGD, {}, epochs=2, l1=l1)
    np.testing.assert_array_equal(l1[1], state["u"])
    np.testing.assert_allclose(w, wr, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(w == 0, wr == 0)
    assert np.count_nonzero(w == 0) > 0


def hinge_epoch_args(data, penalty, alpha):
    """Keyword arguments of one minibatch_epoch call of plain SGD on ``data``
    (hinge, batches of 16, lr 0.1)."""
    X, y, _, _ = data
    loss = losses.get("hinge")
    return dict(X=X, y=y, sample_weight=None, order=np.arange(len(y), dtype=np.int64),
                loss_kind=loss.kind, loss_param=loss.param, penalty=penalty, alpha=alpha,
                l1_ratio=0.15, fit_intercept=True, batch_size=16, optimizer="sgd",
                hyper=(0.1, 0.0, 0.0, 0.0, False, False), lr=np.full(13, 0.1),
                coef=np.full(X.shape[1], 0.5), intercept=np.full(1, 0.25), coef_states=[],
                intercept_states=[], counters=np.zeros(4, np.int64), scalars=np.ones(2))


def test_l1_state_arguments_are_checked(data):
    X = data[0]
    d = X.shape[1]
    args = hinge_epoch_args(data, penalty=2, alpha=1e-2)
    coef = args["coef"]
    readonly = np.zeros(d)
    readonly.flags.writeable = False
    both = np.zeros(2 * d)  # l1_q and l1_u overlapping
    bad = [
        (dict(l1_q=np.zeros(d)), "given together"),
        (dict(l1_q=np.zeros(3), l1_u=np.zeros(d)), "l1_q"),
        (dict(l1_q=np.zeros(d, np.float32), l1_u=np.zeros(d)), "l1_q"),
        (dict(l1_q=np.zeros(d), l1_u=np.zeros(1)), "l1_u"),  # the old one-value state
        (dict(l1_q=np.zeros(d), l1_u=np.zeros(d + 1)), "l1_u"),
        (dict(l1_q=np.zeros(d), l1_u=np.zeros((1, d))), "l1_u"),
        (dict(l1_q=np.zeros(d), l1_u=np.zeros(d, np.float32)), "l1_u"),
        (dict(l1_q=np.zeros(d), l1_u=readonly), "l1_u"),
        (dict(l1_q=coef, l1_u=np.zeros(d)), "share memory"),
        (dict(l1_q=np.zeros(d), l1_u=coef), "share memory"),
        (dict(l1_q=both[:d], l1_u=both[d // 2:d // 2 + d]), "share memory"),
    ]
    for extra, match in bad:
        q0 = extra.get("l1_q")
        u0 = extra.get("l1_u")
        if q0 is not None and q0 is not coef:
            q0[...] = 0.125
        if u0 is not None and u0 is not coef and u0.flags.writeable:
            u0[...] = 0.0625
        q_before = None if q0 is None else q0.copy()
        u_before = None if u0 is None else u0.copy()
        with pytest.raises(ValueError, match=match):
            _core.minibatch_epoch(**args, **extra)
        np.testing.assert_array_equal(coef, 0.5)
        assert args["intercept"][0] == 0.25
        assert args["counters"].tolist() == [0, 0, 0, 0]
        if q0 is not None:
            np.testing.assert_array_equal(q0, q_before)
        if u0 is not None:
            np.testing.assert_array_equal(u0, u_before)


def test_written_arrays_may_not_share_memory_with_what_the_pass_reads(data):
    # an output over the row order would send the pass's later reads
    # outside X; every such overlap is refused before anything is written
    X, y = data[0], data[1]
    n, d = X.shape
    args = hinge_epoch_args(data, penalty=2, alpha=1e-2)
    buf = np.arange(n + d, dtype=np.int64)
    order_view = buf[:n]  # the order's tail is the coef below
    coef_over_order = buf[n - d // 2:n - d // 2 + d].view(np.float64)
    coef_over_order[...] = 0.5
    y_copy = y.copy()
    coef_over_y = np.zeros(n + d)
    coef_over_y[:n] = y
    yv, cv = coef_over_y[:n], coef_over_y[n - 1:n - 1 + d]
    cv[1:] = 0.5
    lr = np.zeros(13 + d)
    lr[:13] = 0.1
    state_over_lr = lr[13 - 1:13 - 1 + d]
    cases = [
        (dict(order=order_view, coef=coef_over_order), "coef must not share memory with order"),
        (dict(y=yv, coef=cv), "coef must not share memory with y"),
        (dict(lr=lr[:13], optimizer="adam", hyper=(0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False),
              coef_states=[np.zeros(d), state_over_lr]), "coef state 1 must not share memory with lr"),
        (dict(coef_states=[args["coef"]], hyper=(0.1, 0.9, 0.0, 0.0, False, False)),
         "coef must not share memory with coef state 0"),
    ]
    for change, match in cases:
        kw = dict(args, **change)
        watched = [kw["order"], kw["coef"], kw["y"], kw["lr"], kw["intercept"]] + [
            a for a in kw["coef_states"] if a is not None]
        before = [a.copy() for a in watched]
        with pytest.raises(ValueError, match=match):
            _core.minibatch_epoch(**kw)
        for a, b in zip(watched, before):
            np.testing.assert_array_equal(a, b)
        assert kw["counters"].tolist() == [0, 0, 0, 0]
    np.testing.assert_array_equal(y, y_copy)
    # the same check guards the CSR and softmax passes
    C = pytest.importorskip("scipy.sparse").csr_matrix(X)
    idx = C.indices.astype(np.int64)
    coef = np.zeros(d)
    with pytest.raises(ValueError, match="coef must not share memory with indices"):
        _core.minibatch_epoch_csr(
            C.data, idx, C.indptr.astype(np.int64), d, y, None, args["order"], 5, 1.0, 2, 1e-2,
            0.15, True, 16, "sgd", (0.1, 0.0, 0.0, 0.0, False, False), np.full(13, 0.1),
            idx[:d].view(np.float64), np.zeros(1), [], [], np.zeros(4, np.int64), np.ones(2))
    k = 3
    yk = (np.arange(n) % k).astype(np.float64)
    W = np.zeros(k * d + 1)
    with pytest.raises(ValueError, match="coef must not share memory with intercept"):
        _core.multinomial_epoch(X, yk, None, args["order"], k, 2, 1e-2, 0.15, True, 16, "sgd",
                                (0.1, 0.0, 0.0, 0.0, False, False), np.full(13, 0.1),
                                W[:k * d], W[k * d - 2:k * d + 1], [], [],
                                np.zeros(4, np.int64), np.ones(2))
    np.testing.assert_array_equal(W, 0.0)


def test_counters_are_read_and_written_in_place_or_refused(data):
    # a converted copy of an in/out array would take the pass's writes and
    # drop them: wrong dtypes and layouts are errors, nothing written
    args = hinge_epoch_args(data, penalty=2, alpha=1e-2)
    cases = [
        (dict(counters=np.zeros(4, np.int32)), TypeError, "counters must have dtype int64"),
        (dict(counters=np.zeros(4)), TypeError, "counters must have dtype int64"),
        (dict(counters=[0, 0, 0, 0]), TypeError, "counters must be a numpy.ndarray"),
        (dict(counters=np.zeros(8, np.int64)[::2]), ValueError, "counters must be contiguous"),
        (dict(counters=np.zeros(5, np.int64)), ValueError, "counters must be 1-D with 4"),
        (dict(scalars=np.ones(2, np.float32)), TypeError, "scalars must have dtype float64"),
        (dict(scalars=np.ones(2).astype(">f8")), TypeError, "native byte order"),
    ]
    readonly = np.zeros(4, np.int64)
    readonly.flags.writeable = False
    cases.append((dict(counters=readonly), ValueError, "counters is read-only"))
    for change, exc, match in cases:
        kw = dict(args, **change)
        with pytest.raises(exc, match=match):
            _core.minibatch_epoch(**kw)
        np.testing.assert_array_equal(kw["coef"], 0.5)
        assert kw["intercept"][0] == 0.25
    # the accepted arrays are updated in place
    _core.minibatch_epoch(**args)
    assert args["counters"].tolist()[:2] == [13, 13]


def test_learning_rates_must_be_finite_before_anything_is_written(data):
    args = hinge_epoch_args(data, penalty=2, alpha=1e-2)
    for bad in (np.inf, np.nan, -0.5):
        lr = np.full(13, 0.1)
        lr[7] = bad
        with pytest.raises(ValueError, match="learning rates must be finite and >= 0"):
            _core.minibatch_epoch(**dict(args, lr=lr))
        np.testing.assert_array_equal(args["coef"], 0.5)
        assert args["intercept"][0] == 0.25
        assert args["counters"].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minibatch_residuals_are_not_clipped(dtype):
    # r = dloss/dp unclipped (scikit-learn's ±1e12 clip is its per-sample
    # algorithm's): one row, squared error, y = 1e15, w = b = 0, plain SGD
    # with lr 1e-16 and no penalty: w = -lr * (0 - y) * x = 0.1 * x
    X = np.array([[2.0, -4.0]], dtype)
    y = np.array([1e15], dtype)
    coef, b = np.zeros(2, dtype), np.zeros(1, dtype)
    _core.minibatch_epoch(X, y, None, np.zeros(1, np.int64), 0, 0.0, 0, 0.0, 0.0, True, 1, "sgd",
                          (1e-16, 0.0, 0.0, 0.0, False, False), np.full(1, 1e-16), coef, b, [], [],
                          np.zeros(4, np.int64), np.ones(2))
    lr, r = dtype(1e-16), -y[0]
    np.testing.assert_array_equal(coef, [-(lr * (r * X[0, 0])), -(lr * (r * X[0, 1]))])
    np.testing.assert_array_equal(b, [-(lr * r)])


def test_adam_epoch_matches_gdcore_adam_driven_from_numpy(data):
    """The fused loop applies the same update as gd.optim.Adam given the
    same gradients (computed here with numpy)."""
    X, y, _, _ = data
    loss = losses.get("hinge")
    order = np.arange(len(y), dtype=np.int64)
    bs = 32
    lr = np.full(-(-len(y) // bs), 0.01)
    w, b, _, _, _ = run_epochs(X, y, None, order, loss, "none", 0.0, 0.0, True, bs, lr, Adam, {})
    wr, br = np.zeros(X.shape[1]), np.zeros(1)
    opt = Adam([wr, br], lr=0.01)
    for start in range(0, len(y), bs):
        rows = order[start : start + bs]
        r = loss.derivative(y[rows], X[rows] @ wr + br[0])
        opt.step([X[rows].T @ r / len(rows), np.array([r.sum() / len(rows)])])
    np.testing.assert_allclose(w, wr, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(b, br, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(order=np.array([0, 10**6], np.int64), lr=np.full(1, 0.1)), ValueError, "outside"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(alpha=-1.0), ValueError, "alpha"),
        (dict(l1_ratio=1.5), ValueError, "l1_ratio"),
        (dict(lr=np.array([-0.1] * 13)), ValueError, "learning rates"),
        (dict(lr=np.array([0.1])), ValueError, "one learning rate per batch"),
        (dict(y=np.ones(5)), ValueError, "y must be 1-D"),
        (dict(coef=np.zeros(3)), ValueError, "coef"),
    ],
)
def test_bad_arguments_write_nothing(data, kwargs, exc, match):
    args = hinge_epoch_args(data, penalty=1, alpha=1e-4)
    args.update(kwargs)
    coef_before = args["coef"].copy()
    with pytest.raises(exc, match=match):
        _core.minibatch_epoch(**args)
    np.testing.assert_array_equal(args["coef"], coef_before)
    assert args["intercept"][0] == 0.25


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss_name, penalty", [("log_loss", "l2"), ("hinge", "elasticnet"),
                                                ("squared_error", "none")])
def test_csr_epoch_equals_dense(dtype, loss_name, penalty, index_dtype):
    rng = np.random.default_rng(11)
    n, d = 400, 57
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.8] = 0.0
    X = X.astype(dtype)
    loss = losses.get(loss_name)
    y = (np.where(rng.standard_normal(n) > 0, 1, -1) if loss.classification
         else rng.standard_normal(n)).astype(dtype)
    order = rng.permutation(n).astype(np.int64)
    bs = 24
    lr = np.full(-(-n // bs), 0.01)

    def run(sparse):
        w, b, _, _, _ = run_epochs(X, y, None, order, loss, penalty, 1e-3, 0.3, True, bs, lr, Adam,
                                   {}, epochs=2, sparse=sparse, index_dtype=index_dtype)
        return w, b

    wd, bd = run(False)
    ws, bs_ = run(True)
    tol = 1e-4 if dtype == np.float32 else 1e-10  # dense dots sum in 16 lanes, sparse in order
    np.testing.assert_allclose(ws, wd, rtol=tol, atol=tol)
    np.testing.assert_allclose(bs_, bd, rtol=tol, atol=tol)


@pytest.fixture(scope="module")
def sparse_rows():
    rng = np.random.default_rng(21)
    n, d = 419, 61
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.85] = 0.0
    X[7] = 0.0  # an empty row
    wt = rng.standard_normal(d)
    y = np.where(X @ wt + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("opt_cls, kw, penalty, lazy", [
    (SGD, {}, "l2", True),
    (SGD, {}, "none", True),
    (SGD, {"weight_decay": 0.1}, "l2", True),
    (SGD, {"momentum": 0.9}, "l2", False),
    (SGD, {}, "l1", False),
    (SGD, {}, "elasticnet", False),
    (Adam, {}, "l2", False),
    (Adam, {}, "none", False),
])
def test_sparse_step_is_lazy_rule(opt_cls, kw, penalty, lazy):
    # The one statement of which sparse fits take the O(nnz) step, asked by
    # the estimators when they choose a sparse batch size.
    probe = opt_cls([np.zeros(1)], lr=0.1, **kw)
    hyper = probe._hyper(probe.param_groups[0], 0.1)
    assert _core.sparse_step_is_lazy(probe._kind, hyper, PENALTIES[penalty]) is lazy
    with pytest.raises(ValueError, match="penalty"):
        _core.sparse_step_is_lazy(probe._kind, hyper, 7)


# SGD hyperparameters: lr, momentum, dampening, weight_decay, nesterov, maximize
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("penalty, alpha, lr, weight_decay, maximize", [
    ("l2", 1e-2, 0.05, 0.0, False),
    ("none", 0.0, 0.05, 0.0, False),
    ("l2", 1e-2, 0.05, 0.03, False),
    ("none", 0.0, 0.01, 0.02, True),
    ("l2", 0.9, 0.5, 0.0, False),   # decay 0.55 a batch: scale passes 1e-9 and is folded in
    ("l2", 3.0, 0.5, 0.0, False),   # decay < 0: the weights are rescaled at once
])
def test_csr_plain_sgd_is_lazy_and_equals_dense(sparse_rows, dtype, index_dtype, penalty, alpha,
                                                lr, weight_decay, maximize):
    # Sparse rows with plain SGD keep w = scale·v (O(nnz) a step); the model
    # must equal the dense epoch (which updates every weight) up to rounding.
    X, y = sparse_rows
    X, y = X.astype(dtype), y.astype(dtype)
    loss = losses.get("log_loss")
    order = np.random.default_rng(1).permutation(len(y)).astype(np.int64)
    bs = 13
    rates = np.full(-(-len(y) // bs), lr)
    kw = dict(lr=lr, weight_decay=weight_decay, maximize=maximize)
    wd, bd, td, _, cd = run_epochs(X, y, None, order, loss, penalty, alpha, 0.15, True, bs, rates,
                                   SGD, kw, epochs=3)
    ws, bs_, ts, _, cs = run_epochs(X, y, None, order, loss, penalty, alpha, 0.15, True, bs, rates,
                                    SGD, kw, epochs=3, sparse=True, index_dtype=index_dtype)
    assert ws.dtype == dtype
    tol = 2e-4 if dtype == np.float32 else 1e-9
    scale = max(1.0, float(np.abs(wd).max()))
    np.testing.assert_allclose(ws, wd, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(bs_, bd, rtol=tol, atol=tol)
    np.testing.assert_allclose(ts, td, rtol=tol)
    np.testing.assert_array_equal(cs, cd)  # the optimizer's step counters


@pytest.mark.parametrize("fit_intercept, weighted", [(True, False), (False, False), (True, True)])
def test_csr_plain_sgd_matches_numpy(sparse_rows, fit_intercept, weighted):
    X, y = sparse_rows
    loss = losses.get("hinge")
    rng = np.random.default_rng(2)
    order = rng.permutation(len(y)).astype(np.int64)
    sw = rng.uniform(0.2, 3.0, len(y)) if weighted else None
    bs = 16
    lr = np.linspace(0.2, 0.05, -(-len(y) // bs))
    w, b, totals, _, _ = run_epochs(X, y, sw, order, loss, "l2", 0.05, 0.0, fit_intercept, bs, lr,
                                    SGD, {}, sparse=True)
    wr, br, tr = numpy_epoch(X, y, sw, order, loss, "l2", 0.05, 0.0, fit_intercept, bs, lr,
                             np.zeros(X.shape[1]), 0.0)
    np.testing.assert_allclose(w, wr, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b[0], br, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(totals[0], tr, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_plain_sgd_same_bits_on_every_isa_and_thread_count(dtype):
    rng = np.random.default_rng(8)
    n, d = 3000, 211
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.9] = 0.0
    X = X.astype(dtype)
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0).astype(dtype)
    order = rng.permutation(n).astype(np.int64)
    loss = losses.get("log_loss")
    ref = {}  # batch size -> the first result
    for isa in ISAS:
        for nt in THREADS:
            for bs in (1, 64, 200, n):
                lr = np.full(-(-n // bs), 0.3)
                got = run_on(isa, nt, lambda: run_epochs(
                    X, y, None, order, loss, "l2", 0.05, 0.0, True, bs, lr, SGD, {}, epochs=2,
                    sparse=True))
                want = ref.setdefault(bs, got)
                np.testing.assert_array_equal(got[0], want[0], err_msg=f"{isa} {nt} {bs}")
                np.testing.assert_array_equal(got[1], want[1])
                assert got[2] == want[2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse, opt_cls", [(False, Adam), (True, SGD), (True, Adam)])
def test_one_thread_batches_with_rows_read_ahead_same_bits(dtype, sparse, opt_cls):
    # Batches of at most one block (and the lazy sparse step, any batch) run
    # on one thread; over 4 MiB of rows a second thread reads the rows ahead
    # of them (rows, targets, weights; only reads).  The same bits as on one
    # thread, on every ISA path, with an order that repeats and skips rows.
    X, y, sw, order, _ = read_ahead_rows(dtype, sparse, seed=9)
    loss = losses.get("log_loss")
    for bs in (1, 64) if not sparse else (64, 200):
        lr = np.full(-(-len(order) // bs), 0.01)
        args = (X, y, sw, order, loss, "l2", 1e-4, 0.0, True, bs, lr, opt_cls, {})
        want = run_on(ISAS[0], 1, lambda: run_epochs(*args, sparse=sparse))
        for isa in ISAS:
            for nt in THREADS:
                got = run_on(isa, nt, lambda: run_epochs(*args, sparse=sparse))
                np.testing.assert_array_equal(got[0], want[0], err_msg=f"{isa} {nt} {bs}")
                np.testing.assert_array_equal(got[1], want[1])
                assert got[2] == want[2]


# ------------------------------------------------------------- multinomial
def numpy_softmax_epoch(X, y, sw, order, k, penalty, alpha, l1_ratio, bs, lr, W, b, l1_state=None):
    """Plain-SGD softmax regression epoch: per batch, G = R^T X_B / |B| +
    (1 - rho) alpha W, R = sw * (softmax(X_B W^T + b) - onehot(y)), W <- W -
    lr_t G, then the cumulative L1 truncation of every entry of W (as
    numpy_epoch; ``l1_state`` likewise)."""
    W = W.copy()
    b = b.copy()
    total = 0.0
    rho = ref_linear.l1_share(penalty, l1_ratio)
    if l1_state is None:
        l1_state = {}
    l1_state.setdefault("u", np.zeros_like(W))
    l1_state.setdefault("q", np.zeros_like(W))
    for t, start in enumerate(range(0, len(order), bs)):
        rows = order[start : start + bs]
        Z = X[rows] @ W.T + b
        m = Z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        s = sw[rows] if sw is not None else np.ones(len(rows))
        yi = y[rows].astype(int)
        total += float(np.sum(s * (lse - Z[np.arange(len(rows)), yi])))
        P = np.exp(Z - lse[:, None])
        P[np.arange(len(rows)), yi] -= 1.0
        R = s[:, None] * P
        G = R.T @ X[rows] / len(rows)
        if penalty == "l2":
            G = G + alpha * W
        elif penalty == "elasticnet":
            G = G + alpha * (1 - l1_ratio) * W
        W = W - lr[t] * G
        b = b - lr[t] * R.sum(axis=0) / len(rows)
        if rho:
            l1_state["u"] = l1_state["u"] + lr[t] * alpha * rho
            ref_linear.cumulative_l1(W, l1_state["q"], l1_state["u"])
    return W, b, total


def run_softmax(X, y, sw, order, k, penalty, alpha, l1_ratio, bs, lr, opt="sgd",
                hyper=(0.0, 0.0, 0.0, 0.0, False, False), epochs=1):
    dt = X.dtype
    d = X.shape[1]
    W = np.zeros(k * d, dt)
    b = np.zeros(k, dt)
    probe = getattr(__import__("gdcore").optim, {"sgd": "SGD", "adam": "Adam"}[opt])([np.zeros(1, dt)])
    slots = probe._slots(probe.param_groups[0])
    cst = [np.zeros(k * d, dt) if s else None for s in slots]
    bst = [np.zeros(k, dt) if s else None for s in slots]
    counters, scalars = np.zeros(4, np.int64), np.ones(2)
    l1_q, l1_u = np.zeros(k * d, dt), np.zeros(k * d)
    totals = [
        _core.multinomial_epoch(X, y, sw, order, k, PENALTIES[penalty], alpha, l1_ratio, True, bs,
                                opt, hyper, lr, W, b, cst, bst, counters, scalars, l1_q=l1_q,
                                l1_u=l1_u)
        for _ in range(epochs)
    ]
    return W.reshape(k, d), b, totals


@pytest.mark.parametrize("penalty", ["none", "l2", "l1", "elasticnet"])
def test_multinomial_epoch_matches_numpy(penalty):
    rng = np.random.default_rng(9)
    n, d, k = 250, 13, 4
    X = rng.standard_normal((n, d))
    y = rng.integers(0, k, n).astype(np.float64)
    sw = rng.uniform(0.5, 2.0, n)
    order = rng.permutation(n).astype(np.int64)
    bs = 20
    lr = np.linspace(0.2, 0.05, -(-n // bs))
    W, b, totals = run_softmax(X, y, sw, order, k, penalty, 1e-2, 0.3, bs, lr)
    Wr, br, tr = numpy_softmax_epoch(X, y, sw, order, k, penalty, 1e-2, 0.3, bs, lr,
                                     np.zeros((k, d)), np.zeros(k))
    np.testing.assert_allclose(W, Wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, br, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(totals[0], tr, rtol=1e-10)


def test_multinomial_l1_state_carries_over_epochs():
    rng = np.random.default_rng(19)
    n, d, k = 240, 12, 3
    centers = np.zeros((k, d))
    centers[:, :3] = rng.standard_normal((k, 3)) * 2  # features 3.. are noise
    y = rng.integers(0, k, n)
    X = centers[y] + rng.standard_normal((n, d))
    order = rng.permutation(n).astype(np.int64)
    bs = 16
    lr = np.full(-(-n // bs), 0.1)
    W, b, totals = run_softmax(X, y.astype(np.float64), None, order, k, "l1", 0.02, 0.0, bs, lr,
                               epochs=3)
    state = {}
    Wr, br = np.zeros((k, d)), np.zeros(k)
    for e in range(3):
        Wr, br, tr = numpy_softmax_epoch(X, y, None, order, k, "l1", 0.02, 0.0, bs, lr, Wr, br,
                                         l1_state=state)
        np.testing.assert_allclose(totals[e], tr, rtol=1e-10)
    np.testing.assert_allclose(W, Wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, br, rtol=1e-9, atol=1e-12)
    assert np.count_nonzero(W[:, 3:] == 0) > 10 and np.all(W[:, :3] != 0)
    np.testing.assert_array_equal(W == 0, Wr == 0)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("bs", [64, 256])  # 256: four row blocks per batch, shared by threads
def test_multinomial_learns_and_is_thread_and_isa_invariant(bs, penalty):
    rng = np.random.default_rng(10)
    n, d, k = 3000, 20, 3
    centers = rng.standard_normal((k, d)) * 2
    y = rng.integers(0, k, n)
    X = centers[y] + rng.standard_normal((n, d))
    order = np.arange(n, dtype=np.int64)
    lr = np.full(-(-n // bs), 0.05)
    ref = None
    for isa in ISAS:
        for nt in THREADS:
            W, b, totals = run_on(isa, nt, lambda: run_softmax(
                X, y.astype(np.float64), None, order, k, penalty, 1e-4, 0.0, bs, lr, opt="adam",
                hyper=(0.0, 0.9, 0.999, 1e-8, 0.0, False, False, False), epochs=3))
            if ref is None:
                ref = (W, b)
                acc = np.mean(np.argmax(X @ W.T + b, axis=1) == y)
                assert acc > 0.95, acc
                assert totals[-1] < totals[0]
            np.testing.assert_array_equal(W, ref[0], err_msg=f"{isa} {nt}")
            np.testing.assert_array_equal(b, ref[1])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_multinomial_total_is_nan_when_a_logit_is_not_finite(bad):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 6))
    y = (np.arange(90) % 3).astype(np.float64)
    order = np.arange(90, dtype=np.int64)
    lr = np.full(6, 0.1)
    assert np.isfinite(run_softmax(X, y, None, order, 3, "l2", 1e-3, 0.0, 16, lr)[2][0])
    X[40, 2] = bad
    assert np.isnan(run_softmax(X, y, None, order, 3, "l2", 1e-3, 0.0, 16, lr)[2][0])


def test_multinomial_bad_labels_write_nothing():
    X = np.ones((4, 2))
    W, b = np.full(6, 0.5), np.zeros(3)
    for y, msg in ((np.array([0, 1, 3, 0.0]), "class indices"), (np.array([0, 1, 0.5, 0]), "class indices")):
        with pytest.raises(ValueError, match=msg):
            _core.multinomial_epoch(X, y, None, np.arange(4, dtype=np.int64), 3, 1, 1e-4, 0.0, True,
                                    2, "sgd", (0.1, 0.0, 0.0, 0.0, False, False), np.full(2, 0.1),
                                    W, b, [], [], np.zeros(4, np.int64), np.ones(2))
        np.testing.assert_array_equal(W, 0.5)


# ------------------------------------------------------ multinomial, CSR rows
def softmax_epochs(X, y, sw, order, k, penalty, alpha, l1_ratio, bs, lr, opt_cls=SGD, kw=None,
                   epochs=1, sparse=False, index_dtype=np.int64, fit_intercept=True, check=True):
    """``epochs`` passes of multinomial_epoch (multinomial_epoch_csr on X as
    CSR with ``index_dtype`` indices when ``sparse``) with the optimizer
    ``opt_cls(**kw)``, the cumulative L1 state kept across them; returns W
    (k × d), b, totals, the optimizer's coef state, the counters and the L1
    state (l1_q, l1_u)."""
    dt = X.dtype
    d = X.shape[1]
    W = np.zeros(k * d, dt)
    b = np.zeros(k, dt)
    probe = opt_cls([np.zeros(1, dt)], **(kw or {}))
    group = probe.param_groups[0]
    slots = probe._slots(group)
    cst = [np.zeros(k * d, dt) if s else None for s in slots]
    bst = [np.zeros(k, dt) if s else None for s in slots]
    counters, scalars = np.zeros(4, np.int64), np.ones(2)
    l1_q, l1_u = np.zeros(k * d, dt), np.zeros(k * d)
    rest = (order, k, PENALTIES[penalty], alpha, l1_ratio, fit_intercept, bs, probe._kind,
            probe._hyper(group, 0.0), lr, W, b, cst, bst, counters, scalars)
    if sparse:
        C = pytest.importorskip("scipy.sparse").csr_matrix(X)
        csr = (C.data, C.indices.astype(index_dtype), C.indptr.astype(index_dtype), d)
    totals = []
    for _ in range(epochs):
        if sparse:
            totals.append(_core.multinomial_epoch_csr(*csr, y, sw, *rest, check=check, l1_q=l1_q,
                                                      l1_u=l1_u))
        else:
            totals.append(_core.multinomial_epoch(X, y, sw, *rest, l1_q=l1_q, l1_u=l1_u))
    return W.reshape(k, d), b, totals, cst, counters, (l1_q, l1_u)


def sparse_softmax_data(dtype, n=301, d=41, k=4, density=0.2, seed=31):
    """Sparse rows (some empty, an empty column) with class indices that
    depend on them."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) >= density] = 0.0
    X[[0, 7, n - 1]] = 0.0  # empty rows, the last one in a batch's tail
    X[:, 5] = 0.0  # a feature no row has
    centers = rng.standard_normal((k, d))
    y = np.argmax(X @ centers.T + 0.3 * rng.standard_normal((n, k)), axis=1)
    return X.astype(dtype), y.astype(dtype), rng.uniform(0.5, 2.0, n).astype(dtype)


SOFTMAX_OPTIMIZERS = [
    (SGD, {}, "l2"),
    (SGD, {"momentum": 0.9, "nesterov": True}, "l1"),
    (Adam, {}, "elasticnet"),
    (Adagrad, {}, "none"),
    (RMSprop, {"weight_decay": 1e-3}, "elasticnet"),
]


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt_cls, kw, penalty", SOFTMAX_OPTIMIZERS)
@pytest.mark.parametrize("bs, weighted", [(23, True), (64, False), (300, True)])
def test_multinomial_csr_epoch_equals_dense(dtype, index_dtype, opt_cls, kw, penalty, bs,
                                            weighted):
    # 301 rows: every batch size leaves a tail; 300 takes several row blocks
    X, y, sw = sparse_softmax_data(dtype)
    sw = sw if weighted else None
    n = X.shape[0]
    order = np.random.default_rng(2).permutation(n).astype(np.int64)
    lr = np.linspace(0.05, 0.02, -(-n // bs))
    args = (X, y, sw, order, 4, penalty, 1e-3, 0.4, bs, lr, opt_cls, kw)
    Wd, bd, td, sd, cd, (qd, ud) = softmax_epochs(*args, epochs=3)
    Ws, bs_, ts, ss, cs, (qs, us) = softmax_epochs(*args, epochs=3, sparse=True,
                                                   index_dtype=index_dtype)
    # (the dense loop sums dot products in 16 or 32 lanes and the gradient
    # by row blocks, the sparse one in row order: equal up to rounding)
    rtol, atol = (1e-12, 1e-13) if dtype == np.float64 else (2e-4, 2e-6)
    np.testing.assert_allclose(Ws, Wd, rtol=rtol, atol=atol)
    np.testing.assert_allclose(bs_, bd, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ts, td, rtol=rtol)
    for a, b in zip(ss, sd):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_array_equal(cs, cd)
    np.testing.assert_allclose(qs, qd, rtol=rtol, atol=atol)
    if opt_cls is SGD:
        np.testing.assert_array_equal(us, ud)  # u only sums the learning rates
    else:  # ... scaled by the optimizer's state
        np.testing.assert_allclose(us, ud, rtol=rtol, atol=atol)
    assert np.all(Ws[:, 5] == Wd[:, 5])  # the feature no row has: penalty only
    if penalty in ("l1", "elasticnet"):
        assert ud[0] > 0 and np.any(qd != 0)
        np.testing.assert_array_equal(Ws == 0, Wd == 0)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_multinomial_csr_epoch_without_intercept_and_on_a_subset(index_dtype):
    X, y, sw = sparse_softmax_data(np.float64, seed=4)
    order = np.random.default_rng(3).permutation(X.shape[0])[:150].astype(np.int64)
    lr = np.full(-(-150 // 16), 0.1)
    args = (X, y, sw, order, 4, "l2", 1e-3, 0.0, 16, lr)
    Wd, bd = softmax_epochs(*args, fit_intercept=False, epochs=2)[:2]
    Ws, bs_ = softmax_epochs(*args, fit_intercept=False, epochs=2, sparse=True,
                             index_dtype=index_dtype)[:2]
    np.testing.assert_allclose(Ws, Wd, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(bs_, 0.0)
    np.testing.assert_array_equal(bd, 0.0)


def test_multinomial_csr_epoch_matches_numpy():
    X, y, sw = sparse_softmax_data(np.float64, seed=8)
    n = X.shape[0]
    order = np.random.default_rng(4).permutation(n).astype(np.int64)
    lr = np.linspace(0.2, 0.05, -(-n // 20))
    state = {}
    Wr, br = np.zeros((4, X.shape[1])), np.zeros(4)
    W, b, totals = softmax_epochs(X, y, sw, order, 4, "elasticnet", 1e-2, 0.3, 20, lr, epochs=2,
                                  sparse=True)[:3]
    for e in range(2):
        Wr, br, tr = numpy_softmax_epoch(X, y, sw, order, 4, "elasticnet", 1e-2, 0.3, 20, lr, Wr,
                                         br, l1_state=state)
        np.testing.assert_allclose(totals[e], tr, rtol=1e-10)
    np.testing.assert_allclose(W, Wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, br, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bs", [37, 300])  # 300: several row blocks per batch, shared by threads
def test_multinomial_csr_epoch_same_bits_on_every_isa_and_thread_count(dtype, bs):
    X, y, sw = sparse_softmax_data(dtype, n=1500, d=300, k=5, density=0.05, seed=12)
    order = np.random.default_rng(5).permutation(X.shape[0]).astype(np.int64)
    lr = np.full(-(-X.shape[0] // bs), 0.05)
    ref = None
    for isa in ISAS:
        for nt in THREADS:
            got = run_on(isa, nt, lambda: softmax_epochs(
                X, y, sw, order, 5, "elasticnet", 1e-3, 0.3, bs, lr, Adam, {}, epochs=2,
                sparse=True, index_dtype=np.int32))
            if ref is None:
                ref = got
                assert got[2][-1] < got[2][0]
            # W, b, Adam's first moment, l1_q and l1_u
            for a, b in zip([*got[:2], got[3][0], *got[5]], [*ref[:2], ref[3][0], *ref[5]]):
                np.testing.assert_array_equal(a, b, err_msg=f"{isa} {nt}")
            assert got[2] == ref[2]


def _csr_softmax_call(X, y, data=None, indices=None, indptr=None, n_features=None, **kw):
    C = pytest.importorskip("scipy.sparse").csr_matrix(X)
    args = dict(data=C.data if data is None else data,
                indices=C.indices if indices is None else indices,
                indptr=C.indptr if indptr is None else indptr,
                n_features=X.shape[1] if n_features is None else n_features, y=y,
                sample_weight=None, order=np.arange(X.shape[0], dtype=np.int64), n_classes=3,
                penalty=2, alpha=1e-3, l1_ratio=0.0, fit_intercept=True, batch_size=4,
                optimizer="sgd", hyper=(0.1, 0.0, 0.0, 0.0, False, False),
                lr=np.full(-(-X.shape[0] // 4), 0.1), coef=np.full(3 * X.shape[1], 0.5),
                intercept=np.full(3, 0.25), coef_states=[], intercept_states=[],
                counters=np.zeros(4, np.int64), scalars=np.ones(2),
                l1_q=np.zeros(3 * X.shape[1]), l1_u=np.zeros(3 * X.shape[1]))
    args.update(kw)
    return args


def _bad_indices(C):
    bad = C.indices.copy()
    bad[2] = 6
    return bad


def _negative_index(C):
    bad = C.indices.copy()
    bad[1] = -1
    return bad


def _decreasing_indptr(C):
    bad = C.indptr.copy()
    bad[3], bad[4] = bad[4], bad[3]
    return bad


def _indptr_not_from_zero(C):
    bad = C.indptr.copy()
    bad[0] = 1
    return bad


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("make, key, exc, match", [
    (_bad_indices, "indices", ValueError, "column index outside"),
    (_negative_index, "indices", ValueError, "column index outside"),
    (_decreasing_indptr, "indptr", ValueError, "indptr must not decrease"),
    (_indptr_not_from_zero, "indptr", ValueError, "indptr"),
    (lambda C: np.array([0, 1, 2, 0.5, 1, 0, 2, 1, 0, 1, 2, 0]), "y", ValueError,
     "class indices"),
    (lambda C: np.array([0, 1, 2, 3.0, 1, 0, 2, 1, 0, 1, 2, 0]), "y", ValueError,
     "class indices"),
    (lambda C: np.arange(-1, 11, dtype=np.int64), "order", ValueError, "row index"),
    (lambda C: np.full(2, 0.1), "lr", ValueError, "one learning rate per batch"),
    (lambda C: 1, "n_classes", ValueError, "n_classes"),
    (lambda C: np.zeros(12), "coef", ValueError, "coef"),
    (lambda C: C.indices.astype(np.float64), "indices", TypeError, "int32 or int64"),
])
def test_multinomial_csr_bad_input_writes_nothing(make, key, exc, match, index_dtype):
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(6)
    X = rng.standard_normal((12, 6))
    X[rng.random((12, 6)) < 0.5] = 0.0
    X[:, 0] = 1.0  # every row has a value: indptr strictly increases
    y = (np.arange(12) % 3).astype(np.float64)
    C = sp.csr_matrix(X)
    C.indices = C.indices.astype(index_dtype)
    C.indptr = C.indptr.astype(index_dtype)
    args = _csr_softmax_call(X, y, data=C.data, indices=C.indices, indptr=C.indptr)
    bad = make(C)
    if key in ("indices", "indptr") and bad.dtype.kind == "i":
        bad = bad.astype(index_dtype)
    args[key] = bad
    kept = {name: args[name].copy() for name in ("intercept", "counters", "scalars", "l1_q",
                                                 "l1_u")}
    coef = args["coef"]
    coef_before = coef.copy()
    with pytest.raises(exc, match=match):
        _core.multinomial_epoch_csr(**args)
    np.testing.assert_array_equal(coef, coef_before)
    for name, before in kept.items():
        np.testing.assert_array_equal(args[name], before, err_msg=name)


def test_multinomial_csr_check_false_skips_only_the_structure_pass():
    X, y, _ = sparse_softmax_data(np.float64, n=80, d=15, k=3, seed=9)
    order = np.arange(80, dtype=np.int64)
    lr = np.full(-(-80 // 8), 0.1)
    runs = [softmax_epochs(X, y, None, order, 3, "l1", 1e-3, 0.0, 8, lr, epochs=2, sparse=True,
                           check=check) for check in (True, False)]
    for a, b in zip(runs[0][:2], runs[1][:2]):
        np.testing.assert_array_equal(a, b)


def test_multinomial_csr_of_an_empty_matrix():
    # no stored values at all: only the intercepts (and the penalty) move
    X = np.zeros((10, 4))
    y = (np.arange(10) % 3).astype(np.float64)
    lr = np.full(3, 0.1)
    Wd, bd, td = softmax_epochs(X, y, None, np.arange(10, dtype=np.int64), 3, "l2", 1e-3, 0.0, 4,
                                lr)[:3]
    Ws, bs_, ts = softmax_epochs(X, y, None, np.arange(10, dtype=np.int64), 3, "l2", 1e-3, 0.0,
                                 4, lr, sparse=True, index_dtype=np.int32)[:3]
    np.testing.assert_array_equal(Ws, 0.0)
    np.testing.assert_array_equal(Wd, 0.0)
    np.testing.assert_allclose(bs_, bd, rtol=1e-15)
    np.testing.assert_allclose(ts, td, rtol=1e-15)
    assert np.any(bd != 0)


def test_csr_check_false_skips_only_the_structure_pass():
    # check=False (later epochs of one fit) gives the same model; the default
    # check still rejects a bad structure
    sp = pytest.importorskip("scipy.sparse")

    rng = np.random.default_rng(0)
    C = sp.random(50, 12, density=0.3, format="csr", random_state=1)
    y = np.where(rng.standard_normal(50) > 0, 1.0, -1.0)
    order = np.arange(50, dtype=np.int64)
    models = []
    for check in (True, False):
        w, st = np.zeros(12), np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0])
        for _ in range(2):
            _core.plain_sgd_epoch_csr(C.data, C.indices, C.indptr, 12, y, None, order, 5, 1.0, 1,
                                      1e-3, 0.15, 1, 0.0, 0.5, 1e3, True, 0.01, 0, w, None, None,
                                      st, check=check)
        models.append((w, st))
    np.testing.assert_array_equal(models[0][0], models[1][0])
    np.testing.assert_array_equal(models[0][1], models[1][1])
    bad = C.indices.copy()
    bad[3] = 12
    with pytest.raises(ValueError, match="column index outside"):
        _core.plain_sgd_epoch_csr(C.data, bad, C.indptr, 12, y, None, order, 5, 1.0, 1, 1e-3,
                                  0.15, 1, 0.0, 0.5, 1e3, True, 0.01, 0, np.zeros(12), None, None,
                                  np.array([0, 0, 1, 0, 1, 0, 1.0, 0, 0, 0]))
