"""gdcore.minimize: the default step-size control reaches the minimiser with
every optimizer, scipy's result fields, the trajectory, every stopping
status, check_grad, and one table of bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdcore as gd
from gdcore.landscapes import Booth, Himmelblau, Noisy, Quadratic, Rosenbrock
from gdcore.minimize import OPTIMIZERS, OptimizeResult, check_grad, minimize

NAMES = list(OPTIMIZERS)
SCIPY_FIELDS = ("x", "fun", "jac", "nit", "nfev", "njev", "success", "status", "message")


def test_every_name_is_listed():
    assert NAMES == [
        "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop",
        "adagrad", "adadelta", "adamax", "nadam", "radam", "lion",
    ]


# --------------------------------------------------- the defaults just work
# Every named optimizer, no lr given: the step size is chosen and adapted by
# minimize.  (They need about 1e3 to 3e4 iterations, far below max_iter.)
@pytest.mark.parametrize("name", NAMES)
def test_defaults_reach_rosenbrock_minimum(name):
    f = Rosenbrock()
    x0 = np.array([-1.5, 2.0])
    res = minimize(f.value_and_grad, x0, jac=True, optimizer=name, max_iter=200_000)
    assert res.success, res.message
    assert np.linalg.norm(res.x - np.array([1.0, 1.0])) <= 1e-3
    assert res.nit < 200_000


@pytest.mark.parametrize("name", NAMES)
def test_defaults_reach_ill_conditioned_quadratic_minimum(name):
    q = Quadratic(dim=100, condition=1e3, seed=0)  # rotated, eigenvalues 1..1000
    x0 = q.start
    x_star = q.minima[0]
    res = minimize(q.value_and_grad, x0, jac=True, optimizer=name, max_iter=200_000)
    assert res.success, res.message
    assert np.linalg.norm(res.x - x_star) / np.linalg.norm(x0 - x_star) <= 1e-4


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adadelta", "lion"])
@pytest.mark.parametrize("scale_f, scale_x", [(1e-6, 1.0), (1e6, 1.0), (1.0, 1e4), (1.0, 1e-4)])
def test_defaults_are_scale_free(name, scale_f, scale_x):
    # f(x) = s * Booth(x / t): the initial search and the safeguard adapt the
    # learning rate to the units of f and x.
    b = Booth()

    def fg(x):
        return scale_f * b.value(x / scale_x), scale_f / scale_x * b.gradient(x / scale_x)

    x_star = scale_x * np.array([1.0, 3.0])
    res = minimize(fg, scale_x * np.array([-4.0, 7.0]), jac=True, optimizer=name,
                   tol=1e-7 * scale_f / scale_x)
    assert res.success, res.message
    assert np.linalg.norm(res.x - x_star) <= 1e-6 * scale_x
    assert res.nit < 2000


def random_spd(rng, n, condition):
    """A random SPD matrix with eigenvalues log-spaced in [1, condition]."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.geomspace(1.0, condition, n)) @ q.T


@pytest.mark.parametrize("name", ["sgd", "nesterov", "adam", "adagrad", "lion"])
def test_random_convex_quadratics(name):
    rng = np.random.default_rng(2024)
    for trial in range(4):
        n = int(rng.integers(2, 30))
        A = random_spd(rng, n, condition=10.0 ** rng.uniform(0.5, 2.5))
        A = 0.5 * (A + A.T)
        b = rng.standard_normal(n) * 3.0
        x_star = np.linalg.solve(A, b)  # independent of gdcore
        x0 = rng.standard_normal(n) * 5.0

        def fg(x):
            Ax = A @ x
            return 0.5 * x @ Ax - b @ x, Ax - b

        res = minimize(fg, x0, jac=True, optimizer=name, tol=1e-9)
        assert res.success, (trial, res.message)
        # gradient norm <= tol and smallest eigenvalue 1: |x - x*| <= 1e-9
        assert np.linalg.norm(res.x - x_star) <= 2e-9 * max(1.0, np.linalg.norm(x_star))


# ---------------------------------------------------------------- jac modes
def test_jac_true_and_callable_jac_take_the_same_path():
    f = Rosenbrock()
    x0 = np.array([-1.5, 2.0])
    a = minimize(f.value_and_grad, x0, jac=True, optimizer="nadam")
    b = minimize(f.value, x0, jac=f.gradient, optimizer="nadam")
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.trajectory_x, b.trajectory_x)
    assert a.nit == b.nit
    assert a.nfev == a.njev  # one call gives both
    assert b.nfev == a.nfev  # the initial search evaluates fun only
    assert b.njev == b.nit + 1  # one gradient per step, and one at x0


def test_landscape_as_fun_uses_its_analytic_gradient():
    f = Rosenbrock()
    a = minimize(f, [-1.5, 2.0], optimizer="adam")
    b = minimize(f.value_and_grad, [-1.5, 2.0], jac=True, optimizer="adam")
    np.testing.assert_array_equal(a.x, b.x)
    assert a.nfev == a.njev


def test_finite_differences_when_jac_is_none():
    f = Booth()
    calls = [0]

    def fun(x):
        calls[0] += 1
        return f.value(x)

    res = minimize(fun, [0.0, 0.0], optimizer="adam", tol=1e-5)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 3.0], atol=1e-5)
    assert res.nfev == calls[0]
    n = 2
    # 2n + 1 calls per gradient evaluation, plus the initial step-size search
    search = res.nfev - (2 * n + 1) * res.njev
    assert 0 <= search < 200
    # finite differences agree with the analytic gradient at the result
    np.testing.assert_allclose(res.jac, f.gradient(res.x), atol=1e-6)


def test_args_are_passed():
    def fun(x, c, scale):
        return scale * float(np.sum((x - c) ** 2))

    def jac(x, c, scale):
        return 2 * scale * (x - c)

    res = minimize(fun, np.zeros(3), jac=jac, args=(np.array([1.0, 2.0, 3.0]), 2.0))
    np.testing.assert_allclose(res.x, [1.0, 2.0, 3.0], atol=1e-6)


def test_x0_is_copied_and_converted():
    x0 = [3, 4]  # ints
    res = minimize(Booth(), x0, optimizer="sgd")
    assert x0 == [3, 4]
    assert res.x.dtype == np.float64
    a = np.array([3.0, 4.0], dtype=np.float32)
    res = minimize(Booth(), a)
    assert a.tolist() == [3.0, 4.0] and res.success


# ------------------------------------------------------------------ result
def test_result_has_scipy_field_names():
    res = minimize(Booth(), [0.0, 0.0])
    assert isinstance(res, OptimizeResult) and isinstance(res, dict)
    for key in SCIPY_FIELDS:
        assert key in res
        assert getattr(res, key) is res[key]
    assert res.x.shape == (2,) and res.jac.shape == (2,)
    assert isinstance(res.fun, float) and isinstance(res.nit, int)
    assert res.success is True and res.status == 0
    assert res.fun == Booth().value(res.x)
    np.testing.assert_array_equal(res.jac, Booth().gradient(res.x))
    assert "message" in repr(res)
    with pytest.raises(AttributeError):
        res.no_such_field  # noqa: B018
    res.extra = 1
    assert res["extra"] == 1
    assert "trajectory_x" in dir(res)


def test_scipy_uses_the_same_field_names():
    so = pytest.importorskip("scipy.optimize")
    ref = so.minimize(Booth().value, np.zeros(2), jac=Booth().gradient, method="BFGS")
    assert set(SCIPY_FIELDS) <= set(ref.keys())


# -------------------------------------------------------------- trajectory
def test_short_trajectory_keeps_every_accepted_iterate():
    f = Booth()
    res = minimize(f, [0.0, 0.0], optimizer="adam")
    tx, tf, ti = res.trajectory_x, res.trajectory_f, res.trajectory_iter
    m = len(tf)
    assert tx.shape == (m, 2) and ti.shape == (m,)
    assert m == res.nit - res.nreject + 1  # x0 and every accepted step
    np.testing.assert_array_equal(tx[0], [0.0, 0.0])
    np.testing.assert_array_equal(tx[-1], res.x)
    assert ti[0] == 0 and ti[-1] <= res.nit and np.all(np.diff(ti) > 0)
    for x, v in zip(tx, tf):
        assert v == f.value(x)
    # adaptive step size: accepted values never increase (beyond rounding)
    assert np.all(np.diff(tf) <= 1e-9 * np.abs(tf[:-1]))


def test_long_trajectory_is_thinned():
    # A fixed lr keeps every step, so the k-th accepted iterate is iteration k.
    q = Quadratic(dim=2, condition=10.0)
    res = minimize(q, q.start, optimizer="sgd", lr=1e-4, max_iter=30_001, tol=0.0)
    assert res.status == 1 and res.nit == 30_001
    tx, ti = res.trajectory_x, res.trajectory_iter
    assert 1000 <= len(ti) <= 2000
    assert ti[0] == 0 and ti[-1] == 30_001  # first and last always kept
    np.testing.assert_array_equal(tx[0], q.start)
    np.testing.assert_array_equal(tx[-1], res.x)
    stride = ti[1] - ti[0]
    assert stride & (stride - 1) == 0  # a power of two
    np.testing.assert_array_equal(ti[:-1], np.arange(len(ti) - 1) * stride)
    for x, it in zip(tx[::97], ti[::97]):  # rows are the true iterates
        np.testing.assert_allclose(x, q.start * (1 - 1e-4 * q.eigenvalues) ** it, rtol=1e-9)


def test_long_adaptive_run_is_thinned():
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="sgd")
    assert res.success and res.nit > 5000
    ti = res.trajectory_iter
    assert len(ti) <= 2000 and ti[0] == 0 and ti[-1] <= res.nit
    assert np.all(np.diff(ti) > 0)
    np.testing.assert_array_equal(res.trajectory_x[-1], res.x)


@pytest.mark.parametrize("floats, cap", [(12, 6), (8, 4), (6, 3), (5, 2), (4, 2), (1, 2)])
def test_trajectory_rows_are_capped(monkeypatch, floats, cap):
    # The 4-million-number cap lowered to `floats` for n = 2: at most
    # max(2, floats // 2) rows, first and last kept, rows the true iterates.
    import importlib

    monkeypatch.setattr(importlib.import_module("gdcore.minimize"), "_TRAJECTORY_FLOATS", floats)
    q = Quadratic(dim=2, condition=10.0)
    for max_iter in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 100):
        res = minimize(q, q.start, optimizer="sgd", lr=1e-2, max_iter=max_iter, tol=0.0)
        tx, ti = res.trajectory_x, res.trajectory_iter
        assert 1 <= len(ti) <= cap and tx.shape == (len(ti), 2)
        assert ti[0] == 0 and ti[-1] == res.nit == max_iter and np.all(np.diff(ti) > 0)
        if max_iter and cap == 2:
            np.testing.assert_array_equal(ti, [0, max_iter])
        np.testing.assert_array_equal(tx[0], q.start)
        np.testing.assert_array_equal(tx[-1], res.x)
        exact = q.start * (1 - 1e-2 * q.eigenvalues) ** ti[:, None]
        np.testing.assert_allclose(tx, exact, rtol=1e-12)


@pytest.mark.slow
def test_trajectory_of_a_large_x_holds_at_most_4_million_numbers():
    n = 1_400_000  # 4_000_000 // n = 2 rows: x0 and x
    x0 = np.ones(n)
    res = minimize(lambda x: 0.5 * float(x @ x), x0, jac=lambda x: x.copy(), optimizer="sgd",
                   lr=0.25, max_iter=3, tol=0.0)
    assert res.trajectory_x.shape == (2, n) and res.trajectory_x.size <= 4_000_000
    np.testing.assert_array_equal(res.trajectory_iter, [0, 3])
    np.testing.assert_array_equal(res.trajectory_x[0], x0)
    np.testing.assert_array_equal(res.trajectory_x[1], 0.75**3)
    np.testing.assert_array_equal(res.trajectory_f, [0.5 * n, 0.5 * n * 0.75**6])


def test_no_trajectory():
    res = minimize(Booth(), [0.0, 0.0], trajectory=False)
    assert res.trajectory_x is None and res.trajectory_f is None and res.trajectory_iter is None


# ------------------------------------------------------------------ statuses
def test_status_0_gradient_below_tol():
    res = minimize(Himmelblau(), [0.5, 0.5], tol=1e-8)
    assert (res.status, res.success) == (0, True)
    assert np.linalg.norm(res.jac) <= 1e-8
    assert "tol" in res.message and str(res.nit) in res.message


def test_status_0_at_x0():
    res = minimize(Booth(), [1.0, 3.0])
    assert res.status == 0 and res.nit == 0 and res.nfev == 1
    assert "x0" in res.message


def test_status_1_max_iter():
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="sgd", max_iter=50)
    assert (res.status, res.success, res.nit) == (1, False, 50)
    assert "max_iter=50" in res.message
    res = minimize(Rosenbrock(), [-1.5, 2.0], max_iter=0)
    assert res.status == 1 and res.nit == 0 and res.nfev == 1
    np.testing.assert_array_equal(res.x, [-1.5, 2.0])


def test_status_2_nonfinite_at_x0():
    res = minimize(lambda x: float("nan"), [1.0], jac=lambda x: x)
    assert (res.status, res.success, res.nit) == (2, False, 0)
    assert "iteration 0" in res.message
    res = minimize(lambda x: 0.0, [1.0], jac=lambda x: np.array([np.inf]))
    assert res.status == 2 and "gradient" in res.message


def test_status_2_fixed_lr_names_the_iteration():
    def fun(x):  # a wall of NaN at x < 0.5
        return float(x[0] ** 2) if x[0] >= 0.5 else float("nan")

    res = minimize(fun, [2.0], jac=lambda x: 2 * x, optimizer="sgd", lr=0.01)
    assert (res.status, res.success) == (2, False)
    assert f"iteration {res.nit}" in res.message
    # x is the last finite iterate, fun and jac are its values
    assert res.x[0] >= 0.5 and res.fun == res.x[0] ** 2
    expected_iter = math.ceil(math.log(0.5 / 2.0) / math.log(0.98))
    assert res.nit == expected_iter


def test_status_2_divergence_without_numpy_warnings():
    # lr far too large: Rosenbrock overflows (landscapes return inf quietly)
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="sgd", lr=1.0)
    assert res.status == 2 and "iteration" in res.message
    assert np.isfinite(res.fun)


def test_status_2_adaptive_after_repeated_nonfinite_trials():
    f = Rosenbrock()
    state = {"calls": 0}

    def fg(x):
        state["calls"] += 1
        if state["calls"] > 300:  # from then on, everything is NaN
            return float("nan"), np.full(2, np.nan)
        return f.value_and_grad(x)

    res = minimize(fg, [-1.5, 2.0], jac=True, optimizer="sgd")
    assert (res.status, res.success) == (2, False)
    first_bad = res.nit - 59  # the 60th non-finite trial in a row stops
    assert f"iteration {first_bad}" in res.message
    assert np.isfinite(res.fun) and res.fun == f.value(res.x)


def test_status_3_callback():
    seen = []

    def cb(xk):
        seen.append(xk)
        xk[...] = 1e9  # a copy: cannot disturb the run
        return len(seen) == 5

    res = minimize(Rosenbrock(), [-1.5, 2.0], callback=cb)
    assert (res.status, res.success, len(seen)) == (3, False, 5)
    assert "callback" in res.message and f"iteration {res.nit}" in res.message
    assert np.all(np.abs(res.x) < 10)


def test_status_3_intermediate_result_and_stop_iteration():
    fields = []

    def cb(intermediate_result):
        fields.append(intermediate_result)
        if intermediate_result.fun < 1.0:
            raise StopIteration

    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="adam", callback=cb)
    assert res.status == 3
    last = fields[-1]
    assert isinstance(last, OptimizeResult)
    assert last.fun < 1.0 and last.nit == res.nit and last.lr > 0
    np.testing.assert_array_equal(last.x, res.x)
    assert [r.nit for r in fields] == sorted(r.nit for r in fields)


def _sq(x):
    return float(x @ x)


def _sq_grad(x):
    return 2 * x


def test_status_3_numpy_true_stops():
    # SGD with lr 0.01 on |x|^2: x_k = 0.98^k x0, so |x_k| < 0.5 first at
    # k = ceil(log(0.5 / sqrt 3) / log 0.98).
    seen = []

    def cb(xk):
        seen.append(xk)
        return np.linalg.norm(xk) < 0.5  # a numpy bool

    res = minimize(_sq, np.ones(3), jac=_sq_grad, optimizer="sgd", lr=0.01, callback=cb)
    k = math.ceil(math.log(0.5 / math.sqrt(3.0)) / math.log(0.98))
    assert (res.status, res.success, res.nit, len(seen)) == (3, False, k, k)
    np.testing.assert_allclose(res.x, 0.98**k, rtol=1e-12)


@pytest.mark.parametrize("reply", [None, 1, 1.0, np.float64(1.0), "stop", [True], np.array([True])])
def test_callback_values_other_than_true_continue(reply):
    seen = []

    def cb(xk):
        seen.append(xk)
        return reply

    res = minimize(_sq, np.ones(3), jac=_sq_grad, optimizer="sgd", lr=0.1, callback=cb)
    assert res.status == 0 and len(seen) == res.nit


def test_callback_sees_every_accepted_step_including_the_last():
    # Fixed lr: every step is accepted and x_k = 0.8^k x0 exactly.
    seen = []
    res = minimize(_sq, np.ones(3), jac=_sq_grad, optimizer="sgd", lr=0.1,
                   callback=lambda xk: seen.append(xk))
    assert res.status == 0 and res.nreject == 0
    # the step that meets tol: 2 sqrt(3) 0.8^k <= 1e-6
    assert res.nit == math.ceil(math.log(1e-6 / (2 * math.sqrt(3.0))) / math.log(0.8))
    assert len(seen) == res.nit
    np.testing.assert_array_equal(seen[-1], res.x)
    np.testing.assert_allclose(seen, 0.8 ** np.arange(1, res.nit + 1)[:, None] * np.ones(3),
                               rtol=1e-12)
    # Adaptive lr: once per accepted step, the last one with the result's values.
    fields = []
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="adam",
                   callback=lambda intermediate_result: fields.append(intermediate_result))
    assert res.status == 0 and res.nreject > 0
    assert len(fields) == res.nit - res.nreject
    last = fields[-1]
    assert last.nit == res.nit and last.fun == res.fun
    np.testing.assert_array_equal(last.x, res.x)
    np.testing.assert_array_equal(last.jac, res.jac)
    assert np.all(np.diff([r.nit for r in fields]) > 0)


def test_callback_stop_on_the_converging_step_keeps_status_0():
    # SGD with lr 0.5 on |x|^2 reaches 0 in one step.
    res = minimize(_sq, np.ones(3), jac=_sq_grad, optimizer="sgd", lr=0.5, callback=lambda xk: True)
    assert (res.status, res.success, res.nit) == (0, True, 1)
    np.testing.assert_array_equal(res.x, 0.0)


def test_status_4_rounding_limits_accuracy():
    # The minimiser is sqrt(2): no double makes the gradient exactly zero.
    def fg(x):
        u = x[0] * x[0] - 2.0
        return u * u, np.array([4.0 * x[0] * u])

    seen = []
    res = minimize(fg, [3.0], jac=True, optimizer="adam", tol=0.0, callback=seen.append)
    assert (res.status, res.success) == (4, False)
    assert "rounding" in res.message
    assert abs(res.x[0] - math.sqrt(2.0)) < 1e-12
    assert len(seen) == res.nit - res.nreject  # the last step included
    np.testing.assert_array_equal(seen[-1], res.x)


# ---------------------------------------------------------- lr and optimizer
def test_explicit_lr_runs_the_optimizer_unguarded():
    # Same arithmetic as a hand-written loop with gdcore.optim.Adam.
    f = Rosenbrock()
    res = minimize(f.value_and_grad, [-1.5, 2.0], jac=True, optimizer="adam", lr=0.02, max_iter=300)
    w = np.array([-1.5, 2.0])
    opt = gd.optim.Adam([w], lr=0.02)
    for _ in range(300):
        opt.step([f.gradient(w)])
    np.testing.assert_array_equal(res.x, w)
    assert res.nreject == 0 and res.lr == 0.02 and res.status == 1


def test_adapt_lr_with_an_explicit_initial_lr():
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="sgd", lr=10.0, adapt_lr=True)
    assert res.success and res.nreject > 0  # 10 is far too large at first


@pytest.mark.parametrize("name", NAMES)
def test_rejected_steps_roll_back_the_step_counters(name):
    # A rejected step is undone in the optimizer too: it counts accepted steps.
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer=name, max_iter=3000)
    assert res.nreject > 0
    accepted = res.nit - res.nreject
    assert res.optimizer.state_dict()["step_count"] == accepted
    state = res.optimizer.state.get(0, {})  # plain SGD keeps none
    if "step" in state:
        assert state["step"] == accepted


def test_rejected_steps_roll_back_nadam_mu_product():
    # torch's NAdam: mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), mu_product the
    # product over the steps taken -- here the accepted ones.
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="nadam")
    assert res.success and res.nreject > 0
    opt = res.optimizer
    beta1 = opt.param_groups[0]["betas"][0]
    psi = opt.param_groups[0]["momentum_decay"]
    t = np.arange(1, res.nit - res.nreject + 1)
    expected = np.prod(beta1 * (1.0 - 0.5 * 0.96 ** (t * psi)))
    assert opt.state[0]["mu_product"] == pytest.approx(expected, rel=1e-12)


def test_rejected_steps_replayed_by_hand():
    # The documented safeguard, replayed with a second Adam through
    # state_dict/load_state_dict: a rejected step puts the state back to the
    # one after the last accepted step (its step count included) with
    # exp_avg zeroed, and halves lr; an accepted step grows lr by 2 %.
    f = Rosenbrock()
    x0 = np.array([-1.5, 2.0])
    records = []
    res = minimize(f, x0, optimizer="adam", lr=0.1, adapt_lr=True, max_iter=400,
                   callback=lambda intermediate_result: records.append(intermediate_result))
    w = x0.copy()
    ref = gd.optim.Adam([w], lr=0.1)
    saved = ref.state_dict()  # the fresh state
    x_prev, lr, nit_prev = x0, 0.1, 0
    restarts_after_an_accepted_step = 0
    for rec in records:
        rejected = rec.nit - nit_prev - 1
        if rejected:
            lr *= 0.5**rejected
            if saved["state"]:
                saved["state"][0]["exp_avg"][...] = 0.0
                restarts_after_an_accepted_step += 1
        saved["param_groups"][0]["lr"] = lr
        ref.load_state_dict(saved)
        w[...] = x_prev
        ref.step([f.value_and_grad(x_prev)[1]])
        np.testing.assert_array_equal(w, rec.x)
        saved = ref.state_dict()
        x_prev, lr, nit_prev = rec.x, rec.lr, rec.nit
    assert restarts_after_an_accepted_step > 0
    assert res.optimizer.state[0]["step"] == saved["state"][0]["step"] == len(records)
    np.testing.assert_array_equal(res.optimizer.state[0]["exp_avg_sq"],
                                  saved["state"][0]["exp_avg_sq"])


def test_schedule_lr():
    res = minimize(Booth(), [0.0, 0.0], optimizer="sgd", lr=lambda t: 0.05 / (1 + 0.001 * t))
    assert res.success


def test_optimizer_options_and_adamw_default():
    res = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="momentum", momentum=0.8, max_iter=5)
    assert res.optimizer.param_groups[0]["momentum"] == 0.8
    a = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="adamw")
    b = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="adam")
    np.testing.assert_array_equal(a.x, b.x)  # weight_decay=0 by default here
    c = minimize(Rosenbrock(), [-1.5, 2.0], optimizer="adamw", weight_decay=0.01, max_iter=10)
    assert c.optimizer.param_groups[0]["weight_decay"] == 0.01
    assert minimize(Booth(), [0.0, 0.0], optimizer="NAdam").success  # case-insensitive


def test_optimizer_instance_is_driven_on_its_parameter():
    w = np.zeros(2)
    opt = gd.optim.SGD([w], lr=0.01, momentum=0.5)
    res = minimize(Booth(), [5.0, -5.0], optimizer=opt)
    assert res.success and res.optimizer is opt
    np.testing.assert_array_equal(w, res.x)  # the parameter holds the result
    assert opt.param_groups[0]["lr"] == 0.01 and res.nreject == 0  # its lr, unguarded
    assert opt.state[0]["momentum_buffer"].shape == (2,)
    # adapt_lr=True: reset, then guarded
    res2 = minimize(Rosenbrock(), [-1.5, 2.0], optimizer=opt, adapt_lr=True)
    assert res2.success and np.linalg.norm(w - 1.0) < 1e-5


def test_noisy_gradients():
    f = Noisy(Booth(), sigma=0.5, seed=0)
    res = minimize(f, [0.0, 0.0], optimizer="sgd", lr=0.01, max_iter=3000)
    assert res.status == 1
    assert np.linalg.norm(res.x - [1.0, 3.0]) < 0.2


# ---------------------------------------------------------------- check_grad
def test_check_grad_passes_a_right_gradient():
    f = Rosenbrock(dim=4)
    x = np.array([0.3, -0.7, 1.2, 2.0])
    r = check_grad(f.value, f.gradient, x)
    assert r.ok and r.bad_indices.size == 0
    assert r.rel_error < 1e-10 and r.max_abs_error < 1e-7
    np.testing.assert_array_equal(r.grad, f.gradient(x))
    assert r.numeric.shape == (4,) and r.eps.shape == (4,)
    assert check_grad(f.value_and_grad, True, x).ok


def test_check_grad_detects_a_wrong_gradient():
    f = Rosenbrock(dim=4)
    x = np.array([0.3, -0.7, 1.2, 2.0])

    def wrong(x):
        g = f.gradient(x)
        g[2] *= 1.001  # 0.1 % off in one component
        return g

    r = check_grad(f.value, wrong, x)
    assert not r.ok
    np.testing.assert_array_equal(r.bad_indices, [2])
    assert r.max_abs_error == pytest.approx(abs(0.001 * f.gradient(x)[2]), rel=1e-6)
    assert r.rel_error > 1e-4
    # a sign error everywhere
    r = check_grad(f.value, lambda x: -f.gradient(x), x)
    assert not r.ok and r.rel_error == pytest.approx(2.0) and len(r.bad_indices) == 4


def test_check_grad_options():
    f = lambda x: float(np.sum(np.sin(x)))  # noqa: E731
    x = np.array([0.1, 1.0, 2.0])
    assert check_grad(f, np.cos, x, eps=1e-3).ok
    r = check_grad(f, lambda x: np.cos(x) + 1e-6, x, rtol=0.0, atol=1e-4)
    assert r.ok
    r = check_grad(f, lambda x: np.cos(x) + 1e-6, x, rtol=0.0, atol=1e-9)
    assert not r.ok
    r = check_grad(lambda x: float("nan"), np.cos, x)
    assert not r.ok and len(r.bad_indices) == 3
    for bad in (dict(eps=-1.0), dict(rtol=-1.0), dict(atol=-1.0)):
        with pytest.raises(ValueError):
            check_grad(f, np.cos, x, **bad)
    with pytest.raises(TypeError):
        check_grad(3, np.cos, x)
    with pytest.raises(TypeError):
        check_grad(f, None, x)
    with pytest.raises(ValueError):
        check_grad(f, np.cos, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        check_grad(f, lambda x: np.zeros(2), x)


# ------------------------------------------------------------ bad arguments
def _quad(x):
    return float(x @ x)


def _quad_grad(x):
    return 2 * x


_two = gd.optim.SGD([np.zeros(2), np.zeros(2)], lr=0.1)
_wrong_shape = gd.optim.SGD([np.zeros(3)], lr=0.1)
_float32 = gd.optim.SGD([np.zeros(2, dtype=np.float32)], lr=0.1)

BAD = [
    # (kwargs overriding the good call, exception, message regex)
    (dict(optimizer="adamx"), ValueError, ", ".join(NAMES)),
    (dict(optimizer=3), TypeError, "optimizer must be"),
    (dict(optimizer=_two), ValueError, "exactly one parameter"),
    (dict(optimizer=_wrong_shape), ValueError, "shape"),
    (dict(optimizer=_float32), ValueError, "float64"),
    (dict(optimizer=gd.optim.SGD([np.zeros(2)], lr=0.1), momentum=0.9), TypeError, "options"),
    (dict(optimizer="sgd", momentum=-1.0), ValueError, "momentum"),
    (dict(optimizer="sgd", no_such_option=1), TypeError, "no_such_option"),
    (dict(x0=np.zeros((2, 2))), ValueError, "1-D"),
    (dict(x0=np.zeros(0)), ValueError, "empty"),
    (dict(x0=np.array([1 + 1j, 2])), TypeError, "real"),
    (dict(x0=np.array([True, False])), TypeError, "real"),
    (dict(x0="ab"), TypeError, "x0"),
    (dict(x0=[1.0, np.nan]), ValueError, "finite"),
    (dict(x0=3.0), ValueError, "1-D"),
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(lr=0.0), ValueError, "lr"),
    (dict(lr=float("inf")), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(lr=lambda t: 0.1, adapt_lr=True), ValueError, "schedule"),
    (dict(tol=-1e-6), ValueError, "tol"),
    (dict(tol="small"), TypeError, "tol"),
    (dict(max_iter=-1), ValueError, "max_iter"),
    (dict(max_iter=10.5), TypeError, "max_iter"),
    (dict(max_iter=True), TypeError, "max_iter"),
    (dict(jac="2-point"), TypeError, "jac"),
    (dict(callback=3), TypeError, "callback"),
    (dict(trajectory="yes"), TypeError, "trajectory"),
    (dict(adapt_lr=1), TypeError, "adapt_lr"),
    (dict(fun=3), TypeError, "fun must be callable"),
    (dict(method="BFGS"), TypeError, "does not support scipy's 'method'.*optimizer="),
    (dict(bounds=[(0.0, 1.0)] * 2), TypeError, "does not support scipy's 'bounds'.*unconstrained"),
    (dict(constraints=()), TypeError, "does not support scipy's 'constraints'"),
    (dict(hess=lambda x: np.eye(2)), TypeError, "does not support scipy's 'hess'"),
    (dict(hessp=lambda x, p: p), TypeError, "does not support scipy's 'hessp'"),
    (dict(options={"maxiter": 5}), TypeError, "does not support scipy's 'options'.*max_iter"),
    (dict(optimizer=gd.optim.SGD([np.zeros(2)], lr=0.1), bounds=None), TypeError, "'bounds'"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_raise_before_any_evaluation(kwargs, exc, match):
    calls = []

    def fun(x):
        calls.append(1)
        return _quad(x)

    call = dict(fun=fun, x0=np.array([1.0, 2.0]), jac=_quad_grad)
    call.update(kwargs)
    f = call.pop("fun")
    x0 = call.pop("x0")
    with pytest.raises(exc, match=match):
        minimize(f, x0, **call)
    assert calls == []


BAD_RETURNS = [
    (dict(jac=lambda x: np.zeros(3)), ValueError, r"shape \(3,\).*expected \(2,\)"),
    (dict(jac=lambda x: np.zeros((2, 1))), ValueError, "shape"),
    (dict(jac=lambda x: np.array(["a", "b"])), TypeError, "real"),
    (dict(fun=lambda x: np.zeros(2), jac=_quad_grad), TypeError, "scalar"),
    (dict(fun=lambda x: "1.0", jac=_quad_grad), TypeError, "scalar"),
    (dict(fun=lambda x: 1.0, jac=True), TypeError, "pair"),
    (dict(fun=lambda x: (1.0, 2 * x, None), jac=True), TypeError, "pair.*tuple of length 3"),
    (dict(fun=lambda x: [1.0, 2 * x, None], jac=True), TypeError, "pair.*list of length 3"),
    (dict(fun=lambda x: (1.0,), jac=True), TypeError, "pair.*tuple of length 1"),
    (dict(fun=lambda x: None, jac=_quad_grad), TypeError, "real scalar.*NoneType"),
    (dict(fun=lambda x: 1.0 + 0j, jac=_quad_grad), TypeError, "real scalar.*complex"),
    (dict(fun=lambda x: np.True_, jac=_quad_grad), TypeError, "real scalar.*bool"),
    (dict(fun=lambda x: (1.0, np.zeros(5)), jac=True), ValueError, "shape"),
]


@pytest.mark.parametrize(
    "kwargs, exc, match", BAD_RETURNS, ids=[str(i) for i in range(len(BAD_RETURNS))]
)
def test_bad_returns_raise_before_any_step(kwargs, exc, match):
    w = np.array([1.0, 2.0])
    opt = gd.optim.SGD([w], lr=0.1)
    call = dict(fun=_quad, jac=_quad_grad)
    call.update(kwargs)
    with pytest.raises(exc, match=match):
        minimize(call.pop("fun"), np.array([1.0, 2.0]), optimizer=opt, **call)
    assert opt.state == {}  # no step was taken
    np.testing.assert_array_equal(w, [1.0, 2.0])


def test_size_one_array_value_is_accepted():
    res = minimize(lambda x: np.array([x @ x]), [1.0, 2.0], jac=lambda x: 2 * x)
    assert res.success and isinstance(res.fun, float)


def test_scalar_like_values_are_accepted():
    # scipy's rule: whatever np.asarray turns into one real number.
    ref = minimize(_quad, [1.0, 2.0], jac=_quad_grad)
    for wrap in (np.float32, np.int64, np.array, lambda v: np.array([[v]]), lambda v: [v]):
        res = minimize(lambda x: wrap(_quad(x)), [1.0, 2.0], jac=_quad_grad)
        assert res.success and isinstance(res.fun, float)
        if wrap is not np.float32 and wrap is not np.int64:
            np.testing.assert_array_equal(res.x, ref.x)


def test_torch_scalar_tensor_value():
    torch = pytest.importorskip("torch")
    q = Quadratic(dim=5, condition=10.0, seed=1)

    def fg(x):  # a torch objective, differentiated by autograd
        t = torch.tensor(x, requires_grad=True)
        A = torch.tensor(q.matrix)
        loss = 0.5 * t @ (A @ t)
        loss.backward()
        return loss.detach(), t.grad

    res = minimize(fg, q.start, jac=True, optimizer="adam")
    ref = minimize(q.value_and_grad, q.start, jac=True, optimizer="adam")
    assert res.success and isinstance(res.fun, float)
    np.testing.assert_allclose(res.x, q.minima[0], atol=2e-6)  # |g| <= 1e-6, eigenvalues >= 1
    np.testing.assert_allclose(res.x, ref.x, atol=2e-6)
    # a tensor that still requires grad: the reason is in the message
    with pytest.raises(TypeError, match="real scalar.*requires grad"):
        minimize(lambda x: (torch.tensor(x, requires_grad=True) ** 2).sum(), [1.0], jac=_quad_grad)
