"""gdcore.torch: gdcore's optimizers as torch.optim.Optimizer subclasses.

Every row of the conformance table against torch.optim (to rounding: torch's
CPU kernels contract into FMAs, gdcore's never do) and against gdcore.optim
on numpy copies (bit for bit: the same kernels); closures, skipped
parameters, param groups, learning-rate schedulers, state dicts moved both
ways between gdcore.torch and torch.optim, and bad input.
"""

from __future__ import annotations

import pickle
from typing import Any, List

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from reference.optim import CONFORMANCE, row_id

import gdcore as gd

torch = pytest.importorskip("torch")
gt = pytest.importorskip("gdcore.torch")

STEPS = 12
SHAPES = [(1,), (33,), (40, 25), (0,), (3, 5, 7)]
TOL = {
    np.float32: dict(rtol=1e-5, atol=1e-6),
    np.float64: dict(rtol=1e-12, atol=1e-12),
}
DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


def _problem(dtype: Any, seed: int = 3):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * np.exp(rng.uniform(-3.0, 1.0, s))).astype(dtype)
              for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def _tensors(params: List[np.ndarray]) -> List[Any]:
    return [torch.tensor(p.copy(), requires_grad=True) for p in params]


def _set_grads(tparams, gs) -> None:
    for tp, g in zip(tparams, gs):
        tp.grad = torch.tensor(g.copy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", CONFORMANCE, ids=row_id)
def test_matches_gdcore_optim_bitwise_and_torch_to_rounding(row, dtype):
    name, kwargs = row
    params, grads = _problem(dtype)
    ours = _tensors(params)
    opt = getattr(gt, name)(ours, **kwargs)
    assert isinstance(opt, torch.optim.Optimizer)
    plain = [p.copy() for p in params]
    ref = getattr(gd.optim, name)(plain, **kwargs)
    theirs = None
    if name != "Lion":  # (torch has no Lion)
        theirs = _tensors(params)
        topt = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    for t, gs in enumerate(grads):
        _set_grads(ours, gs)
        opt.step()
        ref.step(gs)
        if theirs is not None:
            _set_grads(theirs, gs)
            topt.step()
        for i, p in enumerate(ours):
            assert p.dtype == DTYPES[dtype]
            assert_array_equal(p.detach().numpy(), plain[i], err_msg=f"step {t + 1}, param {i}")
            if theirs is not None:
                assert_allclose(p.detach().numpy(), theirs[i].detach().numpy(),
                                err_msg=f"step {t + 1}, param {i}", **TOL[dtype])
    # the state dict: torch's layout, tensors, the same entries as torch's
    state = opt.state_dict()["state"]
    ref_state = ref.state_dict()["state"]
    assert set(state) == set(ref_state)
    for i, entry in state.items():
        assert set(entry) == set(ref_state[i])
        if "step" in entry:
            assert entry["step"].dim() == 0 and float(entry["step"]) == STEPS
        for key, value in ref_state[i].items():
            assert isinstance(entry[key], torch.Tensor)
            assert_array_equal(entry[key].numpy(), np.asarray(value, dtype=entry[key].numpy().dtype))
    if theirs is not None:
        tstate = topt.state_dict()["state"]
        assert set(state) == {i for i, e in tstate.items() if e}
        for i, tentry in tstate.items():
            tentry = {k: v for k, v in tentry.items() if v is not None}
            assert set(state[i]) == set(tentry), (i, set(state[i]), set(tentry))
            for key, tv in tentry.items():
                assert_allclose(state[i][key].double().numpy(), tv.double().numpy(),
                                err_msg=f"state {key} of param {i}", **TOL[dtype])


def test_every_gdcore_optimizer_is_here_by_its_name():
    assert set(gt.OPTIMIZERS) == {name for name, _ in CONFORMANCE}
    for name in gt.OPTIMIZERS:
        cls = getattr(gt, name)
        assert cls.__name__ == name and cls._gd is getattr(gd.optim, name)
        assert issubclass(cls, torch.optim.Optimizer)


def test_closure_skipped_parameters_and_live_state():
    torch.manual_seed(0)
    used = torch.randn(5, requires_grad=True)
    unused = torch.randn(3, requires_grad=True)
    before = unused.detach().clone()
    opt = gt.Adam([used, unused], lr=0.1)
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = (used ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert calls == [True] and float(loss.detach()) > 0
    assert unused.grad is None
    assert torch.equal(unused.detach(), before)  # no gradient: not stepped, no state
    assert set(opt.state) == {used}
    # the state's tensors share the optimizer's memory: they follow the steps
    exp_avg = opt.state[used]["exp_avg"]
    opt.step(closure)
    assert torch.equal(exp_avg, opt.state[used]["exp_avg"])
    assert float(opt.state[used]["step"]) == 2


def _train(make_opt, steps=15, groups=False, sched=True):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    params = ([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.05}]
              if groups else model.parameters())
    opt = make_opt(params)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5) if sched else None
    x, y = torch.randn(32, 6), torch.randn(32, 1)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return model, opt


@pytest.mark.parametrize("groups", [False, True])
def test_param_groups_and_schedulers_as_torch(groups):
    ours, opt = _train(lambda p: gt.SGD(p, lr=0.1, momentum=0.9), groups=groups)
    theirs, topt = _train(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, foreach=False),
                          groups=groups)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert opt.state_dict()["param_groups"][0]["initial_lr"] == 0.1


def test_tensor_learning_rates_as_torch_allows():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = gt.SGD([{"params": [a]}, {"params": [b], "lr": torch.tensor(0.25)}], torch.tensor(0.5))
    a.grad, b.grad = torch.ones(2), torch.ones(2)
    opt.step()
    assert torch.equal(a.detach(), torch.full((2,), 0.5))
    assert torch.equal(b.detach(), torch.full((2,), 0.75))


def test_add_param_group_later():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = gt.SGD([a], lr=0.5)
    opt.add_param_group({"params": [b], "lr": 0.25})
    a.grad, b.grad = torch.ones(3), torch.ones(2)
    opt.step()
    assert torch.equal(a.detach(), torch.full((3,), 0.5))
    assert torch.equal(b.detach(), torch.full((2,), 0.75))


@pytest.mark.parametrize("direction", ["torch->gdcore", "gdcore->torch"])
def test_state_dict_moves_between_torch_and_gdcore(direction):
    first, second = (torch.optim.Adam, gt.Adam) if direction == "torch->gdcore" else (gt.Adam, torch.optim.Adam)
    kw = dict(lr=0.01, amsgrad=True)
    model, opt = _train(lambda p: first(p, **kw), steps=6, groups=True, sched=False)
    # the same run resumed by the other implementation, and continued by the first
    resumed = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    cont = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    other = second([{"params": resumed[:2]}, {"params": resumed[2:], "lr": 0.05}], **kw)
    other.load_state_dict(opt.state_dict())
    same = first([{"params": cont[:2]}, {"params": cont[2:], "lr": 0.05}], **kw)
    same.load_state_dict(opt.state_dict())
    rng = np.random.default_rng(0)
    for _ in range(5):
        gs = [torch.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype) for p in cont]
        for p, q, g in zip(resumed, cont, gs):
            p.grad, q.grad = g.clone(), g.clone()
        other.step()
        same.step()
    for p, q in zip(resumed, cont):
        assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert float(other.state_dict()["state"][0]["step"]) == 11


def _layouts(dtype: Any, seed: int = 5):
    """Parameters contiguous in another order of their dimensions (a
    channels_last convolution weight, a transposed matrix, a permuted 3-D
    tensor) and a contiguous one, as numpy arrays with those layouts."""
    rng = np.random.default_rng(seed)
    conv = rng.standard_normal((4, 3, 5, 2)).astype(dtype)   # (N, C, H, W)
    mat = rng.standard_normal((7, 5)).astype(dtype)
    cube = rng.standard_normal((2, 3, 4)).astype(dtype)
    flat = rng.standard_normal(9).astype(dtype)
    return [conv, mat, cube, flat]


def _laid_out(arrays: List[np.ndarray]) -> List[Any]:
    conv, mat, cube, flat = (torch.tensor(a.copy()) for a in arrays)
    out = [conv.to(memory_format=torch.channels_last), mat.t().contiguous().t(),
           cube.permute(2, 0, 1).contiguous().permute(1, 2, 0), flat]
    return [t.requires_grad_(True) for t in out]


@pytest.mark.parametrize("row", CONFORMANCE, ids=row_id)
def test_parameters_contiguous_in_another_order(row):
    # channels_last and transposed parameters: updated in their own memory,
    # bit for bit as gdcore.optim on contiguous copies, with gradients in
    # their layout or another one; the state laid out as the parameter
    name, kwargs = row
    arrays = _layouts(np.float32)
    ours = _laid_out(arrays)
    assert not ours[0].is_contiguous() and not ours[1].is_contiguous()
    assert not ours[2].is_contiguous()
    ptrs = [p.data_ptr() for p in ours]
    opt = getattr(gt, name)(ours, **kwargs)
    plain = [a.copy() for a in arrays]
    ref = getattr(gd.optim, name)(plain, **kwargs)
    rng = np.random.default_rng(6)
    for t in range(6):
        gs = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
        for p, g in zip(ours, gs):
            # even steps: each gradient laid out as its parameter (as
            # autograd makes it); odd steps: contiguous
            gt_ = torch.tensor(g)
            p.grad = torch.empty_like(p).copy_(gt_) if t % 2 == 0 else gt_
        opt.step()
        ref.step(gs)
        for i, p in enumerate(ours):
            assert p.data_ptr() == ptrs[i]
            assert_array_equal(p.detach().numpy(), plain[i], err_msg=f"step {t + 1}, param {i}")
    for p in ours:
        for key, value in opt.state[p].items():
            if value.dim() > 0:
                assert value.shape == p.shape and value.stride() == p.stride(), key
    ref_state = ref.state_dict()["state"]
    for i, entry in opt.state_dict()["state"].items():
        for key, value in ref_state[i].items():
            assert_array_equal(entry[key].numpy(), np.asarray(value, dtype=np.float32),
                               err_msg=f"state {key} of param {i}")


@pytest.mark.parametrize("direction", ["torch->gdcore", "gdcore->torch"])
def test_channels_last_state_moves_between_torch_and_gdcore(direction):
    first, second = (torch.optim.Adam, gt.Adam) if direction == "torch->gdcore" else (gt.Adam, torch.optim.Adam)
    kw = dict(lr=0.01, amsgrad=True)
    arrays = _layouts(np.float64)
    start = _laid_out(arrays)
    opt = first(start, **kw)
    rng = np.random.default_rng(7)

    def grads():
        return [torch.tensor(rng.standard_normal(a.shape)) for a in arrays]

    for _ in range(4):
        for p, g in zip(start, grads()):
            p.grad = torch.empty_like(p).copy_(g)
        opt.step()
    resumed, cont = _laid_out(arrays), _laid_out(arrays)
    for r, c, s0 in zip(resumed, cont, start):
        with torch.no_grad():
            r.copy_(s0)
            c.copy_(s0)
    other, same = second(resumed, **kw), first(cont, **kw)
    other.load_state_dict(opt.state_dict())
    same.load_state_dict(opt.state_dict())
    for _ in range(4):
        for p, q, g in zip(resumed, cont, grads()):
            p.grad, q.grad = torch.empty_like(p).copy_(g), torch.empty_like(q).copy_(g)
        other.step()
        same.step()
    for p, q in zip(resumed, cont):
        assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_bad_input_is_refused():
    p = torch.zeros(4, requires_grad=True)
    with pytest.raises(TypeError, match="Tensors"):  # (torch's own check)
        gt.Adam([np.zeros(3)])
    with pytest.raises(TypeError, match="float32 or float64"):
        gt.Adam([torch.zeros(3, dtype=torch.int64)])
    for gappy in (torch.zeros(6)[::2], torch.zeros(3, 4)[:, :2], torch.zeros(3).expand(4, 3)):
        with pytest.raises(ValueError, match="must be dense"):
            gt.Adam([gappy])
    with pytest.raises(ValueError, match="capturable"):
        gt.Adam([p], capturable=True)
    with pytest.raises(ValueError):
        gt.Adam([p], betas=(1.5, 0.9))  # (gdcore.optim's checks)
    opt = gt.Adam([p], lr=0.1, foreach=True, fused=False)  # accepted, no effect
    with pytest.raises(TypeError, match="float32 or float64"):
        opt.add_param_group({"params": [torch.zeros(2, dtype=torch.float16)]})
    assert len(opt.param_groups) == 1  # the refused group is not kept
    p.grad = torch.ones(4)
    opt.step()
    good = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][0]["exp_avg"] = torch.zeros(5)
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert torch.equal(after["state"][0]["exp_avg"], good["state"][0]["exp_avg"])
    with pytest.raises(TypeError, match="sparse"):
        p.grad = torch.ones(4).to_sparse()
        opt.step()
    p.grad = torch.ones(4)
    p.data = torch.zeros(4)  # new storage: the optimizer's view would be stale
    with pytest.raises(RuntimeError, match="no longer uses the memory"):
        opt.step()
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(opt)
