"""Every row of the conformance table against torch.optim itself (where torch
is installed): parameters after every step, and the state_dict's state by
name, including 'step' (and NAdam's 'mu_product').

torch's CPU kernels contract a·b + c into FMAs, gdcore's never do, so the
two agree to rounding, not bitwise (the bitwise reference is the numpy
oracle in test_optim_conformance.py).  Lion has no torch counterpart.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import pytest
from numpy.testing import assert_allclose
from reference.optim import CONFORMANCE, row_id

import gdcore as gd

torch = pytest.importorskip("torch")

ROWS = [row for row in CONFORMANCE if row[0] != "Lion"]
STEPS = 20
SHAPES = [(1,), (17,), (33,), (40, 25), (0,), (3, 5, 7)]
TOL = {
    np.float32: dict(rtol=1e-5, atol=1e-6),
    np.float64: dict(rtol=1e-12, atol=1e-12),
}


def _problem(dtype: Any, seed: int = 7):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = []
    for _ in range(STEPS):
        step = []
        for s in SHAPES:
            g = rng.standard_normal(s) * np.exp(rng.uniform(-4.0, 2.0, s))
            g[rng.random(s) < 0.05] = 0.0
            step.append(g.astype(dtype))
        grads.append(step)
    return params, grads


def _torch_optimizer(name: str, tparams: List[Any], kwargs: Dict[str, Any]):
    # foreach=False: torch's documented single-tensor algorithm.
    return getattr(torch.optim, name)(tparams, foreach=False, **kwargs)


def test_every_torch_optimizer_is_in_the_table():
    names = {name for name, _ in CONFORMANCE}
    for name in names - {"Lion"}:
        assert issubclass(getattr(torch.optim, name), torch.optim.Optimizer)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_matches_torch(row, dtype):
    name, kwargs = row
    tol = TOL[dtype]
    params, grads = _problem(dtype)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = _torch_optimizer(name, tparams, kwargs)
    ours = [p.copy() for p in params]
    opt = getattr(gd.optim, name)(ours, **kwargs)
    for t, gs in enumerate(grads):
        for tp, g in zip(tparams, gs):
            tp.grad = torch.tensor(g.copy())
        topt.step()
        opt.step(gs)
        for i, (p, tp) in enumerate(zip(ours, tparams)):
            expected = tp.detach().numpy()
            assert p.dtype == expected.dtype
            assert_allclose(p, expected, err_msg=f"step {t + 1}, param {i}", **tol)

    tstate = topt.state_dict()["state"]
    gstate = opt.state_dict()["state"]
    assert set(gstate) == set(tstate)
    for i, tentry in tstate.items():
        gentry = gstate[i]
        assert set(gentry) == set(tentry), f"param {i}"
        for key, tvalue in tentry.items():
            where = f"param {i}, state {key!r}"
            if key == "step":
                assert gentry[key] == float(tvalue) == STEPS, where
            elif key == "mu_product":
                # torch keeps it in a float32 scalar tensor; so does gdcore.
                assert tvalue.dtype == torch.float32
                assert gentry[key] == float(tvalue), where
            else:
                expected = tvalue.numpy()
                assert gentry[key].dtype == expected.dtype, where
                assert gentry[key].shape == expected.shape, where
                assert_allclose(gentry[key], expected, err_msg=where, **tol)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam"])
def test_loads_a_torch_state_dict_and_continues_like_torch(name):
    # torch's state_dict (tensors, and its param-group switches foreach /
    # fused / capturable / differentiable) loads as it is
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9)}.get(name, dict(lr=0.01))
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(4)]
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = _torch_optimizer(name, [tp], kwargs)
    for g in grads[:2]:
        tp.grad = torch.tensor(g)
        topt.step()
    p = tp.detach().numpy().copy()
    opt = getattr(gd.optim, name)([p], **kwargs)
    opt.load_state_dict(topt.state_dict())
    for g in grads[2:]:
        tp.grad = torch.tensor(g)
        topt.step()
        opt.step([g])
    assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-15)
