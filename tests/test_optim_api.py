"""The optimizer API around the kernels: checkpoints (state_dict, pickle),
param groups, hyperparameter changes between steps, learning-rate schedules,
None gradients and the one-call-per-group batching.

Almost every check here is a bitwise identity between two ways of reaching
the same point (resumed vs. uninterrupted, grouped vs. separate, schedule vs.
by hand).  Where a value is asserted, it comes from a plain-numpy computation
(SGD) written from torch.optim's documented algorithm.
"""

from __future__ import annotations

import copy
import pickle
import struct

import numpy as np
import pytest
from helpers import SIZES

import gdcore as gd

O = gd.optim

ALL_CLASSES = [O.SGD, O.Adam, O.AdamW, O.RMSprop, O.Adagrad, O.Adadelta, O.Adamax, O.NAdam, O.RAdam, O.Lion]

# Every optimizer, with the options that keep state switched on.  RAdam runs
# past step 5 in the checkpoint test, so both branches of its rectification run.
CONFIGS = [
    (O.SGD, dict(lr=0.05)),
    (O.SGD, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    (O.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    (O.Adam, dict(lr=0.01)),
    (O.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    (O.AdamW, dict(lr=0.01, amsgrad=True)),
    (O.RMSprop, dict(lr=0.01)),
    (O.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (O.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (O.Adadelta, dict(lr=1.0, weight_decay=0.01)),
    (O.Adamax, dict(lr=0.01, weight_decay=0.01)),
    (O.NAdam, dict(lr=0.01)),
    (O.NAdam, dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.01)),
    (O.RAdam, dict(lr=0.01)),
    (O.RAdam, dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    (O.Lion, dict(lr=0.001, weight_decay=0.1)),
]
CONFIG_IDS = [
    cls.__name__ + ("-" + "-".join(f"{k}={v}" for k, v in kw.items() if k != "lr") if len(kw) > 1 else "")
    for cls, kw in CONFIGS
]

# Shapes and dtypes of the parameters used throughout: both dtypes, an
# empty array, a 2-D and a 3-D array, vector tails.
LAYOUT = [((7,), np.float32), ((3, 5), np.float64), ((0,), np.float32), ((33,), np.float32), ((2, 2, 3), np.float64)]


# ----------------------------------------------------------------- helpers
def make_params(seed=0, layout=LAYOUT):
    r = np.random.default_rng(seed)
    return [r.standard_normal(shape).astype(dtype) for shape, dtype in layout]


def make_grads(n_steps, seed=1, layout=LAYOUT):
    r = np.random.default_rng(seed)
    return [[r.standard_normal(shape).astype(dtype) for shape, dtype in layout] for _ in range(n_steps)]


def copies(arrays):
    return [a.copy() for a in arrays]


def bits(x):
    """A bitwise fingerprint of a value found in a state_dict."""
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, float):
        return ("float", struct.pack("<d", x))
    if isinstance(x, int):
        return ("int", x)
    if isinstance(x, (np.floating, np.integer)):
        return bits(np.asarray(x))
    if isinstance(x, dict):
        return ("dict", tuple(sorted((str(k), bits(v)) for k, v in x.items())))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(bits(v) for v in x))
    if callable(x):
        return ("callable", id(x))
    raise AssertionError(f"unexpected value in a state dict: {x!r}")


def assert_arrays_bitwise(actual, expected):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a.dtype == e.dtype and a.shape == e.shape, i
        assert a.tobytes() == e.tobytes(), f"array {i} differs: max |diff| {np.max(np.abs(a - e), initial=0)}"


def assert_state_bitwise(actual, expected, path="state_dict"):
    """Two state dicts (or parts of them) are identical, bit for bit; a
    difference is reported by its path."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert sorted(map(str, actual)) == sorted(map(str, expected)), f"{path}: keys differ"
        for k in expected:
            assert_state_bitwise(actual[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_state_bitwise(a, e, f"{path}[{i}]")
    else:
        assert bits(actual) == bits(expected), f"{path}: {actual!r} != {expected!r}"


def run(opt, grads):
    for g in grads:
        opt.step(list(g))


# ------------------------------------------------------------- checkpoints
@pytest.mark.parametrize(("cls", "kw"), CONFIGS, ids=CONFIG_IDS)
def test_checkpoint_round_trip_is_bitwise(cls, kw):
    n, m = 4, 5
    grads = make_grads(n + m)
    # Uninterrupted.
    pa = make_params()
    a = cls(pa, **kw)
    run(a, grads)
    # Interrupted after n steps, through pickle, into a fresh optimizer built
    # with the constructor's defaults: the hyperparameters come from the dict.
    pb = make_params()
    b = cls(pb, **kw)
    run(b, grads[:n])
    saved = pickle.loads(pickle.dumps(b.state_dict()))
    pc = copies(pb)
    c = cls(pc)
    c.load_state_dict(saved)
    assert c.state_dict()["step_count"] == n
    run(c, grads[n:])
    assert_arrays_bitwise(pc, pa)
    sa, sc = a.state_dict(), c.state_dict()
    assert_state_bitwise(sc, sa)
    assert sc["step_count"] == n + m
    # The interrupted optimizer itself is unaffected by having been saved.
    run(b, grads[n:])
    assert_arrays_bitwise(pb, pa)


@pytest.mark.parametrize(("cls", "kw"), CONFIGS, ids=CONFIG_IDS)
def test_load_then_state_dict_gives_back_the_checkpoint(cls, kw):
    """A checkpoint of a freshly restored optimizer is the checkpoint it was
    restored from (so checkpoint -> load -> checkpoint loses nothing)."""
    p = make_params()
    opt = cls(p, **kw)
    run(opt, make_grads(3))
    saved = opt.state_dict()
    fresh = cls(copies(p))
    fresh.load_state_dict(saved)
    assert_state_bitwise(fresh.state_dict(), saved)
    assert_state_bitwise(fresh.state, opt.state, "state")


def test_state_dict_layout_is_torchs():
    p = make_params()
    opt = O.Adam([{"params": p[:2]}, {"params": p[2:], "lr": 0.1}], lr=0.01, amsgrad=True)
    run(opt, make_grads(2))
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups", "step_count"}
    assert sd["step_count"] == 2
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3, 4]]
    assert sd["param_groups"][0]["lr"] == 0.01 and sd["param_groups"][1]["lr"] == 0.1
    assert set(sd["param_groups"][0]) == set(opt.defaults) | {"params"}
    assert sorted(sd["state"]) == [0, 1, 2, 3, 4]
    for i, entry in sd["state"].items():
        assert set(entry) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
        assert entry["step"] == 2.0
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert entry[name].shape == p[i].shape and entry[name].dtype == p[i].dtype
    # opt.state uses the same keys, and holds the live buffers.
    assert sorted(opt.state) == [0, 1, 2, 3, 4]


def test_state_dict_returns_copies():
    p = make_params()
    opt = O.Adam(p, lr=0.01)
    grads = make_grads(3)
    run(opt, grads[:2])
    sd = opt.state_dict()
    snapshot = copy.deepcopy(sd)
    run(opt, grads[2:])
    assert_state_bitwise(sd, snapshot)  # later steps do not change the dict
    # and changing the dict does not change the optimizer
    twin_p = make_params()
    twin = O.Adam(twin_p, lr=0.01)
    run(twin, grads)
    sd["state"][0]["exp_avg"][...] = 123.0
    sd["param_groups"][0]["lr"] = 99.0
    sd["param_groups"][0]["betas"] = (0.0, 0.0)
    assert opt.param_groups[0]["lr"] == 0.01
    assert_state_bitwise(opt.state_dict(), twin.state_dict())


def test_load_state_dict_copies_its_input():
    p = make_params()
    opt = O.Adam(p, lr=0.01)
    grads = make_grads(4)
    run(opt, grads[:2])
    saved = opt.state_dict()
    keep = copy.deepcopy(saved)
    q = copies(p)
    fresh = O.Adam(q)
    fresh.load_state_dict(saved)
    run(fresh, grads[2:])
    assert_state_bitwise(saved, keep)  # stepping after loading leaves the dict alone
    run(opt, grads[2:])
    assert_arrays_bitwise(q, p)


@pytest.mark.parametrize(("cls", "kw"), CONFIGS, ids=CONFIG_IDS)
def test_pickled_optimizer_resumes_identically(cls, kw):
    grads = make_grads(7)
    p = make_params()
    opt = cls([{"params": p[:2]}, {"params": p[2:], "lr": kw["lr"] / 2}], **kw)
    run(opt, grads[:3])
    clone = pickle.loads(pickle.dumps(opt))
    q = [x for g in clone.param_groups for x in g["params"]]
    assert all(a is not b for a, b in zip(p, q))
    assert_arrays_bitwise(q, p)
    assert_state_bitwise(clone.state_dict(), opt.state_dict())
    run(opt, grads[3:])
    run(clone, grads[3:])
    assert_arrays_bitwise(q, p)
    assert_state_bitwise(clone.state_dict(), opt.state_dict())


# ---------------------------------------------------- load_state_dict errors
def _stateful(cls):
    return {
        O.SGD: dict(lr=0.1, momentum=0.9),
        O.Adam: dict(amsgrad=True),
        O.RMSprop: dict(momentum=0.5, centered=True),
    }.get(cls, {})


def _bad_shape(sd):
    name = next(k for k, v in sd["state"][1].items() if isinstance(v, np.ndarray))
    sd["state"][1][name] = sd["state"][1][name].reshape(-1)


def _bad_dtype(sd):
    name = next(k for k, v in sd["state"][1].items() if isinstance(v, np.ndarray))
    sd["state"][1][name] = sd["state"][1][name].astype(np.float32)


def _extra_group(sd):
    sd["param_groups"].append(dict(sd["param_groups"][0], params=[]))


def _short_group(sd):
    sd["param_groups"][0]["params"] = sd["param_groups"][0]["params"][:-1]
    sd["state"].pop(len(LAYOUT) - 1, None)


def _unknown_state(sd):
    sd["state"][0]["bogus"] = np.zeros(LAYOUT[0][0], LAYOUT[0][1])


def _unknown_group_key(sd):
    sd["param_groups"][0]["bogus"] = 1.0


def _bad_lr(sd):
    sd["param_groups"][0]["lr"] = -1.0


def _state_for_missing_param(sd):
    sd["state"][17] = dict(sd["state"][0])


def _bad_step_count(sd):
    sd["step_count"] = -1


def _not_a_dict(sd):
    sd.clear()
    sd["state"] = {}


LOAD_ERRORS = [
    ("wrong-shape", _bad_shape, r"has shape \(15,\), the parameter has shape \(3, 5\)"),
    ("wrong-dtype", _bad_dtype, r"has dtype float32, the parameter has dtype float64"),
    ("wrong-group-count", _extra_group, r"2 parameter groups, optimizer has 1"),
    ("wrong-group-size", _short_group, r"group 0 of 4 parameters; the optimizer's group has 5"),
    ("unknown-state-name", _unknown_state, r"unknown state 'bogus'"),
    ("unknown-group-key", _unknown_group_key, r"unknown keys .*bogus"),
    ("invalid-hyperparameter", _bad_lr, r"lr must be"),
    ("state-of-no-param", _state_for_missing_param, r"parameter 17"),
    ("bad-step-count", _bad_step_count, r"step_count"),
    ("no-param-groups", _not_a_dict, r"param_groups"),
    # a step count the compiled counter cannot hold, or not a number
    ("step-too-large", lambda sd: sd["state"][0].__setitem__("step", 1e20), r"whole number in \[0, 2\*\*53\]"),
    ("step-infinite", lambda sd: sd["state"][0].__setitem__("step", float("inf")), r"whole number"),
    ("step-a-string", lambda sd: sd["state"][0].__setitem__("step", "ten"), r"whole number"),
    ("state-a-list", lambda sd: sd.__setitem__("state", [sd["state"][0]]), r"state_dict\['state'\] must be a dict"),
    ("groups-a-dict", lambda sd: sd.__setitem__("param_groups", {0: sd["param_groups"][0]}),
     r"state_dict\['param_groups'\] must be a list"),
]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(("what", "corrupt", "match"), LOAD_ERRORS, ids=[r[0] for r in LOAD_ERRORS])
def test_load_state_dict_rejects_and_leaves_optimizer_unchanged(cls, what, corrupt, match):
    kw = _stateful(cls)
    grads = make_grads(4)
    p = make_params()
    opt = cls(p, **kw)
    run(opt, grads[:2])
    twin_p = make_params()
    twin = cls(twin_p, **kw)
    run(twin, grads[:2])
    bad = opt.state_dict()
    if what in ("wrong-shape", "wrong-dtype") and not any(isinstance(v, np.ndarray) for v in bad["state"][1].values()):
        pytest.skip("no state buffers")
    corrupt(bad)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(bad)
    assert_state_bitwise(opt.state_dict(), before)
    # and it keeps going exactly like an optimizer that never saw the bad dict
    run(opt, grads[2:])
    run(twin, grads[2:])
    assert_arrays_bitwise(p, twin_p)
    assert_state_bitwise(opt.state_dict(), twin.state_dict())


# --------------------------------------------------------------- param groups
PER_GROUP = {
    O.SGD: (dict(lr=0.1, momentum=0.9), dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.1)),
    O.Adam: (dict(lr=0.01), dict(lr=0.05, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    O.AdamW: (dict(lr=0.01), dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.2)),
    O.RMSprop: (dict(lr=0.01), dict(lr=0.001, alpha=0.9, momentum=0.5, centered=True)),
    O.Adagrad: (dict(lr=0.1), dict(lr=0.2, lr_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    O.Adadelta: (dict(lr=1.0), dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1)),
    O.Adamax: (dict(lr=0.01), dict(lr=0.1, betas=(0.5, 0.9), eps=1e-4)),
    O.NAdam: (dict(lr=0.01), dict(lr=0.05, momentum_decay=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    O.RAdam: (dict(lr=0.01), dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    O.Lion: (dict(lr=0.001), dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.5)),
}


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_per_group_hyperparameters_equal_separate_optimizers(cls):
    kw0, kw1 = PER_GROUP[cls]
    grads = make_grads(8)
    p = make_params()
    opt = cls([{"params": p[:2]}, dict(kw1, params=p[2:])], **kw0)
    run(opt, grads)
    q = make_params()
    o0, o1 = cls(q[:2], **kw0), cls(q[2:], **kw1)
    for g in grads:
        o0.step(g[:2])
        o1.step(g[2:])
    assert_arrays_bitwise(p, q)
    state = opt.state
    s0, s1 = o0.state, o1.state
    assert_state_bitwise(state, {**s0, **{k + 2: v for k, v in s1.items()}})


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_add_param_group(cls):
    kw0, kw1 = PER_GROUP[cls]
    grads = make_grads(6)
    p = make_params()
    opt = cls(p[:2], **kw0)
    for g in grads[:2]:
        opt.step(g[:2])
    opt.add_param_group(dict(kw1, params=p[2:]))
    # the new group gets every default it did not set
    assert set(opt.param_groups[1]) == set(opt.defaults) | {"params"}
    for k, v in opt.defaults.items():
        assert opt.param_groups[1][k] == kw1.get(k, v)
    run(opt, grads[2:])
    q = make_params()
    o0, o1 = cls(q[:2], **kw0), cls(q[2:], **kw1)
    for g in grads:
        o0.step(g[:2])
    for g in grads[2:]:
        o1.step(g[2:])
    assert_arrays_bitwise(p, q)
    assert [g["params"] for g in opt.state_dict()["param_groups"]] == [[0, 1], [2, 3, 4]]
    assert_state_bitwise(opt.state, {**o0.state, **{k + 2: v for k, v in o1.state.items()}})


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_appending_to_a_groups_params_keeps_existing_state(cls):
    """param_groups are plain dicts (as in torch): a parameter appended to a
    group's list is optimized from then on, and the parameters already there
    keep their state (step counts included)."""
    kw = _stateful(cls)
    grads = make_grads(6)
    p = make_params()
    opt = cls([p[0]], **kw)
    for g in grads[:3]:
        opt.step([g[0]])
    opt.param_groups[0]["params"].append(p[1])
    for g in grads[3:]:
        opt.step([g[0], g[1]])
    q = make_params()
    o0, o1 = cls([q[0]], **kw), cls([q[1]], **kw)
    for g in grads:
        o0.step([g[0]])
    for g in grads[3:]:
        o1.step([g[1]])
    assert_arrays_bitwise(p[:2], q[:2])
    assert_state_bitwise(opt.state, {0: o0.state[0], 1: o1.state[0]})


@pytest.mark.parametrize("cls", [O.SGD, O.Adam, O.NAdam], ids=lambda c: c.__name__)
def test_reordering_a_groups_params_keeps_each_params_state(cls):
    """State belongs to the array, not to its position in the group."""
    kw = _stateful(cls)
    grads = make_grads(6)
    p = make_params()
    opt = cls(p[:2], **kw)
    for g in grads[:3]:
        opt.step([g[0], None])  # only p[0] moves: its state and p[1]'s differ
    opt.param_groups[0]["params"] = [p[1], p[0]]
    for g in grads[3:]:
        opt.step([g[1], g[0]])
    q = make_params()
    o0, o1 = cls([q[0]], **kw), cls([q[1]], **kw)
    for g in grads:
        o0.step([g[0]])
    for g in grads[3:]:
        o1.step([g[1]])
    assert_arrays_bitwise(p[:2], q[:2])
    assert_state_bitwise(opt.state, {0: o1.state[0], 1: o0.state[0]})


# ------------------------------------------ hyperparameters changed between steps
def sgd_reference(p, grads, groups_per_step):
    """torch.optim.SGD, written out in numpy (multiply, then add, in torch's
    order), with the hyperparameters of each step given explicitly."""
    p = p.copy()
    buf = None
    for g, h in zip(grads, groups_per_step):
        g = g * p.dtype.type(-1.0 if h["maximize"] else 1.0)
        if h["weight_decay"] != 0:
            g = g + h["weight_decay"] * p
        if h["momentum"] != 0:
            if buf is None:
                buf = g.copy()
            else:
                buf = buf * h["momentum"] + (1.0 - h["dampening"]) * g
            g = g + h["momentum"] * buf if h["nesterov"] else buf
        p = p + (-h["lr"]) * g
    return p, buf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_hyperparameter_changes_take_effect_numpy_reference(dtype, rng):
    base = dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)
    changes = [
        {},
        {"lr": 0.05},
        {"momentum": 0.5, "dampening": 0.25},
        {"weight_decay": 0.1},
        {"momentum": 0.0},  # the buffer is kept (unused) while momentum is 0, as in torch
        {"lr": 0.2},
        {"momentum": 0.8, "dampening": 0.0, "nesterov": True},
        {"maximize": True},
        {"nesterov": False, "weight_decay": 0.0, "maximize": False},
    ]
    p0 = rng.standard_normal(37).astype(dtype)
    grads = [rng.standard_normal(37).astype(dtype) for _ in changes]
    p = p0.copy()
    opt = O.SGD([p], **base)
    per_step = []
    h = dict(base)
    for change, g in zip(changes, grads):
        opt.param_groups[0].update(change)
        h = {**h, **change}
        per_step.append(dict(h))
        opt.step([g])
    expected_p, expected_buf = sgd_reference(p0, grads, per_step)
    assert p.tobytes() == expected_p.tobytes()
    assert opt.state[0]["momentum_buffer"].tobytes() == expected_buf.tobytes()


CHANGES = {
    O.SGD: dict(lr=0.01, momentum=0.5, dampening=0.3, weight_decay=0.1),
    O.Adam: dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1, maximize=True),
    O.AdamW: dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.5),
    O.RMSprop: dict(lr=0.05, alpha=0.5, eps=1e-3, weight_decay=0.1, momentum=0.3),
    O.Adagrad: dict(lr=0.5, lr_decay=0.5, eps=1e-3, weight_decay=0.1),
    O.Adadelta: dict(lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1),
    O.Adamax: dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1),
    O.NAdam: dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1, momentum_decay=0.05),
    O.RAdam: dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3, decoupled_weight_decay=True),
    O.Lion: dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.5, maximize=True),
}


@pytest.mark.parametrize(
    ("cls", "key"),
    [(cls, key) for cls, ch in CHANGES.items() for key in ch],
    ids=lambda x: x.__name__ if isinstance(x, type) else str(x),
)
def test_hyperparameter_change_takes_effect(cls, key):
    """Changing param_groups[i][key] between steps = a fresh optimizer built
    with the new value on a copy of the state; and it is not a no-op."""
    kw = dict(_stateful(cls))
    if cls is O.RMSprop:
        kw["momentum"] = 0.5
    if cls is O.RAdam:
        kw["weight_decay"] = 0.1  # so that switching to decoupled decay matters
    new = CHANGES[cls][key]
    grads = make_grads(8)
    p = make_params()
    opt = cls(p, **kw)
    run(opt, grads[:4])
    saved = opt.state_dict()
    p_at = copies(p)
    opt.param_groups[0][key] = new
    run(opt, grads[4:])
    # fresh optimizer, constructed with the new value, on the copied state
    q = copies(p_at)
    fresh = cls(q, **{**kw, key: new})
    saved["param_groups"][0][key] = new
    fresh.load_state_dict(saved)
    run(fresh, grads[4:])
    assert_arrays_bitwise(p, q)
    assert_state_bitwise(opt.state_dict(), fresh.state_dict())
    # the change mattered: the same resume with the old value differs
    r = copies(p_at)
    old = cls(r, **kw)
    saved["param_groups"][0][key] = opt.defaults[key]
    old.load_state_dict(saved)
    run(old, grads[4:])
    assert any(a.tobytes() != b.tobytes() for a, b in zip(p, r) if a.size)


# ------------------------------------------------------------- lr schedules
def _schedule(k):
    return 0.02 * 0.8**k + 0.001 * (k % 3)


@pytest.mark.parametrize(("cls", "kw"), CONFIGS, ids=CONFIG_IDS)
def test_lr_schedule_equals_setting_lr_by_hand(cls, kw):
    grads = make_grads(7)
    kw = {k: v for k, v in kw.items() if k != "lr"}
    p = make_params()
    opt = cls([{"params": p[:2]}, {"params": p[2:]}], lr=_schedule, **kw)
    run(opt, grads)
    q = make_params()
    by_hand = cls([{"params": q[:2]}, {"params": q[2:]}], lr=1.0, **kw)
    for k, g in enumerate(grads):
        for group in by_hand.param_groups:
            group["lr"] = _schedule(k)
        by_hand.step(g)
    assert_arrays_bitwise(p, q)
    assert_state_bitwise(opt.state, by_hand.state)


def test_lr_schedule_single_group_equals_by_hand():
    grads = make_grads(6)
    p = make_params()
    opt = O.Adam(p, lr=_schedule)
    run(opt, grads)
    q = make_params()
    by_hand = O.Adam(q, lr=1.0)
    for k, g in enumerate(grads):
        by_hand.param_groups[0]["lr"] = _schedule(k)
        by_hand.step(g)
    assert_arrays_bitwise(p, q)


def test_schedule_is_called_with_the_step_number():
    calls = []

    def lr(k):
        calls.append(k)
        return 0.01

    p = make_params()
    opt = O.Adam(p, lr=lr)
    del calls[:]  # the constructor may validate lr(0)
    grads = make_grads(5)
    run(opt, grads)
    assert calls == [0, 1, 2, 3, 4]
    # None gradients still count as a step of the optimizer
    opt.step([None] * len(p))
    assert calls[-1] == 5
    assert opt.state_dict()["step_count"] == 6


def test_schedule_resumes_from_step_count():
    calls = []

    def lr(k):
        calls.append(k)
        return 0.05 / (1 + k)

    grads = make_grads(7)
    p = make_params()
    whole = O.RMSprop(p, lr=lr, momentum=0.5)
    run(whole, grads)
    q = make_params()
    first = O.RMSprop(q, lr=lr, momentum=0.5)
    run(first, grads[:3])
    saved = first.state_dict()
    assert saved["step_count"] == 3
    r = copies(q)
    resumed = O.RMSprop(r, lr=lr, momentum=0.5)
    resumed.load_state_dict(saved)
    del calls[:]
    run(resumed, grads[3:])
    assert calls == [3, 4, 5, 6]
    assert_arrays_bitwise(r, p)
    assert_state_bitwise(resumed.state_dict(), whole.state_dict())


def test_schedule_and_float_lr_mix_across_groups():
    grads = make_grads(5)
    p = make_params()
    opt = O.SGD([{"params": p[:2], "lr": _schedule}, {"params": p[2:], "lr": 0.03}], momentum=0.9)
    run(opt, grads)
    q = make_params()
    o0, o1 = O.SGD(q[:2], lr=_schedule, momentum=0.9), O.SGD(q[2:], lr=0.03, momentum=0.9)
    for g in grads:
        o0.step(g[:2])
        o1.step(g[2:])
    assert_arrays_bitwise(p, q)


# ------------------------------------------------------------ None gradients
@pytest.mark.parametrize(("cls", "kw"), CONFIGS, ids=CONFIG_IDS)
def test_none_gradient_skips_param(cls, kw):
    """A None gradient leaves its parameter and that parameter's state (its
    step count included) untouched, as torch does for ``p.grad is None``."""
    grads = make_grads(6)
    skip = {1: {0, 2, 3}, 3: {1, 4}}  # param index -> steps where its grad is None
    p = make_params()
    opt = cls([{"params": p[:3]}, {"params": p[3:]}], **kw)
    for k, g in enumerate(grads):
        g = [None if k in skip.get(i, ()) else gi for i, gi in enumerate(g)]
        if k == 0:
            before = p[1].copy()
            opt.step(g)
            assert p[1].tobytes() == before.tobytes()
            assert 1 not in opt.state
            continue
        opt.step(g)
    # each parameter on its own, stepped only when its gradient was given
    q = make_params()
    for i in range(len(q)):
        single = cls([q[i]], **kw)
        for k, g in enumerate(grads):
            if k not in skip.get(i, ()):
                single.step([g[i]])
        assert q[i].tobytes() == p[i].tobytes(), i
        if single.state:
            assert_state_bitwise(opt.state[i], single.state[0])
        if "step" in single.state.get(0, {}):
            assert opt.state[i]["step"] == len(grads) - len(skip.get(i, ()))


def test_all_none_gradients_change_nothing():
    p = make_params()
    opt = O.Adam(p, lr=0.1)
    run(opt, make_grads(2))
    before_p, before = copies(p), opt.state_dict()
    opt.step([None] * len(p))
    assert_arrays_bitwise(p, before_p)
    assert_state_bitwise(opt.state_dict()["state"], before["state"])


# -------------------------------------------------- single arrays, sequences
@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_single_array_param_and_grad(cls):
    r = np.random.default_rng(3)
    grads = [r.standard_normal((4, 6)) for _ in range(3)]
    p = r.standard_normal((4, 6))
    q = p.copy()
    t = p.copy()
    a = cls(p, lr=0.01)
    b = cls([q], lr=0.01)
    c = cls([{"params": t, "lr": 0.01}])  # a group whose "params" is one array
    for g in grads:
        a.step(g)
        b.step([g])
        c.step((g,))
    assert p.tobytes() == q.tobytes() == t.tobytes()
    assert not np.array_equal(p, grads[0])  # it moved


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_gradients_need_not_be_contiguous_or_writeable(cls):
    """Gradients are only read: strided, Fortran-ordered and read-only
    gradients give exactly the result of their contiguous copies."""
    grads = make_grads(3)
    p, q = make_params(), make_params()
    a, b = cls(p, **_stateful(cls)), cls(q, **_stateful(cls))
    for g in grads:
        odd = []
        for x in g:
            if x.ndim == 2:
                y = np.asfortranarray(x)
            elif x.size:
                y = np.repeat(x, 2)[::2].reshape(x.shape)
            else:
                y = x.copy()
            y.flags.writeable = False
            odd.append(y)
        a.step(odd)
        b.step(g)
    assert_arrays_bitwise(p, q)


def test_zero_dimensional_param():
    p = np.array(1.0)
    opt = O.SGD(p, lr=0.5, momentum=0.9)
    opt.step(np.array(2.0))
    opt.step(np.array(2.0))
    # numpy: b = 2; p = 1 - 0.5*2 = 0; b = 0.9*2 + 2 = 3.8; p = 0 - 0.5*3.8
    assert p.shape == () and p == 0.0 + (-0.5) * (0.9 * 2.0 + 1.0 * 2.0)
    assert opt.state[0]["momentum_buffer"].shape == ()


# -------------------------------------- many small arrays = one call per array
@pytest.mark.parametrize(("cls", "kw"), CONFIGS, ids=CONFIG_IDS)
def test_many_small_arrays_equal_one_call_per_array(cls, kw, isa, threads):
    layout = [((n,), np.float32 if i % 2 else np.float64) for i, n in enumerate(SIZES * 3)]
    grads = make_grads(3, seed=7, layout=layout)
    p = make_params(seed=8, layout=layout)
    opt = cls(p, **kw)
    run(opt, grads)
    q = make_params(seed=8, layout=layout)
    singles = [cls([x], **kw) for x in q]
    for g in grads:
        for o, gi in zip(singles, g):
            o.step([gi])
    assert_arrays_bitwise(p, q)
    state = opt.state
    for i, o in enumerate(singles):
        if o.state:
            assert_state_bitwise(state[i], o.state[0])


def test_repr_lists_groups():
    opt = O.SGD([{"params": [np.zeros(2)]}, {"params": [np.zeros(3)], "lr": 0.5}], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 1" in text and "lr: 0.5" in text
