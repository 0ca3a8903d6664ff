"""Conformance: every optimizer configuration of the shared table
(``reference.optim.CONFORMANCE``) against the plain-numpy oracles, BITWISE.

The kernels follow torch.optim's documented op order with every scalar rounded
to the parameter dtype, no FMA and no reassociation, so parameters and every
state buffer must equal the oracle bit for bit, on every compiled ISA path this
CPU supports and on 1 and 2 threads, whatever the tensor sizes (vector tails,
empty tensors, several tensors in one group, chunked tensors, mixed dtypes).
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import pytest
from helpers import ISAS, LARGE, SIZES, THREADS, run_on
from numpy.testing import assert_array_equal
from reference.optim import CONFORMANCE, ORACLES, row_id

import gdcore as gd

STEPS = 10  # RAdam's default betas switch to the rectified rule at step 6
# Three kernel chunks and a tail, and more elements than the parallel
# threshold, so that 2 threads really split the group.
MEDIUM = 3 * 8192 + 5
DTYPES = [np.float32, np.float64]


def _shape(n: int) -> Tuple[int, ...]:
    """Some tensors are 2-D: the kernels see only their flat size."""
    return (40, 25) if n == 1000 else (n,)


SHAPES = [_shape(n) for n in SIZES] + [(MEDIUM,)]


def _grad(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any) -> np.ndarray:
    """A gradient with magnitudes spread over decades (so amsgrad's running
    max and Adamax's infinity norm are exercised), signs of both kinds and
    some exact zeros (Lion's sign(0))."""
    g = rng.standard_normal(shape) * np.exp(rng.uniform(-4.0, 2.0, shape))
    g[rng.random(shape) < 0.05] = 0.0
    return g.astype(dtype)


@functools.lru_cache(maxsize=None)
def _problem(shapes: Tuple[Tuple[int, ...], ...], dtypes: Tuple[Any, ...], steps: int, seed: int):
    rng = np.random.default_rng(seed)
    params = tuple(rng.standard_normal(s).astype(dt) for s, dt in zip(shapes, dtypes))
    grads = tuple(
        tuple(_grad(rng, s, dt) for s, dt in zip(shapes, dtypes)) for _ in range(steps)
    )
    for a in params + sum(grads, ()):
        a.flags.writeable = False  # cached: nobody may change them
    return params, grads


def problem(shapes: Sequence[Tuple[int, ...]], dtypes: Any, steps: int, seed: int = 0):
    """Fresh writeable copies of the parameters and read-only gradients
    (a kernel writing into a gradient would raise)."""
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(shapes)
    params, grads = _problem(tuple(shapes), tuple(np.dtype(d).type for d in dtypes), steps, seed)
    return [p.copy() for p in params], [list(gs) for gs in grads]


def make(name: str, params: List[np.ndarray], kwargs: Dict[str, Any]):
    return getattr(gd.optim, name)(params, **kwargs)


def assert_same_state(ours: Dict[int, Dict[str, Any]], ref_state: List[Dict[str, Any]],
                      offset: int = 0, where: str = "") -> None:
    """gdcore's state_dict()['state'] entries equal the oracle's, by name,
    bitwise; a parameter without oracle state has no entry (torch's layout)."""
    for i, expected in enumerate(ref_state):
        if not expected:
            assert offset + i not in ours, f"{where} param {i}: unexpected state"
            continue
        got = ours[offset + i]
        assert set(got) == set(expected), f"{where} param {i}: state names"
        for key, value in expected.items():
            if isinstance(value, np.ndarray):
                assert_array_equal(got[key], value, strict=True,
                                   err_msg=f"{where} param {i}: state {key!r}")
            else:
                assert got[key] == value, f"{where} param {i}: state {key!r}"


def assert_same_params(ours: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                       where: str = "") -> None:
    for i, (a, b) in enumerate(zip(ours, expected)):
        assert_array_equal(a, b, strict=True, err_msg=f"{where} param {i} {a.shape}")


# --------------------------------------------------------------- the table
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("row", CONFORMANCE, ids=row_id)
def test_matches_oracle_bitwise(row, dtype, isa, threads):
    """All SIZES (plus a chunked tensor) in one group, and each size alone,
    against the oracle after every step: parameters and every state buffer."""
    name, kwargs = row
    params, grads = problem(SHAPES, dtype, STEPS)
    ref = ORACLES[name](params, **kwargs)
    group = [p.copy() for p in params]
    opt = make(name, group, kwargs)
    singles = [[p.copy()] for p in params]
    single_opts = [make(name, s, kwargs) for s in singles]
    for t, gs in enumerate(grads):
        ref.step(gs)
        opt.step(gs)
        for s_opt, g in zip(single_opts, gs):
            s_opt.step([g])
        assert_same_params(group, ref.params, f"step {t + 1}, group:")
        assert_same_params([s[0] for s in singles], ref.params, f"step {t + 1}, alone:")
        assert_same_state(opt.state_dict()["state"], ref.state, where=f"step {t + 1}, group:")
    for i, s_opt in enumerate(single_opts):
        assert_same_state(s_opt.state_dict()["state"], ref.state[i : i + 1], where=f"alone {i}:")


def test_table_covers_every_optimizer():
    """Every optimizer gdcore exports has an oracle and at least one row."""
    exported = {
        n for n in gd.optim.__all__
        if isinstance(getattr(gd.optim, n), type) and issubclass(getattr(gd.optim, n), gd.optim.Optimizer)
        and n != "Optimizer"
    }
    assert exported == set(ORACLES)
    assert exported == {name for name, _ in CONFORMANCE}


@pytest.mark.parametrize("row", CONFORMANCE, ids=row_id)
def test_mixed_dtypes_in_one_group(row):
    """One group holding float32 and float64 tensors: each is updated in its
    own dtype, exactly as if it were alone."""
    name, kwargs = row
    shapes = [(17,), (33,), (MEDIUM,), (7,), (1000,), (0,)]
    dtypes = [np.float32, np.float64, np.float32, np.float64, np.float64, np.float32]
    params, grads = problem(shapes, dtypes, 5, seed=1)
    ref = ORACLES[name](params, **kwargs)
    opt = make(name, params, kwargs)
    for gs in grads:
        ref.step(gs)
        opt.step(gs)
    assert [p.dtype for p in params] == [np.dtype(d) for d in dtypes]
    assert_same_params(params, ref.params)
    assert_same_state(opt.state_dict()["state"], ref.state)


# ----------------------------------------- same bits on every path, > 1M elements
LARGE_SHAPES = [(LARGE,), (1,), (17,), (0,), (33,), (1000,), (65,), (3,)]
LARGE_STEPS = 3


def _run_large(name: str, kwargs: Dict[str, Any], dtype: Any):
    params, grads = problem(LARGE_SHAPES, dtype, LARGE_STEPS, seed=2)
    opt = make(name, params, kwargs)
    for gs in grads:
        opt.step(gs)
    return params, opt.state_dict()["state"]


@pytest.mark.parametrize("row", CONFORMANCE, ids=row_id)
def test_same_bits_on_every_isa_and_thread_count(row):
    """A > 1M-element tensor and several small ones in one group give the same
    bits on every (ISA, threads) combination; float64 too for each
    optimizer's first row."""
    name, kwargs = row
    first_of_kind = next(r for r in CONFORMANCE if r[0] == name) == row
    combos = [(isa, n) for isa in ISAS for n in THREADS]
    for dtype in [np.float32, np.float64] if first_of_kind else [np.float32]:
        results = [run_on(isa, n, lambda: _run_large(name, kwargs, dtype)) for isa, n in combos]
        base_params, base_state = results[0]
        for (isa, n), (params, state) in zip(combos[1:], results[1:]):
            where = f"{np.dtype(dtype).name} {isa}/{n} threads vs {combos[0]}:"
            assert_same_params(params, base_params, where)
            assert set(state) == set(base_state), where
            for i in base_state:
                assert_same_state(state, [base_state[i]], offset=i, where=where)
        # The tensors did move (the comparison is not between untouched copies).
        start, _ = problem(LARGE_SHAPES, dtype, LARGE_STEPS, seed=2)
        assert not np.array_equal(base_params[0], start[0])


@pytest.mark.parametrize(
    "row",
    [next(r for r in CONFORMANCE if r[0] == n) for n in ORACLES]
    + [("Adam", dict(lr=1e-2, weight_decay=0.05, amsgrad=True, maximize=True))],
    ids=row_id,
)
def test_large_tensor_matches_oracle(row):
    """The > 1M-element group (many chunks, 2 threads) equals the oracle."""
    name, kwargs = row
    params, grads = problem(LARGE_SHAPES, np.float32, 2, seed=3)
    ref = ORACLES[name](params, **kwargs)

    def go():
        opt = make(name, params, kwargs)
        for gs in grads:
            ref.step(gs)
            opt.step(gs)
        return opt.state_dict()["state"]

    state = run_on(ISAS[-1], 2, go)
    assert_same_params(params, ref.params)
    assert_same_state(state, ref.state)


def test_oracle_lerp_rows_hit_both_branches():
    """The table exercises both of torch's lerp branches for every optimizer
    that lerps (w = 1 - beta1 below and at/above 0.5), so a kernel that always
    took one branch would fail a row."""
    lerping = {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Lion"}
    for name in lerping:
        ws = {1 - kw.get("betas", ORACLES[name].defaults["betas"])[0]
              for n, kw in CONFORMANCE if n == name}
        assert min(ws) < 0.5 <= max(ws), name
    ws = {1 - kw.get("alpha", 0.99) for n, kw in CONFORMANCE if n == "RMSprop" and kw.get("centered")}
    assert min(ws) < 0.5 <= max(ws)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_rmsprop_lerp_branch_is_chosen_by_abs_weight(dtype, isa):
    """torch's lerp takes its small-weight branch when |w| < 0.5.  RMSprop's
    alpha is only bounded below (torch and gdcore accept alpha > 1), so the
    centered grad_avg lerp weight w = 1 - alpha can be <= -0.5, where torch
    uses b - (b - a)*(1 - w).  (The configuration is degenerate: square_avg
    goes negative, so the parameters become NaN; grad_avg stays finite.)"""
    kwargs = dict(alpha=1.6, centered=True)
    params, grads = problem([(1000,), (17,)], dtype, 3, seed=4)
    ref = ORACLES["RMSprop"](params, **kwargs)
    opt = make("RMSprop", params, kwargs)
    with np.errstate(invalid="ignore"):
        for gs in grads:
            ref.step(gs)
            opt.step(gs)
    assert np.isfinite(ref.state[0]["grad_avg"]).all()
    assert_same_state(opt.state_dict()["state"], ref.state)
    assert_same_params(params, ref.params)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_bias_corrections_are_each_optimizers_own(dtype):
    # Adam's bias corrections are remembered per thread by step and betas:
    # optimizers with other betas stepping through the same step numbers in
    # turn, and a step 2048 later (where the remembered step 1 sits), still
    # take their own -- each equal to its oracle, bitwise
    oracle = ORACLES["Adam"]
    all_betas = [(0.9, 0.999), (0.8, 0.999), (0.9, 0.99), (0.5, 0.5)]
    params, grads = problem([(7,)], dtype, 4, seed=3)
    runs = [(make("Adam", [p.copy() for p in params], dict(betas=b)), oracle(params, betas=b))
            for b in all_betas]
    for t in range(4):
        for opt, ref in runs:
            opt.step(grads[t])
            ref.step(grads[t])
    for (opt, ref), b in zip(runs, all_betas):
        assert_same_state(opt.state_dict()["state"], ref.state, where=f"betas {b}:")
        assert_array_equal(opt.param_groups[0]["params"][0], ref.params[0])
    # step 2049 after step 1 (the same slot), from the same state
    opt, ref = runs[0]
    sd = opt.state_dict()
    sd["state"][0]["step"] = 2048.0
    opt.load_state_dict(sd)
    ref.state[0]["step"] = 2048.0
    make("Adam", [p.copy() for p in params], {}).step(grads[0])  # (step 1 remembered)
    opt.step(grads[1])
    ref.step(grads[1])
    assert_same_state(opt.state_dict()["state"], ref.state, where="step 2049:")
    assert_array_equal(opt.param_groups[0]["params"][0], ref.params[0])
