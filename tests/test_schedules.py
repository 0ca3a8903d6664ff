"""Tests of gdcore.schedules.

One table, ``CASES``, runs every schedule through the same checks: against an
independent numpy oracle written from the documented formula (below, nothing
here calls gdcore to get an expected value), step for step against torch's
scheduler where torch has one, scalar against vectorised calls, pickling and
repr, and as the ``lr`` of ``gdcore.optim.SGD``.  A new schedule is a new row.
Then: composition (warmup, join, scaling), scikit-learn's rates checked
against scikit-learn itself, ReduceLROnPlateau against torch's, and one table
of bad arguments with the error each must raise.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import warnings
from typing import Any, Callable, Optional

import numpy as np
import pytest

import gdcore.optim
import gdcore.schedules as sch

# ---------------------------------------------------------------- oracles
# Plain numpy, written from the formulas in torch's / scikit-learn's docs and
# the papers; k is an int64 array of steps.


def o_constant(k, lr):
    return np.full(k.shape, float(lr))


def o_step(k, lr, step_size, gamma=0.1):
    return lr * np.power(gamma, np.floor(k / step_size))


def o_multistep(k, lr, milestones, gamma=0.1):
    passed = (k[:, None] >= np.asarray(milestones)[None, :]).sum(axis=1)
    return lr * np.power(gamma, passed.astype(float))


def o_exponential(k, lr, gamma):
    return lr * np.power(gamma, k.astype(float))


def o_polynomial(k, lr, total_iters=5, power=1.0):
    return lr * (1.0 - np.minimum(k, total_iters) / total_iters) ** power


def o_linear(k, lr, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    frac = np.minimum(k, total_iters) / total_iters
    return lr * (start_factor + (end_factor - start_factor) * frac)


def o_cosine(k, lr, T_max, eta_min=0.0):
    return eta_min + 0.5 * (lr - eta_min) * (1.0 + np.cos(np.pi * k / T_max))


def o_cosine_restarts(k, lr, T_0, T_mult=1, eta_min=0.0):
    # Walk the cycles one step at a time (the SGDR paper's T_cur / T_i).
    out = np.empty(k.shape)
    t_cur, t_i, step = 0, T_0, 0
    want = {int(v): i for i, v in enumerate(k)}
    assert len(want) == k.size
    while step <= k.max():
        if step in want:
            out[want[step]] = eta_min + 0.5 * (lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i))
        step += 1
        t_cur += 1
        if t_cur == t_i:
            t_cur, t_i = 0, t_i * T_mult
    return out


def o_cyclic(k, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0):
    # Position in the cycle; rise over `up` steps, fall over `down` steps.
    up = step_size_up
    down = up if step_size_down is None else step_size_down
    total = up + down
    pos = k % total
    cycle = k // total  # 0-based
    h = np.where(pos <= up, pos / up, (total - pos) / max(down, 1))
    if mode == "triangular":
        scale = np.ones(k.shape)
    elif mode == "triangular2":
        scale = 0.5 ** cycle.astype(float)
    else:
        scale = gamma ** k.astype(float)
    return base_lr + (max_lr - base_lr) * h * scale


def o_one_cycle(
    k, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos",
    div_factor=25.0, final_div_factor=1e4, three_phase=False,
):
    lo = max_lr / div_factor
    end = lo / final_div_factor
    T = total_steps
    if three_phase:
        knots = [(0.0, lo), (pct_start * T - 1, max_lr), (2 * pct_start * T - 2, lo), (T - 1, end)]
    else:
        knots = [(0.0, lo), (pct_start * T - 1, max_lr), (T - 1, end)]
    out = np.empty(k.shape)
    for i, step in enumerate(k):
        j = 1
        while j < len(knots) - 1 and step > knots[j][0]:
            j += 1
        (s0, a), (s1, b) = knots[j - 1], knots[j]
        u = (step - s0) / (s1 - s0)
        if anneal_strategy == "cos":
            out[i] = b + (a - b) * (1 + math.cos(math.pi * u)) / 2
        else:
            out[i] = a + (b - a) * u
    return out


def o_inverse_sqrt(k, lr, warmup_steps):
    kf = k.astype(float)
    return lr * np.minimum(kf / warmup_steps, np.sqrt(warmup_steps / np.maximum(kf, 1.0)))


def o_invscaling(k, eta0, power_t=0.5):
    t = k + 1.0  # scikit-learn's t starts at 1
    return eta0 / t**power_t


def o_optimal(k, alpha, t0=None):
    if t0 is None:
        typw = np.sqrt(1.0 / np.sqrt(alpha))
        t0 = 1.0 / (typw * alpha)  # eta at the first sample is typw
    return 1.0 / (alpha * (t0 + k))


def o_warmup(k, inner, warmup_steps, start_factor=0.0):
    target = inner(np.zeros(1, dtype=np.int64))[0]
    ramp = target * (start_factor + (1 - start_factor) * k / max(warmup_steps, 1))
    return np.where(k < warmup_steps, ramp, inner(np.maximum(k - warmup_steps, 0)))


def o_join(k, parts, boundaries):
    starts = [0] + list(boundaries)
    ends = list(boundaries) + [np.iinfo(np.int64).max]
    out = np.full(k.shape, np.nan)
    for f, s, e in zip(parts, starts, ends):
        sel = (k >= s) & (k < e)
        out[sel] = f(k[sel] - s)
    return out


# ------------------------------------------------------------------ table


@dataclasses.dataclass
class Case:
    id: str
    make: Callable[[], Any]
    oracle: Callable[[np.ndarray], np.ndarray]
    steps: int = 300  # checked for k = 0..steps
    torch: Optional[Callable[[Any, Any], Any]] = None  # (lr_scheduler module, optimizer)
    torch_lr: float = 1.0  # the torch optimizer's initial lr


def _cos(lr, T, e=0.0):
    return lambda k: o_cosine(k, lr, T, e)


CASES = [
    Case("constant", lambda: sch.constant(0.1), lambda k: o_constant(k, 0.1),
         torch=lambda L, o: L.ConstantLR(o, factor=1.0), torch_lr=0.1),
    Case("step", lambda: sch.step(0.1, 7, gamma=0.5), lambda k: o_step(k, 0.1, 7, 0.5),
         torch=lambda L, o: L.StepLR(o, 7, gamma=0.5), torch_lr=0.1),
    Case("step-default", lambda: sch.step(0.3, 40), lambda k: o_step(k, 0.3, 40),
         torch=lambda L, o: L.StepLR(o, 40), torch_lr=0.3),
    Case("multistep", lambda: sch.multistep(0.2, [0, 10, 25, 100], gamma=0.3),
         lambda k: o_multistep(k, 0.2, [0, 10, 25, 100], 0.3),
         torch=lambda L, o: L.MultiStepLR(o, [0, 10, 25, 100], gamma=0.3), torch_lr=0.2),
    Case("multistep-none", lambda: sch.multistep(0.2, []), lambda k: o_constant(k, 0.2), steps=20),
    Case("exponential", lambda: sch.exponential(0.2, 0.97), lambda k: o_exponential(k, 0.2, 0.97),
         torch=lambda L, o: L.ExponentialLR(o, 0.97), torch_lr=0.2),
    Case("exponential-growth", lambda: sch.exponential(1e-6, 1.05), lambda k: o_exponential(k, 1e-6, 1.05),
         torch=lambda L, o: L.ExponentialLR(o, 1.05), torch_lr=1e-6),
    Case("polynomial", lambda: sch.polynomial(0.2, total_iters=50, power=0.7),
         lambda k: o_polynomial(k, 0.2, 50, 0.7),
         torch=lambda L, o: L.PolynomialLR(o, total_iters=50, power=0.7), torch_lr=0.2),
    Case("polynomial-default", lambda: sch.polynomial(0.2), lambda k: o_polynomial(k, 0.2), steps=30,
         torch=lambda L, o: L.PolynomialLR(o), torch_lr=0.2),
    Case("linear-default", lambda: sch.linear(0.2), lambda k: o_linear(k, 0.2), steps=30,
         torch=lambda L, o: L.LinearLR(o), torch_lr=0.2),
    Case("linear", lambda: sch.linear(0.2, start_factor=0.25, end_factor=0.8, total_iters=40),
         lambda k: o_linear(k, 0.2, 0.25, 0.8, 40),
         torch=lambda L, o: L.LinearLR(o, start_factor=0.25, end_factor=0.8, total_iters=40), torch_lr=0.2),
    Case("linear-from-zero", lambda: sch.linear(0.2, start_factor=0.0, total_iters=8),
         lambda k: o_linear(k, 0.2, 0.0, 1.0, 8), steps=20),
    Case("cosine", lambda: sch.cosine(0.3, T_max=37, eta_min=0.01), _cos(0.3, 37, 0.01),
         torch=lambda L, o: L.CosineAnnealingLR(o, T_max=37, eta_min=0.01), torch_lr=0.3),
    Case("cosine-periodic", lambda: sch.cosine(0.3, T_max=10), _cos(0.3, 10),
         torch=lambda L, o: L.CosineAnnealingLR(o, T_max=10), torch_lr=0.3),
    Case("cosine-T1", lambda: sch.cosine(0.3, T_max=1), _cos(0.3, 1), steps=20,
         torch=lambda L, o: L.CosineAnnealingLR(o, T_max=1), torch_lr=0.3),
    Case("cosine_restarts", lambda: sch.cosine_restarts(0.3, T_0=10),
         lambda k: o_cosine_restarts(k, 0.3, 10),
         torch=lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=10), torch_lr=0.3),
    Case("cosine_restarts-mult2", lambda: sch.cosine_restarts(0.3, T_0=7, T_mult=2, eta_min=0.001),
         lambda k: o_cosine_restarts(k, 0.3, 7, 2, 0.001),
         torch=lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=0.001), torch_lr=0.3),
    Case("cosine_restarts-mult3", lambda: sch.cosine_restarts(0.3, T_0=1, T_mult=3),
         lambda k: o_cosine_restarts(k, 0.3, 1, 3),
         torch=lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3), torch_lr=0.3),
    Case("cyclic", lambda: sch.cyclic(0.01, 0.2, step_size_up=13),
         lambda k: o_cyclic(k, 0.01, 0.2, 13),
         torch=lambda L, o: L.CyclicLR(o, 0.01, 0.2, step_size_up=13, cycle_momentum=False)),
    Case("cyclic-triangular2", lambda: sch.cyclic(0.01, 0.2, 13, 7, mode="triangular2"),
         lambda k: o_cyclic(k, 0.01, 0.2, 13, 7, "triangular2"),
         torch=lambda L, o: L.CyclicLR(o, 0.01, 0.2, 13, 7, mode="triangular2", cycle_momentum=False)),
    Case("cyclic-exp_range", lambda: sch.cyclic(0.01, 0.2, 5, 11, mode="exp_range", gamma=0.99),
         lambda k: o_cyclic(k, 0.01, 0.2, 5, 11, "exp_range", 0.99),
         torch=lambda L, o: L.CyclicLR(o, 0.01, 0.2, 5, 11, mode="exp_range", gamma=0.99, cycle_momentum=False)),
    Case("cyclic-sawtooth", lambda: sch.cyclic(0.01, 0.2, 9, 0), lambda k: o_cyclic(k, 0.01, 0.2, 9, 0),
         torch=lambda L, o: L.CyclicLR(o, 0.01, 0.2, 9, 0, cycle_momentum=False)),
    Case("one_cycle", lambda: sch.one_cycle(0.5, 200), lambda k: o_one_cycle(k, 0.5, 200), steps=200,
         torch=lambda L, o: L.OneCycleLR(o, 0.5, total_steps=200, cycle_momentum=False)),
    Case("one_cycle-linear", lambda: sch.one_cycle(0.5, 97, pct_start=0.45, anneal_strategy="linear",
                                                   div_factor=10.0, final_div_factor=100.0),
         lambda k: o_one_cycle(k, 0.5, 97, 0.45, "linear", 10.0, 100.0), steps=97,
         torch=lambda L, o: L.OneCycleLR(o, 0.5, total_steps=97, pct_start=0.45, anneal_strategy="linear",
                                         div_factor=10.0, final_div_factor=100.0, cycle_momentum=False)),
    Case("one_cycle-3phase", lambda: sch.one_cycle(0.5, 150, pct_start=0.25, three_phase=True),
         lambda k: o_one_cycle(k, 0.5, 150, 0.25, three_phase=True), steps=150,
         torch=lambda L, o: L.OneCycleLR(o, 0.5, total_steps=150, pct_start=0.25, three_phase=True,
                                         cycle_momentum=False)),
    Case("one_cycle-3phase-linear", lambda: sch.one_cycle(2.0, 61, 0.4, "linear", three_phase=True),
         lambda k: o_one_cycle(k, 2.0, 61, 0.4, "linear", three_phase=True), steps=61,
         torch=lambda L, o: L.OneCycleLR(o, 2.0, total_steps=61, pct_start=0.4, anneal_strategy="linear",
                                         three_phase=True, cycle_momentum=False)),
    Case("inverse_sqrt", lambda: sch.inverse_sqrt(0.5, warmup_steps=25),
         lambda k: o_inverse_sqrt(k, 0.5, 25)),
    Case("invscaling", lambda: sch.invscaling(0.3, power_t=0.37), lambda k: o_invscaling(k, 0.3, 0.37)),
    Case("invscaling-default", lambda: sch.invscaling(0.01), lambda k: o_invscaling(k, 0.01)),
    Case("optimal", lambda: sch.optimal(1e-4), lambda k: o_optimal(k, 1e-4)),
    Case("optimal-t0", lambda: sch.optimal(0.01, t0=5.0), lambda k: o_optimal(k, 0.01, 5.0)),
    Case("warmup-cosine", lambda: sch.warmup(sch.cosine(0.3, 50), 10, start_factor=0.1),
         lambda k: o_warmup(k, _cos(0.3, 50), 10, 0.1),
         torch=lambda L, o: L.SequentialLR(
             o, [L.LinearLR(o, start_factor=0.1, total_iters=10), L.CosineAnnealingLR(o, 50)], [10]),
         torch_lr=0.3),
    Case("warmup-from-zero", lambda: sch.warmup(sch.step(0.3, 5, 0.5), 8),
         lambda k: o_warmup(k, lambda j: o_step(j, 0.3, 5, 0.5), 8)),
    Case("warmup-float", lambda: sch.warmup(0.25, 3), lambda k: o_warmup(k, lambda j: o_constant(j, 0.25), 3),
         steps=20),
    Case("join", lambda: sch.join([sch.linear(0.3, 0.1, 1.0, 10), sch.exponential(0.3, 0.95),
                                   sch.cosine(0.3, 20)], [10, 60]),
         lambda k: o_join(k, [lambda j: o_linear(j, 0.3, 0.1, 1.0, 10), lambda j: o_exponential(j, 0.3, 0.95),
                              _cos(0.3, 20)], [10, 60]),
         torch=lambda L, o: L.SequentialLR(
             o, [L.LinearLR(o, 0.1, 1.0, 10), L.ExponentialLR(o, 0.95), L.CosineAnnealingLR(o, 20)], [10, 60]),
         torch_lr=0.3),
    Case("join-mixed", lambda: sch.join([0.05, sch.one_cycle(0.4, 30), sch.invscaling(0.01)], [0, 30]),
         lambda k: o_join(k, [lambda j: o_constant(j, 0.05), lambda j: o_one_cycle(j, 0.4, 30),
                              lambda j: o_invscaling(j, 0.01)], [0, 30])),
    Case("join-one", lambda: sch.join([sch.cosine(0.3, 9)], []), _cos(0.3, 9), steps=40),
    Case("scaled", lambda: 0.5 * sch.cosine(0.3, 20), lambda k: 0.5 * o_cosine(k, 0.3, 20), steps=60),
    Case("scaled-right", lambda: sch.warmup(sch.cosine(1.0, 20), 5) * 0.1,
         lambda k: 0.1 * o_warmup(k, _cos(1.0, 20), 5), steps=60),
]
IDS = [c.id for c in CASES]
TORCH_CASES = [c for c in CASES if c.torch is not None]


def _torch_lrs(case: Case) -> np.ndarray:
    """The lr torch's scheduler has set after k = 0..steps calls of step()."""
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=case.torch_lr)
    scheduler = case.torch(torch.optim.lr_scheduler, opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(case.steps):
        opt.step()  # (no gradient: nothing moves) keeps torch's call-order check quiet
        scheduler.step()
        out.append(opt.param_groups[0]["lr"])
    return np.array(out, dtype=np.float64)


# -------------------------------------------------------- the conformance


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_formula(case):
    s = case.make()
    k = np.arange(case.steps + 1, dtype=np.int64)
    np.testing.assert_allclose(s(k), case.oracle(k), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.id for c in TORCH_CASES])
def test_matches_torch(case):
    expected = _torch_lrs(case)
    s = case.make()
    got = np.array([s(k) for k in range(case.steps + 1)])
    # torch's StepLR, CosineAnnealingLR, ... update recursively (multiply the
    # previous rate); the closed form agrees to rounding accumulated over steps.
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15 * case.torch_lr)


# Scalar calls use math, arrays numpy, in the same operation order: equal
# here, but numpy's SIMD cos/pow may differ from libm by an ulp or two.
SAME = dict(rtol=4e-15, atol=1e-18)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vectorised_equals_scalar(case):
    s = case.make()
    n = case.steps + 1
    scalar = [s(k) for k in range(n)]
    assert all(type(v) is float for v in scalar)
    assert type(s(np.int64(3))) is float and type(s(np.uint8(3))) is float
    vec = s(np.arange(n))
    assert vec.dtype == np.float64 and vec.shape == (n,)
    np.testing.assert_allclose(vec, scalar, **SAME)
    # Any integer dtype and shape; lists and ranges; 0-d; empty.
    m = (n // 2) * 2
    grid = np.arange(m, dtype=np.int32).reshape(2, -1)[:, ::-1]
    got = s(grid)
    assert got.shape == grid.shape
    np.testing.assert_allclose(got, [[scalar[i] for i in row] for row in grid], **SAME)
    np.testing.assert_allclose(s(np.arange(n, dtype=np.uint16)), scalar, **SAME)
    np.testing.assert_allclose(s(list(range(n))), scalar, **SAME)
    np.testing.assert_allclose(s(range(n)), scalar, **SAME)
    zero_d = s(np.array(n - 1))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
    np.testing.assert_allclose(zero_d, scalar[-1], **SAME)
    empty = s(np.zeros((0, 3), dtype=np.int64))
    assert empty.shape == (0, 3) and empty.dtype == np.float64
    # A repeated, unsorted selection.
    idx = np.array([n - 1, 0, n // 3, 0, n - 1])
    np.testing.assert_allclose(s(idx), [scalar[i] for i in idx], **SAME)


# The largest steps: k + 1 and the like must not wrap around in int64.
HUGE = [2**63 - 1, 2**63 - 2, 2**62 + 1, 2**53 + 1, 2**53 + 3]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vectorised_equals_scalar_at_the_largest_steps(case):
    s = case.make()
    if isinstance(s, sch.one_cycle):  # defined up to total_steps only, on both paths
        for k in (HUGE[0], np.array([HUGE[0]])):
            with pytest.raises(ValueError, match="total_steps"):
                s(k)
        return
    scalar = [s(k) for k in HUGE]
    np.testing.assert_allclose(s(np.array(HUGE)), scalar, **SAME)
    np.testing.assert_allclose(s(np.array(HUGE, dtype=np.uint64)), scalar, **SAME)


def test_invscaling_and_optimal_at_the_largest_step():
    k = np.iinfo(np.int64).max  # t = k + 1 = 2**63
    s = sch.invscaling(0.1, power_t=0.5)
    assert s(k) == s(np.array([k]))[0] == pytest.approx(0.1 / 2.0**31.5, rel=1e-15)
    s = sch.optimal(1e-4, t0=1000.0)
    assert s(k) == s(np.array([k]))[0] == pytest.approx(1.0 / (1e-4 * (1000.0 + 2.0**63)), rel=1e-15)
    # k + 1 rounds once to float64, on both paths
    k = 2**53 + 1
    assert sch.invscaling(1.0, power_t=1.0)(np.array([k]))[0] == 1.0 / float(2**53 + 2)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pickle_repr_equality(case):
    s = case.make()
    k = np.arange(case.steps + 1)
    t = pickle.loads(pickle.dumps(s))
    assert t == s and hash(t) == hash(s) and t is not s
    np.testing.assert_array_equal(t(k), s(k))
    r = eval(repr(s), dict(vars(sch)))  # the repr rebuilds an equal schedule
    assert r == s and repr(r) == repr(s)
    np.testing.assert_array_equal(r(k), s(k))
    assert case.make() == s and s != sch.constant(12345.0)
    with pytest.raises(AttributeError):
        s.lr = 1.0  # immutable


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_as_sgd_lr(case):
    """After k steps of SGD with gradient 1 from 0, p = -sum_{i<k} s(i)."""
    s = case.make()
    n = min(case.steps, 60)
    rates = case.oracle(np.arange(n, dtype=np.int64))
    p = np.zeros(3)
    opt = gdcore.optim.SGD([p], lr=s)
    expected = 0.0
    for i in range(n):
        opt.step([np.ones(3)])
        expected -= rates[i]
        np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------- step argument


def test_step_argument():
    s = sch.cosine(0.1, 10)
    for bad in (1.0, np.float64(2.0), True, np.bool_(True), "3", None, 2j, [1.0, 2.0],
                np.array([1.0]), np.array([True]), np.array(["a"]), {1: 2}):
        with pytest.raises(TypeError, match="step"):
            s(bad)
    for bad in (-1, np.int64(-3), np.array([0, 5, -1]), [-2], np.array([[0], [-1]], dtype=np.int8)):
        with pytest.raises(ValueError, match="step"):
            s(bad)
    with pytest.raises(ValueError, match="step"):
        s(np.array([2**63], dtype=np.uint64))
    big = 2**63 - 1
    assert s(np.array([big], dtype=np.uint64))[0] == s(np.array([big]))[0] == s(big)
    assert s([]).shape == (0,)
    # huge Python ints are fine on the scalar path
    assert 0.0 <= s(10**30) <= 0.1


# ------------------------------------------------------------- specifics


def test_overflow_and_underflow_are_quiet():
    grow = sch.exponential(1e-3, 1.5)
    assert grow(10**4) == math.inf and grow(np.array([10**4]))[0] == math.inf
    assert math.isnan(sch.exponential(0.0, 1.5)(10**4))
    assert sch.step(1.0, 1, 10.0)(np.array([400]))[0] == math.inf
    shrink = sch.cyclic(0.01, 0.2, 1, 1, mode="triangular2")
    k = np.array([3, 2049, 2051, 10**6 + 1])
    np.testing.assert_array_equal(shrink(k), [shrink(int(i)) for i in k])
    assert shrink(10**6 + 1) == 0.01
    assert sch.cyclic(0.0, 1.0, 5, mode="exp_range", gamma=1.1)(10**5 + 5) == math.inf


def test_cosine_past_T_max_is_periodic():
    T, lr, e = 16, 0.5, 0.02
    s = sch.cosine(lr, T, eta_min=e)
    assert s(0) == lr and s(T) == pytest.approx(e, abs=1e-17)
    j = np.arange(T + 1)
    np.testing.assert_allclose(s(T + j), s(T - j), rtol=1e-14)  # back up after T_max
    np.testing.assert_allclose(s(j + 2 * T), s(j), rtol=1e-14)  # period 2 T_max
    held = sch.join([s, e], [T])  # the documented way to hold eta_min instead
    assert held(T + 5) == e and held(T - 1) == s(T - 1)


def test_cosine_restarts_restart_points():
    s = sch.cosine_restarts(0.3, T_0=5, T_mult=2, eta_min=0.01)
    starts = [0, 5, 15, 35, 75, 155, 315, 635]
    assert [s(k) for k in starts] == [0.3] * len(starts)
    assert all(s(k - 1) < 0.3 for k in starts[1:])
    np.testing.assert_array_equal(s(np.array(starts)), 0.3)
    big = 5 * (2**40 - 1)  # the start of cycle 40
    assert s(big) == 0.3 and s(big + 5 * 2**39) == pytest.approx(0.155)


def test_one_cycle_defined_up_to_total_steps():
    s = sch.one_cycle(1.0, 50)
    s(50)
    with pytest.raises(ValueError, match="total_steps=50"):
        s(51)
    with pytest.raises(ValueError, match="total_steps=50"):
        s(np.array([0, 51]))
    assert sch.join([s, 4e-6], [50])(1000) == 4e-6


def test_one_cycle_zero_length_phases():
    # torch divides by zero here; gdcore gives the phase's end rate.
    s = sch.one_cycle(1.0, 10, pct_start=0.1, div_factor=4.0)
    assert s(0) == 1.0 and s(np.array([0]))[0] == 1.0
    s = sch.one_cycle(1.0, 10, pct_start=1.0, div_factor=4.0, final_div_factor=2.0)
    assert s(9) == 1.0 and s(10) == 0.125 and s(np.array([10]))[0] == 0.125


def test_one_cycle_phase_boundaries():
    # Phase ends at pct_start * T - 1 = 29, (2 pct_start T - 2 = 58,) T - 1 = 99.
    approx = lambda v: pytest.approx(v, rel=1e-14)  # noqa: E731
    s = sch.one_cycle(1.0, 100, pct_start=0.3, div_factor=10.0, final_div_factor=5.0)
    assert (s(0), s(29), s(99)) == (approx(0.1), approx(1.0), approx(0.02))
    assert s(28) < s(29) > s(30)
    three = sch.one_cycle(1.0, 100, pct_start=0.3, div_factor=10.0, final_div_factor=5.0, three_phase=True)
    assert (three(0), three(29), three(58), three(99)) == (approx(0.1), approx(1.0), approx(0.1), approx(0.02))
    assert three(57) > three(58) > three(59)


def test_warmup_boundaries_and_shift():
    inner = sch.cosine(0.4, 20, eta_min=0.04)
    W = 6
    s = sch.warmup(inner, W, start_factor=0.25)
    assert s(0) == 0.1  # start_factor * inner(0)
    assert s(W - 1) == pytest.approx(0.4 * (0.25 + 0.75 * (W - 1) / W), rel=1e-15)
    for j in range(45):  # shifted: the wrapped schedule starts at its own step 0
        assert s(W + j) == inner(j)
    ks = np.arange(W + 45)
    assert np.all(np.diff(s(ks[: W + 1])) > 0)
    assert sch.warmup(inner, 0) (np.arange(30)).tolist() == inner(np.arange(30)).tolist()
    assert sch.warmup(inner, 4, start_factor=1.0)(np.arange(4)).tolist() == [0.4] * 4
    # Works with a plain callable (evaluated element by element).
    f = sch.warmup(lambda k: 1.0 / (k + 1), 2)
    np.testing.assert_array_equal(f(np.arange(5)), [0.0, 0.5, 1.0, 0.5, 1 / 3])
    # warm-up of warm-up: each shifts
    ww = sch.warmup(sch.warmup(inner, 3), 2)
    assert ww(2) == 0.0 and ww(5) == 0.4 and ww(6) == inner(1)


def test_join_boundaries():
    a, b, c = sch.constant(0.3), sch.exponential(0.2, 0.5), sch.step(0.1, 2, 0.1)
    s = sch.join([a, b, c], [4, 7])
    assert [s(k) for k in range(4)] == [0.3] * 4
    assert [s(k) for k in (4, 5, 6)] == [0.2, 0.1, 0.05]  # b from its own step 0
    assert [s(k) for k in (7, 8, 9)] == [0.1, 0.1, c(2)]
    k = np.arange(20)
    np.testing.assert_allclose(s(k), [s(int(i)) for i in k], **SAME)
    # a callable and a float as parts; a boundary at 0 skips the first part
    t = sch.join([lambda k: 9.0, 0.5, sch.cosine(1.0, 4)], [0, 3])
    assert t(0) == 0.5 and t(3) == 1.0 and t(5) == 0.5
    np.testing.assert_allclose(t(k), [t(int(i)) for i in k], **SAME)


def test_scaling():
    s = sch.cosine(0.3, 20)
    k = np.arange(50)
    for scaled in (0.5 * s, s * 0.5, np.float64(0.5) * s, s * np.float32(0.5), 0.5 * (1.0 * s)):
        assert isinstance(scaled, sch.Schedule)
        np.testing.assert_array_equal(scaled(k), 0.5 * s(k))
    assert repr(0.5 * s) == "0.5 * cosine(lr=0.3, T_max=20, eta_min=0.0)"
    assert 0 * s == 0 * s and (0 * s)(3) == 0.0
    for bad in (s, "2", None, [2.0], True):
        with pytest.raises(TypeError):
            s * bad  # noqa: B018
    with pytest.raises(ValueError, match="factor"):
        -1.0 * s  # noqa: B018
    with pytest.raises(ValueError, match="factor"):
        s * math.inf  # noqa: B018


def test_optimal_t0_heuristic():
    for alpha in (1e-6, 1e-4, 0.01, 1.0, 7.5):
        s = sch.optimal(alpha)
        typw = math.sqrt(1.0 / math.sqrt(alpha))
        assert s.t0 == pytest.approx(alpha**-0.75, rel=1e-14)
        assert s(0) == pytest.approx(typw, rel=1e-14)  # the first rate is typw
    assert sch.optimal(0.5, t0=3.0)(7) == 1.0 / (0.5 * 10.0)


@pytest.mark.parametrize(
    "rate, kwargs, schedule",
    [
        ("invscaling", dict(eta0=0.3, power_t=0.37), lambda: sch.invscaling(0.3, 0.37)),
        ("invscaling", dict(eta0=0.01, power_t=0.5), lambda: sch.invscaling(0.01)),
        ("invscaling", dict(eta0=1.0, power_t=1.0), lambda: sch.invscaling(1.0, 1.0)),
        ("optimal", dict(alpha=0.01), lambda: sch.optimal(0.01)),
        ("optimal", dict(alpha=1e-4), lambda: sch.optimal(1e-4)),
        ("optimal", dict(alpha=3.0), lambda: sch.optimal(3.0)),
    ],
)
def test_matches_sklearn_sgd(rate, kwargs, schedule):
    """scikit-learn's own per-sample rates: with epsilon-insensitive loss and a
    target far above the prediction, every sample's gradient is -1, so after
    n samples of x = 1 the weight is the sum of the first n rates."""
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDRegressor

    n = 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1 on purpose
        model = SGDRegressor(
            loss="epsilon_insensitive", epsilon=0.0, penalty=None, fit_intercept=False,
            learning_rate=rate, shuffle=False, max_iter=1, tol=None, **kwargs,
        ).fit(np.ones((n, 1)), np.full(n, 1e9))
    s = schedule()
    total = 0.0
    for k in range(n):
        total += s(k)
    assert model.coef_[0] == pytest.approx(total, rel=1e-14)


def test_schedule_in_multi_group_optimizer():
    s = sch.step(1.0, 2, 0.5)
    a, b = np.zeros(2), np.zeros(1, dtype=np.float32)
    opt = gdcore.optim.SGD([{"params": [a], "lr": s}, {"params": [b], "lr": 0.25}])
    for _ in range(5):
        opt.step([np.ones(2), np.ones(1, dtype=np.float32)])
    np.testing.assert_array_equal(a, -(1 + 1 + 0.5 + 0.5 + 0.25))
    np.testing.assert_array_equal(b, np.float32(-1.25))
    # the optimizer's state_dict carries the schedule, and resumes on it
    sd = opt.state_dict()
    assert sd["param_groups"][0]["lr"] == s and sd["step_count"] == 5


# --------------------------------------------------------- bad arguments

C = sch.constant
BAD = [
    (lambda: C(-0.1), ValueError, r"constant: lr must be >= 0"),
    (lambda: C(math.nan), ValueError, "lr must be finite"),
    (lambda: C(math.inf), ValueError, "lr must be finite"),
    (lambda: C("0.1"), TypeError, "lr must be a real number"),
    (lambda: C(True), TypeError, "lr must be a real number"),
    (lambda: C(None), TypeError, "lr"),
    (lambda: sch.step(-0.1, 3), ValueError, "lr"),
    (lambda: sch.step(0.1, 0), ValueError, "step_size must be >= 1"),
    (lambda: sch.step(0.1, 2.5), TypeError, "step_size must be an int"),
    (lambda: sch.step(0.1, 2, gamma=-1.0), ValueError, "gamma"),
    (lambda: sch.multistep(-0.1, [3]), ValueError, "lr"),
    (lambda: sch.multistep(0.1, [5, 3]), ValueError, "milestones must be strictly increasing"),
    (lambda: sch.multistep(0.1, [3, 3]), ValueError, "milestones must be strictly increasing"),
    (lambda: sch.multistep(0.1, [-1, 3]), ValueError, r"milestones\[0\] must be >= 0"),
    (lambda: sch.multistep(0.1, [1, 2.5]), TypeError, r"milestones\[1\] must be an int"),
    (lambda: sch.multistep(0.1, 5), TypeError, "milestones must be a sequence"),
    (lambda: sch.multistep(0.1, [3], gamma=-0.1), ValueError, "gamma"),
    (lambda: sch.exponential(-1.0, 0.9), ValueError, "lr"),
    (lambda: sch.exponential(0.1, -0.9), ValueError, "gamma"),
    (lambda: sch.exponential(0.1, math.inf), ValueError, "gamma"),
    (lambda: sch.polynomial(-0.1), ValueError, "lr"),
    (lambda: sch.polynomial(0.1, total_iters=0), ValueError, "total_iters"),
    (lambda: sch.polynomial(0.1, power=-1.0), ValueError, "power"),
    (lambda: sch.linear(-0.1), ValueError, "lr"),
    (lambda: sch.linear(0.1, start_factor=-0.5), ValueError, "start_factor"),
    (lambda: sch.linear(0.1, end_factor=-0.5), ValueError, "end_factor"),
    (lambda: sch.linear(0.1, total_iters=0), ValueError, "total_iters"),
    (lambda: sch.cosine(-0.1, 10), ValueError, "lr"),
    (lambda: sch.cosine(0.1, 0), ValueError, "T_max must be >= 1"),
    (lambda: sch.cosine(0.1, -5), ValueError, "T_max must be >= 1"),
    (lambda: sch.cosine(0.1, 10.0), TypeError, "T_max must be an int"),
    (lambda: sch.cosine(0.1, 10, eta_min=-1e-3), ValueError, "eta_min"),
    (lambda: sch.cosine_restarts(-0.1, 5), ValueError, "lr"),
    (lambda: sch.cosine_restarts(0.1, 0), ValueError, "T_0"),
    (lambda: sch.cosine_restarts(0.1, 5, T_mult=0), ValueError, "T_mult"),
    (lambda: sch.cosine_restarts(0.1, 5, T_mult=1.5), TypeError, "T_mult"),
    (lambda: sch.cosine_restarts(0.1, 5, eta_min=-1.0), ValueError, "eta_min"),
    (lambda: sch.cyclic(-0.1, 1.0), ValueError, "base_lr"),
    (lambda: sch.cyclic(0.1, -1.0), ValueError, "max_lr"),
    (lambda: sch.cyclic(0.1, 1.0, step_size_up=0), ValueError, "step_size_up"),
    (lambda: sch.cyclic(0.1, 1.0, step_size_down=-1), ValueError, "step_size_down"),
    (lambda: sch.cyclic(0.1, 1.0, mode="triangle"), ValueError, "mode must be one of"),
    (lambda: sch.cyclic(0.1, 1.0, mode="exp_range", gamma=-0.5), ValueError, "gamma"),
    (lambda: sch.one_cycle(-1.0, 100), ValueError, "max_lr"),
    (lambda: sch.one_cycle(1.0, 0), ValueError, "total_steps"),
    (lambda: sch.one_cycle(1.0, 10.5), TypeError, "total_steps"),
    (lambda: sch.one_cycle(1.0, 100, pct_start=1.5), ValueError, "pct_start must be <= 1"),
    (lambda: sch.one_cycle(1.0, 100, pct_start=-0.1), ValueError, "pct_start must be >= 0"),
    (lambda: sch.one_cycle(1.0, 100, anneal_strategy="cosine"), ValueError, "anneal_strategy"),
    (lambda: sch.one_cycle(1.0, 100, div_factor=0.0), ValueError, "div_factor"),
    (lambda: sch.one_cycle(1.0, 100, final_div_factor=-1.0), ValueError, "final_div_factor"),
    (lambda: sch.one_cycle(1.0, 100, three_phase="yes"), TypeError, "three_phase"),
    (lambda: sch.inverse_sqrt(-0.1, 10), ValueError, "lr"),
    (lambda: sch.inverse_sqrt(0.1, 0), ValueError, "warmup_steps"),
    (lambda: sch.invscaling(-0.1), ValueError, "eta0"),
    (lambda: sch.invscaling(0.1, power_t=-0.5), ValueError, "power_t"),
    (lambda: sch.optimal(0.0), ValueError, "alpha must be > 0"),
    (lambda: sch.optimal(-1.0), ValueError, "alpha"),
    (lambda: sch.optimal(1e-4, t0=0.0), ValueError, "t0 must be > 0"),
    (lambda: sch.warmup(sch.cosine(0.1, 5), -1), ValueError, "warmup_steps"),
    (lambda: sch.warmup(0.1, 5, start_factor=1.5), ValueError, "start_factor"),
    (lambda: sch.warmup(0.1, 5, start_factor=-0.5), ValueError, "start_factor"),
    (lambda: sch.warmup(-0.1, 5), ValueError, "schedule_or_lr"),
    (lambda: sch.warmup("cosine", 5), TypeError, "schedule_or_lr"),
    (lambda: sch.join([0.1, 0.2], [5, 6]), ValueError, r"boundaries must have len\(schedules\) - 1 = 1"),
    (lambda: sch.join([0.1, 0.2], []), ValueError, "boundaries must have"),
    (lambda: sch.join([0.1, 0.2, 0.3], [5, 5]), ValueError, "boundaries must be strictly increasing"),
    (lambda: sch.join([0.1, 0.2, 0.3], [6, 5]), ValueError, "boundaries must be strictly increasing"),
    (lambda: sch.join([0.1, 0.2], [-1]), ValueError, r"boundaries\[0\] must be >= 0"),
    (lambda: sch.join([0.1, 0.2], [1.5]), TypeError, r"boundaries\[0\] must be an int"),
    (lambda: sch.join([0.1, 0.2], 3), TypeError, "boundaries must be a sequence"),
    (lambda: sch.join([], []), ValueError, "schedules must hold at least one"),
    (lambda: sch.join([0.1, "x"], [3]), TypeError, r"schedules\[1\]"),
    (lambda: sch.join([0.1, -0.2], [3]), ValueError, r"schedules\[1\]"),
    (lambda: sch.join(sch.constant(0.1), []), TypeError, "schedules must be a sequence"),
]


@pytest.mark.parametrize("make, exc, match", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_callable_value():
    s = sch.join([lambda k: "fast"], [])
    with pytest.raises(TypeError, match="returned str at step 0"):
        s(0)


# ------------------------------------------------------ ReduceLROnPlateau


def _metrics(n=150, seed=7):
    """Loss-like values with plateaus, ties, noise and a late improvement."""
    r = np.random.default_rng(seed)
    base = np.concatenate([np.linspace(1.0, 0.5, 20), np.full(30, 0.5), np.linspace(0.5, 0.3, 10),
                           np.full(40, 0.3), np.linspace(0.3, 0.1, 20), np.full(30, 0.1)])[:n]
    noisy = base + np.where(r.random(n) < 0.3, r.normal(0, 0.01, n), 0.0)
    return [float(v) for v in noisy]


PLATEAU_CONFIGS = [
    dict(),
    dict(patience=0),
    dict(patience=2, cooldown=3, factor=0.5),
    dict(patience=3, threshold=0.05, threshold_mode="abs"),
    dict(patience=3, threshold=0.02, threshold_mode="rel", cooldown=1),
    dict(mode="max", patience=2),
    dict(mode="max", patience=2, threshold=0.01, threshold_mode="abs", cooldown=2),
    dict(patience=1, factor=0.5, min_lr=0.004),
    dict(patience=1, factor=0.5, min_lr=[0.02, 0.001]),
    dict(patience=1, factor=0.5, eps=0.01),
    dict(patience=1, factor=0.0),
    dict(patience=4, threshold=0.0),
]


def _plateau_pair(config):
    torch = pytest.importorskip("torch")
    ps = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    topt = torch.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.03}])
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **config)
    gopt = gdcore.optim.SGD([{"params": [np.zeros(1)], "lr": 0.1}, {"params": [np.zeros(1)], "lr": 0.03}])
    gsched = sch.ReduceLROnPlateau(gopt, **config)
    return topt, tsched, gopt, gsched


@pytest.mark.parametrize("config", PLATEAU_CONFIGS, ids=[str(c) for c in PLATEAU_CONFIGS])
def test_plateau_matches_torch(config):
    topt, tsched, gopt, gsched = _plateau_pair(config)
    metrics = _metrics()
    if config.get("mode") == "max":
        metrics = [-m for m in metrics]
    reductions = 0
    for m in metrics:
        before = gsched.get_last_lr()
        tsched.step(m)
        gsched.step(m)
        assert gsched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in gopt.param_groups] == [g["lr"] for g in topt.param_groups]
        for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            assert getattr(gsched, key) == getattr(tsched, key), key
        reductions += gsched.get_last_lr() != before
    assert reductions > 0 or config.get("eps", 0) > 0.01


def test_plateau_state_dict_round_trip():
    opt = gdcore.optim.SGD([np.zeros(2)], lr=1.0)
    sched = sch.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1)
    metrics = _metrics()
    for m in metrics[:55]:
        sched.step(m)
    saved, saved_opt = sched.state_dict(), opt.state_dict()
    snapshot = pickle.dumps(saved)
    rest = []
    for m in metrics[55:]:
        sched.step(m)
        rest.append(sched.get_last_lr())
    assert pickle.dumps(saved) == snapshot  # a snapshot: later steps do not change it
    assert len(set(map(tuple, rest))) > 1

    opt2 = gdcore.optim.SGD([np.zeros(2)], lr=1.0)
    opt2.load_state_dict(saved_opt)
    sched2 = sch.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(saved)
    assert sched2.factor == 0.5 and sched2.patience == 2 and sched2.get_last_lr() == saved["_last_lr"]
    resumed = []
    for m in metrics[55:]:
        sched2.step(m)
        resumed.append(sched2.get_last_lr())
    assert resumed == rest


def test_plateau_loads_torch_state_dict():
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([p], lr=0.1)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, mode="max", patience=1, cooldown=2)
    for m in [1.0, 1.0, 0.9, 2.0, 2.0, 2.0, 1.0]:
        tsched.step(m)
    gopt = gdcore.optim.SGD([np.zeros(1)], lr=topt.param_groups[0]["lr"])
    gsched = sch.ReduceLROnPlateau(gopt)
    gsched.load_state_dict(tsched.state_dict())
    assert gsched.state_dict() == tsched.state_dict()
    for m in [3.0, 3.0, 3.0, 3.0, 3.0, 1.0]:
        tsched.step(m)
        gsched.step(m)
        assert gsched.get_last_lr() == tsched.get_last_lr()


def test_plateau_drives_the_optimizer():
    w = np.zeros(1)
    opt = gdcore.optim.SGD([w], lr=1.0)
    sched = sch.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    assert sched.get_last_lr() == [1.0]
    opt.step([np.ones(1)])
    sched.step(1.0)  # first metric: best so far
    opt.step([np.ones(1)])
    sched.step(np.float64(1.0))  # no improvement, patience 0: halve
    opt.step([np.ones(1)])
    assert w[0] == -2.5 and opt.param_groups[0]["lr"] == 0.5
    # A param group added later gets the default min_lr
    opt.add_param_group({"params": [np.zeros(1)], "lr": 0.2})
    sched.step(1.0)
    assert sched.get_last_lr() == [0.25, 0.1] and len(sched.min_lrs) == 2
    assert "ReduceLROnPlateau(mode='min'" in repr(sched)


def test_plateau_per_group_min_lr_needs_every_group():
    opt = gdcore.optim.SGD([np.zeros(1)], lr=1.0)
    sched = sch.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    opt.add_param_group({"params": [np.zeros(1)], "lr": 0.2})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="min_lr"):
        sched.step(2.0)


def _opt(lr=0.1, groups=1):
    return gdcore.optim.SGD([{"params": [np.zeros(1)], "lr": lr} for _ in range(groups)])


PLATEAU_BAD = [
    (lambda: sch.ReduceLROnPlateau(_opt(), mode="avg"), ValueError, "mode must be 'min' or 'max'"),
    (lambda: sch.ReduceLROnPlateau(_opt(), threshold_mode="pct"), ValueError, "threshold_mode"),
    (lambda: sch.ReduceLROnPlateau(_opt(), factor=1.0), ValueError, "factor must be < 1"),
    (lambda: sch.ReduceLROnPlateau(_opt(), factor=-0.1), ValueError, "factor"),
    (lambda: sch.ReduceLROnPlateau(_opt(), patience=-1), ValueError, "patience"),
    (lambda: sch.ReduceLROnPlateau(_opt(), patience=1.5), TypeError, "patience"),
    (lambda: sch.ReduceLROnPlateau(_opt(), cooldown=-2), ValueError, "cooldown"),
    (lambda: sch.ReduceLROnPlateau(_opt(), threshold=-1e-4), ValueError, "threshold"),
    (lambda: sch.ReduceLROnPlateau(_opt(), eps=-1.0), ValueError, "eps"),
    (lambda: sch.ReduceLROnPlateau(_opt(), min_lr=-0.1), ValueError, "min_lr"),
    (lambda: sch.ReduceLROnPlateau(_opt(groups=2), min_lr=[0.1]), ValueError, "min_lr has 1 entries"),
    (lambda: sch.ReduceLROnPlateau(_opt(), min_lr=[-0.1]), ValueError, r"min_lr\[0\]"),
    (lambda: sch.ReduceLROnPlateau(object()), TypeError, "param_groups"),
    (lambda: sch.ReduceLROnPlateau(_opt(lr=sch.cosine(0.1, 10))), TypeError, "schedule"),
    (lambda: sch.ReduceLROnPlateau(_opt()).step("low"), TypeError, "metrics must be a number"),
    (lambda: sch.ReduceLROnPlateau(_opt()).step(None), TypeError, "metrics must be a number"),
]


@pytest.mark.parametrize("make, exc, match", PLATEAU_BAD, ids=[f"bad{i}" for i in range(len(PLATEAU_BAD))])
def test_plateau_bad_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_plateau_bad_state_dict_changes_nothing():
    sched = sch.ReduceLROnPlateau(_opt(), patience=1)
    sched.step(1.0)
    sched.step(2.0)
    before = sched.state_dict()
    good = sched.state_dict()
    for change, match in [
        (dict(mode="median"), "mode"),
        (dict(threshold_mode="x"), "threshold_mode"),
        (dict(patience=-1), "patience"),
        (dict(num_bad_epochs=1.5), "num_bad_epochs"),
        (dict(extra=1), "unknown keys"),
    ]:
        with pytest.raises(ValueError, match=match):
            sched.load_state_dict({**good, **change})
        assert sched.state_dict() == before
    missing = dict(good)
    del missing["best"]
    with pytest.raises(ValueError, match="missing keys"):
        sched.load_state_dict(missing)
    with pytest.raises(TypeError):
        sched.load_state_dict([("best", 1.0)])
    assert sched.state_dict() == before
