"""One table of bad inputs to the optimizers, each with the exception it must
raise and a regex its message must match.

Every row runs through the same check (``check_case``): two identical
optimizers are built and stepped twice; the bad call is made on one of them;
then its parameters, its state_dict (state, hyperparameters, step count) and
any array handed to the bad call must be bitwise what they were before, and
both optimizers, stepped on, must stay bitwise identical -- so nothing hidden
(a half-written plan, a counter) was changed either.

A gradient holding NaN or inf is not an error (torch propagates it); that is
tested at the end.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import gdcore as gd

O = gd.optim

ALL = (O.SGD, O.Adam, O.AdamW, O.RMSprop, O.Adagrad, O.Adadelta, O.Adamax, O.NAdam, O.RAdam, O.Lion)
WITH_BETAS = (O.Adam, O.AdamW, O.Adamax, O.NAdam, O.RAdam, O.Lion)
WITH_EPS = (O.Adam, O.AdamW, O.RMSprop, O.Adagrad, O.Adadelta, O.Adamax, O.NAdam, O.RAdam)

# Options that make each optimizer keep all the state it can.
STATEFUL = {
    O.SGD: dict(lr=0.1, momentum=0.9),
    O.Adam: dict(lr=0.01, amsgrad=True),
    O.AdamW: dict(lr=0.01),
    O.RMSprop: dict(lr=0.01, momentum=0.5, centered=True),
    O.Adagrad: dict(lr=0.1),
    O.Adadelta: dict(lr=1.0),
    O.Adamax: dict(lr=0.01),
    O.NAdam: dict(lr=0.01),
    O.RAdam: dict(lr=0.01),
    O.Lion: dict(lr=0.001),
}

# Four parameters, flattened indices 0..3, in one group or in two groups
# (the second with its own lr).  Both dtypes, a 2-D array and an empty one.
SHAPES = [((7,), np.float32), ((3, 4), np.float64), ((0,), np.float32), ((5,), np.float64)]
LAYOUTS = ("one-group", "two-groups")


def _params(seed):
    r = np.random.default_rng(seed)
    return [r.standard_normal(s).astype(d) for s, d in SHAPES]


def _grads(seed):
    return _params(100 + seed)


def _build(cls, layout, params):
    kw = STATEFUL[cls]
    if layout == "one-group":
        return cls(params, **kw)
    return cls([{"params": params[:2]}, {"params": params[2:], "lr": kw["lr"] / 2}], **kw)


class Ctx:
    """Two identical optimizers A and B, stepped twice; bad calls go to A."""

    def __init__(self, cls, layout):
        self.cls, self.layout, self.kw = cls, layout, STATEFUL[cls]
        self.pa, self.pb = _params(0), _params(0)
        self.A, self.B = _build(cls, layout, self.pa), _build(cls, layout, self.pb)
        for k in range(2):
            self.A.step(_grads(k))
            self.B.step(_grads(k))
        self.watched: list = []

    def good(self, k=2):
        return _grads(k)

    def watch(self, *arrays):
        """Arrays handed to the bad call: they must not be written either."""
        self.watched.extend(a for a in arrays if isinstance(a, np.ndarray))
        return arrays[0] if len(arrays) == 1 else arrays

    def last_group(self):
        return self.A.param_groups[-1]


@dataclasses.dataclass
class Case:
    id: str
    # prepare(ctx) sets things up (may change A.param_groups, as a user would)
    # and returns the bad call; the snapshot is taken between the two.
    prepare: Callable[[Ctx], Callable[[], Any]]
    exc: type
    match: str
    classes: Sequence[type] = ALL
    layouts: Sequence[str] = LAYOUTS


def _aliasing_grad(ctx, case_id):
    """The gradients of the aliasing cases: views of memory the step writes."""
    if case_id == "grad-views-another-param":
        return ctx.pa[1].reshape(-1)[:5]  # parameter 1 is (3, 4) float64
    state = ctx.A.state[3]
    return next(v for v in state.values() if isinstance(v, np.ndarray))


def _with_grad(i, value):
    def prepare(ctx):
        g = ctx.good()
        g[i] = value if value is not None else _aliasing_grad(ctx, ctx.case_id)
        ctx.watch(*[x for x in g if x is not None])
        return lambda: ctx.A.step(g)

    return prepare


def _step(grads_fn):
    def prepare(ctx):
        g = grads_fn(ctx)
        if isinstance(g, (list, tuple)):
            ctx.watch(*[x for x in g if isinstance(x, np.ndarray)])
        return lambda: ctx.A.step(g)

    return prepare


def _set_group(key, value, group=-1):
    """Change a hyperparameter in param_groups (the last group: in the
    two-group layout the first group is fine and must stay untouched)."""

    def prepare(ctx):
        ctx.A.param_groups[group][key] = value
        return lambda: ctx.A.step(ctx.good())

    return prepare


def _construct(make_params, **kw):
    def prepare(ctx):
        params = make_params(ctx)
        if isinstance(params, np.ndarray):
            ctx.watch(params)
        elif isinstance(params, list):
            for x in params:
                if isinstance(x, np.ndarray):
                    ctx.watch(x)
                elif isinstance(x, dict):
                    ps = x["params"]
                    ctx.watch(*([ps] if isinstance(ps, np.ndarray) else [p for p in ps if isinstance(p, np.ndarray)]))
        return lambda: ctx.cls(params, **{**ctx.kw, **kw})

    return prepare


def _add_group(make_group):
    def prepare(ctx):
        group = make_group(ctx)
        ps = group["params"]
        ctx.watch(*([ps] if isinstance(ps, np.ndarray) else [p for p in ps if isinstance(p, np.ndarray)]))
        return lambda: ctx.A.add_param_group(group)

    return prepare


def _fresh(shape=(4,), dtype=np.float64):
    return np.ones(shape, dtype)


def _readonly():
    a = _fresh()
    a.flags.writeable = False
    return a


def _swapped():
    return _fresh().astype(">f8")


CASES = [
    # ---- gradients -------------------------------------------------------
    Case("grad-shape", _with_grad(1, np.zeros(12)), ValueError,
         r"gradient 1 has shape \(12,\) but its parameter has shape \(3, 4\)"),
    Case("grad-shape-transposed", _with_grad(1, np.zeros((4, 3))), ValueError,
         r"gradient 1 has shape \(4, 3\) but its parameter has shape \(3, 4\)"),
    Case("grad-dtype", _with_grad(1, np.zeros((3, 4), np.float32)), ValueError,
         r"gradient 1 has dtype float32 but its parameter has dtype float64"),
    Case("grad-missing", _step(lambda ctx: ctx.good()[:3]), ValueError,
         r"expected 4 gradients \(one per parameter\), got 3"),
    Case("grad-extra", _step(lambda ctx: ctx.good() + [np.zeros(2)]), ValueError,
         r"expected 4 gradients \(one per parameter\), got 5"),
    Case("grads-empty-list", _step(lambda ctx: []), ValueError, r"expected 4 gradients .*got 0"),
    Case("grad-is-a-list", _with_grad(0, [0.0] * 7), TypeError,
         r"gradient 0 must be a numpy\.ndarray of float32 or float64, got list"),
    Case("grad-is-a-scalar", _with_grad(1, 1.0), TypeError, r"gradient 1 must be a numpy\.ndarray"),
    Case("grad-int-dtype", _with_grad(0, np.zeros(7, np.int32)), TypeError,
         r"gradient 0 must have dtype float32 or float64, got dtype int32"),
    Case("grad-float16", _with_grad(0, np.zeros(7, np.float16)), TypeError,
         r"gradient 0 must have dtype float32 or float64, got dtype float16"),
    Case("grad-complex", _with_grad(1, np.zeros((3, 4), np.complex128)), TypeError,
         r"gradient 1 must have dtype float32 or float64, got dtype complex128"),
    Case("grad-byteswapped", _with_grad(1, np.zeros((3, 4), ">f8")), TypeError,
         r"gradient 1 must be in native byte order"),
    Case("grads-not-a-sequence", _step(lambda ctx: 3), TypeError, r"grads must be a list of arrays"),
    Case("grads-none", _step(lambda ctx: None), TypeError, r"grads must be a list of arrays"),
    Case("grads-dict", _step(lambda ctx: {0: ctx.good()[0]}), TypeError, r"grads must be a list of arrays"),
    # only the second group's gradient is bad: the first group is untouched too
    Case("second-group-grad-shape", _with_grad(3, np.zeros(6)), ValueError,
         r"gradient \d has shape \(6,\) but its parameter has shape \(5,\)", layouts=("two-groups",)),
    Case("second-group-grad-dtype", _with_grad(3, np.zeros(5, np.float32)), ValueError,
         r"has dtype float32 but its parameter has dtype float64", layouts=("two-groups",)),
    Case("second-group-grad-type", _with_grad(3, [0.0] * 5), TypeError, r"must be a numpy\.ndarray",
         layouts=("two-groups",)),
    # the message names the gradient by its position in the list the user
    # passed (flattened param_groups order), as parameter errors do
    Case("second-group-grad-named-by-flat-index", _with_grad(3, np.zeros(6)), ValueError,
         r"gradient 3 has shape \(6,\)", classes=(O.SGD, O.Adam), layouts=("two-groups",)),
    # ---- gradients sharing memory with what the step writes ---------------
    # (the kernels take parameters, state and gradients as restrict pointers
    # and split them between threads: an overlap would give results that
    # depend on the ISA path and the thread count)
    Case("grad-views-another-param", _with_grad(3, None), ValueError,
         r"gradient 3 shares memory with parameter 1, which the step writes", layouts=("one-group",)),
    Case("grad-is-a-state-buffer", _with_grad(3, None), ValueError,
         r"gradient 3 shares memory with parameter 3 state buffer \d, which the step writes"),
    # ---- learning rate -----------------------------------------------------
    Case("lr-negative-ctor", _construct(lambda ctx: [_fresh()], lr=-0.1), ValueError,
         r"lr must be a finite number >= 0, got -0\.1", layouts=("one-group",)),
    Case("lr-nan-ctor", _construct(lambda ctx: [_fresh()], lr=float("nan")), ValueError,
         r"lr must be a finite number >= 0, got nan", layouts=("one-group",)),
    Case("lr-inf-ctor", _construct(lambda ctx: [_fresh()], lr=float("inf")), ValueError,
         r"lr must be a finite number >= 0, got inf", layouts=("one-group",)),
    Case("lr-none-ctor", _construct(lambda ctx: [_fresh()], lr=None), TypeError,
         r"lr must be a real number or a schedule", layouts=("one-group",)),
    # a string is not a learning rate (torch raises TypeError; gdcore rejects
    # strings for every other hyperparameter, see weight-decay-not-a-number)
    Case("lr-a-string-ctor", _construct(lambda ctx: [_fresh()], lr="0.1"), TypeError,
         r"lr must be a real number or a schedule", classes=(O.SGD, O.Adam), layouts=("one-group",)),
    Case("lr-schedule-negative-ctor", _construct(lambda ctx: [_fresh()], lr=lambda k: -1.0), ValueError,
         r"lr must be a finite number >= 0, got -1", layouts=("one-group",)),
    Case("lr-negative-in-group-ctor",
         _construct(lambda ctx: [{"params": [_fresh()]}, {"params": [_fresh()], "lr": -1.0}]), ValueError,
         r"lr must be a finite number >= 0, got -1", layouts=("one-group",)),
    Case("lr-negative-set-between-steps", _set_group("lr", -0.5), ValueError, r"lr must be a finite number >= 0, got -0\.5"),
    Case("lr-nan-set-between-steps", _set_group("lr", float("nan")), ValueError, r"lr must be a finite number >= 0, got nan"),
    Case("lr-none-set-between-steps", _set_group("lr", None), TypeError, r"lr must be a real number or a schedule"),
    Case("lr-schedule-goes-negative", _set_group("lr", lambda k: 0.01 - 0.01 * k), ValueError,
         r"lr must be a finite number >= 0, got -0\.01"),
    Case("lr-schedule-returns-nan", _set_group("lr", lambda k: float("nan")), ValueError, r"lr must be .*got nan"),
    Case("lr-schedule-raises", _set_group("lr", lambda k: 1 / 0), ZeroDivisionError, r"division by zero"),
    # ---- other hyperparameters ---------------------------------------------
    Case("beta1-one", _construct(lambda ctx: [_fresh()], betas=(1.0, 0.999)), ValueError,
         r"beta1 \(betas\[0\]\) must be in \[0, 1\), got 1", classes=WITH_BETAS, layouts=("one-group",)),
    Case("beta2-negative", _construct(lambda ctx: [_fresh()], betas=(0.9, -0.1)), ValueError,
         r"beta2 \(betas\[1\]\) must be in \[0, 1\), got -0\.1", classes=WITH_BETAS, layouts=("one-group",)),
    Case("beta1-nan", _construct(lambda ctx: [_fresh()], betas=(float("nan"), 0.9)), ValueError,
         r"beta1 .* got nan", classes=WITH_BETAS, layouts=("one-group",)),
    Case("betas-not-a-pair", _construct(lambda ctx: [_fresh()], betas=(0.9,)), ValueError,
         r"betas must be a pair", classes=WITH_BETAS, layouts=("one-group",)),
    Case("betas-a-number", _construct(lambda ctx: [_fresh()], betas=0.9), ValueError,
         r"betas must be a pair", classes=WITH_BETAS, layouts=("one-group",)),
    Case("betas-triple", _construct(lambda ctx: [_fresh()], betas=(0.9, 0.99, 0.999)), ValueError,
         r"betas must be a pair", classes=WITH_BETAS, layouts=("one-group",)),
    Case("beta2-one-set-between-steps", _set_group("betas", (0.9, 1.0)), ValueError,
         r"beta2 \(betas\[1\]\) must be in \[0, 1\)", classes=WITH_BETAS),
    Case("eps-negative", _construct(lambda ctx: [_fresh()], eps=-1e-8), ValueError,
         r"eps must be a finite number >= 0", classes=WITH_EPS, layouts=("one-group",)),
    Case("eps-negative-set-between-steps", _set_group("eps", -1.0), ValueError,
         r"eps must be a finite number >= 0, got -1", classes=WITH_EPS),
    Case("weight-decay-negative", _construct(lambda ctx: [_fresh()], weight_decay=-0.1), ValueError,
         r"weight_decay must be a finite number >= 0, got -0\.1", layouts=("one-group",)),
    Case("weight-decay-negative-set-between-steps", _set_group("weight_decay", -0.1), ValueError,
         r"weight_decay must be a finite number >= 0"),
    Case("weight-decay-not-a-number", _set_group("weight_decay", "0.1"), TypeError,
         r"weight_decay must be a real number, got str"),
    Case("momentum-negative", _construct(lambda ctx: [_fresh()], momentum=-0.9), ValueError,
         r"momentum must be a finite number >= 0", classes=(O.SGD, O.RMSprop), layouts=("one-group",)),
    Case("nesterov-zero-momentum", _construct(lambda ctx: [_fresh()], momentum=0.0, nesterov=True), ValueError,
         r"nesterov momentum requires a momentum > 0 and zero dampening", classes=(O.SGD,), layouts=("one-group",)),
    Case("nesterov-with-dampening", _construct(lambda ctx: [_fresh()], nesterov=True, dampening=0.1), ValueError,
         r"nesterov momentum requires", classes=(O.SGD,), layouts=("one-group",)),
    Case("nesterov-momentum-set-to-zero",
         lambda ctx: (ctx.A.param_groups[-1].update(nesterov=True, momentum=0.0), lambda: ctx.A.step(ctx.good()))[1],
         ValueError, r"nesterov momentum requires", classes=(O.SGD,)),
    Case("alpha-negative", _construct(lambda ctx: [_fresh()], alpha=-0.5), ValueError,
         r"alpha must be a finite number >= 0", classes=(O.RMSprop,), layouts=("one-group",)),
    Case("rho-above-one", _construct(lambda ctx: [_fresh()], rho=1.5), ValueError,
         r"rho must be in \[0, 1\], got 1\.5", classes=(O.Adadelta,), layouts=("one-group",)),
    Case("lr-decay-negative", _construct(lambda ctx: [_fresh()], lr_decay=-1.0), ValueError,
         r"lr_decay must be a finite number >= 0", classes=(O.Adagrad,), layouts=("one-group",)),
    Case("initial-accumulator-negative", _construct(lambda ctx: [_fresh()], initial_accumulator_value=-1.0),
         ValueError, r"initial_accumulator_value must be a finite number >= 0", classes=(O.Adagrad,),
         layouts=("one-group",)),
    Case("momentum-decay-negative", _construct(lambda ctx: [_fresh()], momentum_decay=-1.0), ValueError,
         r"momentum_decay must be a finite number >= 0", classes=(O.NAdam,), layouts=("one-group",)),
    Case("unknown-keyword", _construct(lambda ctx: [_fresh()], bogus=1.0), TypeError, r"bogus",
         layouts=("one-group",)),
    # ---- param groups ------------------------------------------------------
    Case("unknown-key-in-group-ctor", _construct(lambda ctx: [{"params": [_fresh()], "momentumm": 0.9}]), ValueError,
         r"unknown keys in param group: \['momentumm'\]", layouts=("one-group",)),
    Case("unknown-key-in-added-group", _add_group(lambda ctx: {"params": [_fresh()], "learning_rate": 0.1}),
         ValueError, r"unknown keys in param group: \['learning_rate'\]"),
    Case("added-group-without-params", lambda ctx: (lambda: ctx.A.add_param_group({"lr": 0.1})), ValueError,
         r"has no 'params' key"),
    Case("added-group-bad-lr", _add_group(lambda ctx: {"params": [_fresh()], "lr": -1.0}), ValueError,
         r"lr must be a finite number >= 0"),
    Case("added-group-read-only-param", _add_group(lambda ctx: {"params": [_fresh(), _readonly()]}), ValueError,
         r"parameter 5 is read-only"),
    Case("added-group-not-a-dict", lambda ctx: (lambda: ctx.A.add_param_group([_fresh()])), TypeError,
         r"param group must be a dict"),
    Case("added-group-params-a-set", lambda ctx: (lambda: ctx.A.add_param_group({"params": {1, 2}})), TypeError,
         r"not a set"),
    Case("duplicate-params-ctor", _construct(lambda ctx: [ctx.watch(_fresh())] * 2), ValueError,
         r"more than once", layouts=("one-group",)),
    Case("duplicate-params-across-groups-ctor",
         _construct(lambda ctx: (lambda a: [{"params": [a]}, {"params": [_fresh(), a]}])(_fresh())), ValueError,
         r"more than once", layouts=("one-group",)),
    Case("added-group-repeats-a-param", _add_group(lambda ctx: {"params": [_fresh(), ctx.pa[0]]}), ValueError,
         r"more than once"),
    Case("empty-param-list", _construct(lambda ctx: []), ValueError, r"empty parameter list", layouts=("one-group",)),
    Case("params-a-bare-dict", _construct(lambda ctx: {"params": [_fresh()]}), TypeError,
         r"wrap a single param group in a list", layouts=("one-group",)),
    Case("params-not-iterable", _construct(lambda ctx: 3.0), TypeError, r"params must be an array", layouts=("one-group",)),
    # ---- parameters at construction ----------------------------------------
    Case("param-non-contiguous", _construct(lambda ctx: [_fresh(), np.ones(8)[::2]]), ValueError,
         r"parameter 1 must be C-contiguous", layouts=("one-group",)),
    Case("param-fortran-order", _construct(lambda ctx: [np.asfortranarray(np.ones((3, 4)))]), ValueError,
         r"parameter 0 must be C-contiguous", layouts=("one-group",)),
    Case("param-read-only", _construct(lambda ctx: [_readonly()]), ValueError, r"parameter 0 is read-only",
         layouts=("one-group",)),
    Case("param-read-only-second-group", _construct(lambda ctx: [{"params": [_fresh()]}, {"params": [_readonly()]}]),
         ValueError, r"parameter 1 is read-only", layouts=("one-group",)),
    Case("param-int", _construct(lambda ctx: [np.zeros(3, np.int64)]), TypeError,
         r"parameter 0 must have dtype float32 or float64, got int64", layouts=("one-group",)),
    Case("param-float16", _construct(lambda ctx: [np.zeros(3, np.float16)]), TypeError,
         r"parameter 0 must have dtype float32 or float64", layouts=("one-group",)),
    Case("param-byteswapped", _construct(lambda ctx: [_swapped()]), TypeError, r"parameter 0 must (be in native byte order|have dtype float32 or float64, got >f8)",
         layouts=("one-group",)),
    Case("param-a-list", _construct(lambda ctx: [[1.0, 2.0]]), TypeError, r"parameter 0 must be a numpy\.ndarray",
         layouts=("one-group",)),
    Case("param-a-scalar", _construct(lambda ctx: [_fresh(), 1.0]), TypeError, r"parameter 1 must be a numpy\.ndarray",
         layouts=("one-group",)),
    Case("params-a-set", _construct(lambda ctx: [{"params": {1.0}}]), TypeError, r"not a set", layouts=("one-group",)),
]


def _rows():
    for case in CASES:
        for cls in case.classes:
            for layout in case.layouts:
                yield pytest.param(case, cls, layout, id=f"{case.id}-{cls.__name__}-{layout}")


def _fingerprint(x):
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, float):
        return ("float", struct.pack("<d", x))
    if isinstance(x, dict):
        return ("dict", tuple(sorted((str(k), _fingerprint(v)) for k, v in x.items())))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_fingerprint(v) for v in x))
    if callable(x):
        return ("callable", id(x))
    return (type(x).__name__, repr(x))


def _snapshot(ctx):
    return (
        [p.copy() for p in ctx.pa],
        _fingerprint(ctx.A.state_dict()),
        _fingerprint(dict(ctx.A.state)),
        [(a, a.copy()) for a in ctx.watched],
        len(ctx.A.param_groups),
    )


def _restore_groups(ctx):
    """Undo what the row did to A.param_groups, from B's."""
    for ga, gb in zip(ctx.A.param_groups, ctx.B.param_groups):
        for k, v in gb.items():
            if k != "params":
                ga[k] = v


def check_case(case: Case, cls: type, layout: str) -> None:
    ctx = Ctx(cls, layout)
    ctx.case_id = case.id
    call = case.prepare(ctx)
    params_before, sd_before, state_before, watched, n_groups = _snapshot(ctx)
    with pytest.raises(case.exc, match=case.match):
        call()
    # nothing was written
    for i, (p, before) in enumerate(zip(ctx.pa, params_before)):
        assert p.tobytes() == before.tobytes(), f"parameter {i} was modified by a call that raised"
    for a, before in watched:
        assert a.tobytes() == before.tobytes(), "an array passed to the failing call was modified"
    assert len(ctx.A.param_groups) == n_groups
    assert _fingerprint(ctx.A.state_dict()) == sd_before, "state_dict changed by a call that raised"
    assert _fingerprint(dict(ctx.A.state)) == state_before
    # and nothing hidden changed: A carries on exactly like B
    _restore_groups(ctx)
    for k in (2, 3):
        ctx.A.step(ctx.good(k))
        ctx.B.step(ctx.good(k))
    for i, (a, b) in enumerate(zip(ctx.pa, ctx.pb)):
        assert a.tobytes() == b.tobytes(), f"parameter {i} diverged after the failing call"
    assert _fingerprint(ctx.A.state_dict()) == _fingerprint(ctx.B.state_dict())


@pytest.mark.parametrize(("case", "cls", "layout"), list(_rows()))
def test_bad_input(case, cls, layout):
    check_case(case, cls, layout)


def test_every_optimizer_is_in_the_table():
    for must in ("grad-shape", "grad-dtype", "grad-missing", "lr-negative-ctor", "lr-negative-set-between-steps",
                 "lr-schedule-goes-negative", "second-group-grad-shape"):
        (case,) = [c for c in CASES if c.id == must]
        assert set(case.classes) == set(ALL), must
    assert {c for case in CASES for c in case.classes} == set(ALL)
    assert all(c.__name__ in O.__all__ for c in ALL)
    # every optimizer exported by gdcore.optim is covered
    exported = {getattr(O, n) for n in O.__all__ if isinstance(getattr(O, n), type)
                and issubclass(getattr(O, n), O.Optimizer) and getattr(O, n) is not O.Optimizer}
    assert exported == set(ALL)


def test_nonfinite_error_is_both_value_and_runtime_error():
    assert issubclass(O.NonFiniteNormError, ValueError) and issubclass(O.NonFiniteNormError, RuntimeError)


# ----------------------------------------------------- NaN/inf in gradients
# What torch.optim gives, element by element, for a gradient of +inf / -inf
# on the first step with the defaults (p = 1, lr = 0.1): SGD and RAdam (whose
# first steps are un-rectified SGD-with-momentum) step to -/+inf, Lion takes
# sign(inf) = 1, and the adaptive methods compute inf/inf = NaN.
INF_RESULT = {
    O.SGD: (-np.inf, np.inf),
    O.RAdam: (-np.inf, np.inf),
    O.Lion: (0.9, 1.1),
}


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nonfinite_gradient_propagates_without_error(cls, dtype):
    n = 37
    r = np.random.default_rng(5)
    g = r.standard_normal(n).astype(dtype)
    bad = g.copy()
    bad[[3, 20]] = np.nan
    bad[5] = np.inf
    bad[33] = -np.inf
    p = np.ones(n, dtype)
    q = np.ones(n, dtype)
    a, b = cls([p], lr=0.1), cls([q], lr=0.1)
    a.step([bad])  # no exception
    b.step([g])
    finite = np.ones(n, bool)
    finite[[3, 5, 20, 33]] = False
    # every other element is exactly what a clean step gives
    assert p[finite].tobytes() == q[finite].tobytes()
    assert np.isnan(p[[3, 20]]).all()
    plus, minus = INF_RESULT.get(cls, (np.nan, np.nan))
    np.testing.assert_array_equal(p[[5, 33]], np.array([plus, minus], dtype))
    # NaN sits in the state too and stays there on later clean steps
    a.step([g])
    b.step([g])
    assert np.isnan(p[[3, 20]]).all()
    assert p[finite].tobytes() == q[finite].tobytes()


def test_nonfinite_gradient_in_one_array_leaves_the_others_alone():
    ps = [np.ones(9), np.ones(4, np.float32)]
    qs = [np.ones(9), np.ones(4, np.float32)]
    a, b = O.Adam(ps, lr=0.1), O.Adam(qs, lr=0.1)
    g = [np.full(9, np.nan), np.arange(4, dtype=np.float32)]
    a.step(g)
    b.step([np.zeros(9), g[1]])
    assert np.isnan(ps[0]).all()
    assert ps[1].tobytes() == qs[1].tobytes()


def test_the_check_notices_a_write():
    """check_case itself: a call that writes a parameter, or changes hidden
    state, before raising is caught."""

    def writes_param(ctx):
        def call():
            ctx.pa[0][0] += 1.0
            raise ValueError("boom")

        return call

    def steps_then_raises(ctx):
        def call():
            ctx.A.step([None, None, None, ctx.good()[3]])
            raise ValueError("boom")

        return call

    for prepare in (writes_param, steps_then_raises):
        with pytest.raises(AssertionError):
            check_case(Case("meta", prepare, ValueError, "boom"), O.Adam, "two-groups")


# ---------------------------------------------- memory the optimizer holds
def test_params_sharing_memory_are_refused_before_any_write():
    buf = np.ones(10)
    for cls in ALL:
        opt = cls([buf[:6], buf[4:]], **STATEFUL[cls])
        with pytest.raises(ValueError, match="parameter 0 and parameter 1 share memory"):
            opt.step([np.ones(6), np.ones(6)])
        np.testing.assert_array_equal(buf, 1.0)


def test_a_gradient_may_be_its_own_parameter():
    # each element is read before it is written: the same as a copy
    for cls in ALL:
        p, q = _params(0)[1], _params(0)[1]
        a, b = cls([p], **STATEFUL[cls]), cls([q], **STATEFUL[cls])
        for _ in range(3):
            a.step([p])
            b.step([q.copy()])
        assert p.tobytes() == q.tobytes(), cls.__name__


def test_parameter_reshaped_resized_or_state_frozen_after_the_first_step():
    for cls in ALL:
        p = np.linspace(-1.0, 1.0, 6)
        opt = cls([p], **STATEFUL[cls])
        opt.step([np.ones(6)])
        # a new shape of the same memory is taken, and checked against
        p.shape = (2, 3)
        with pytest.raises(ValueError, match=r"gradient 0 has shape \(6,\) but its parameter has shape \(2, 3\)"):
            opt.step([np.ones(6)])
        # ... stepping as the flat parameter would (the same elements)
        flat = np.linspace(-1.0, 1.0, 6)
        ref = cls([flat], **STATEFUL[cls])
        ref.step([np.ones(6)])
        opt.step([np.full((2, 3), 0.5)])
        ref.step([np.full(6, 0.5)])
        assert p.shape == (2, 3) and p.tobytes() == flat.tobytes()
        # new memory (an in-place resize) is an error, nothing written
        r = np.zeros(6)
        opt = cls([r], **STATEFUL[cls])
        opt.step([np.ones(6)])
        before = r.copy()
        r.resize(8, refcheck=False)
        with pytest.raises(ValueError, match="parameter 0 was resized or moved in memory"):
            opt.step([np.ones(8)])
        np.testing.assert_array_equal(r[:6], before)
        # a state buffer made read-only
        q = np.ones(4)
        opt = cls([q], **STATEFUL[cls])
        opt.step([np.ones(4)])
        bufs = [v for v in opt.state[0].values() if isinstance(v, np.ndarray)]
        bufs[0].flags.writeable = False
        saved = [v.copy() for v in bufs] + [q.copy()]
        with pytest.raises(ValueError, match="parameter 0 state buffer \\d is read-only"):
            opt.step([np.ones(4)])
        for v, w in zip(bufs + [q], saved):
            np.testing.assert_array_equal(v, w)


def test_adagrad_initial_accumulator_is_checked_when_the_state_is_made():
    p = np.ones(3)
    opt = O.Adagrad([p])
    opt.param_groups[0]["initial_accumulator_value"] = -5.0
    with pytest.raises(ValueError, match="initial_accumulator_value must be a finite number >= 0"):
        opt.step([np.ones(3)])
    np.testing.assert_array_equal(p, 1.0)
    opt.param_groups[0]["initial_accumulator_value"] = 0.5
    opt.step([np.ones(3)])  # torch: sum = 0.5 + g^2, p -= lr g / (sqrt(sum) + eps)
    np.testing.assert_allclose(p, 1.0 - 0.01 / (np.sqrt(1.5) + 1e-10), rtol=1e-15)


def test_gradient_overlap_found_among_many_disjoint_params():
    # parameters cut from one buffer (disjoint, adjacent, some empty), each
    # gradient either fresh memory or a window of that buffer: refused
    # exactly when the window meets memory the step writes (another
    # parameter, or part of its own parameter) -- against a brute-force check
    rng = np.random.default_rng(5)
    for trial in range(200):
        cuts = np.sort(rng.choice(np.arange(1, 200), size=12, replace=False))
        edges = np.concatenate([[0], cuts, [200]])
        buf = np.zeros(200)
        params = [buf[a:b] for a, b in zip(edges[:-1], edges[1:])]
        params.append(buf[5:5])  # an empty one, inside another's memory
        opt = O.SGD(params, lr=0.5)
        k = int(rng.integers(0, len(params) - 1))
        n = params[k].size
        start = int(rng.integers(-n, 200 + n))
        window = buf[start:start + n] if 0 <= start and start + n <= 200 else None
        grads = [np.ones(p.size) for p in params]
        if window is not None:
            grads[k] = window
        lo, hi = edges[k], edges[k + 1]
        clash = window is not None and n > 0 and not (start == lo)
        before = buf.copy()
        if clash:
            with pytest.raises(ValueError, match=f"gradient {k} shares memory with parameter"):
                opt.step(grads)
            np.testing.assert_array_equal(buf, before)
        else:
            opt.step(grads)
