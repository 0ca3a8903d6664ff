r"""Minimise a function of a vector with gdcore's optimizers, scipy-style.

:func:`minimize` runs one of :mod:`gdcore.optim`'s optimizers on
:math:`f: \mathbb R^n \to \mathbb R` and returns an :class:`OptimizeResult`
with scipy's fields plus the trajectory (for plots).  With no ``lr`` it
chooses and adapts the step size itself, so the defaults just work.
:func:`check_grad` compares an analytic gradient with finite differences.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from . import optim as _optim
from .landscapes import Landscape

__all__ = ["OPTIMIZERS", "GradCheckResult", "OptimizeResult", "check_grad", "minimize"]

_F64 = np.dtype(np.float64)
_INF = math.inf
_EPS = float(np.finfo(np.float64).eps)

# Named optimizers: constructor and the options that differ from its defaults.
OPTIMIZERS: Dict[str, Tuple[type, Dict[str, Any]]] = {
    "sgd": (_optim.SGD, {}),
    "momentum": (_optim.SGD, {"momentum": 0.9}),
    "nesterov": (_optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "adam": (_optim.Adam, {}),
    "adamw": (_optim.AdamW, {"weight_decay": 0.0}),
    "rmsprop": (_optim.RMSprop, {}),
    "adagrad": (_optim.Adagrad, {}),
    "adadelta": (_optim.Adadelta, {}),
    "adamax": (_optim.Adamax, {}),
    "nadam": (_optim.NAdam, {}),
    "radam": (_optim.RAdam, {}),
    "lion": (_optim.Lion, {}),
}
"""``minimize``'s optimizer names: ``name -> (class, options)``."""

DEFAULT_MAX_ITER = 200_000
MAX_TRAJECTORY = 2000  # kept points, first and last included
_TRAJECTORY_FLOATS = 4_000_000  # cap on the trajectory buffer (32 MB) for large n

# Step-size control with lr=None (see minimize's docstring).
_SHRINK = 0.5  # lr factor after a rejected step
_GROW = 1.02  # lr factor after an accepted step
_ARMIJO = 1e-4  # sufficient-decrease constant of the initial search
_BAND = 1e-9  # relative rise tolerated when the trapezoid rule shows a decrease
_PROGRESS = 64.0 * _EPS  # relative decrease of f that counts as progress
_PATIENCE = 300  # steps without progress before giving up (status 4)
_NONFINITE_LIMIT = 60  # non-finite trial points in a row before status 2
_MOMENTUM_BUFFERS = ("exp_avg", "momentum_buffer")  # zeroed on a rejected step

# scipy.optimize.minimize's keywords that minimize does not take, and why.
_SCIPY_ONLY = {
    "method": "choose the optimizer with optimizer=...",
    "bounds": "unconstrained gradient descent",
    "constraints": "unconstrained gradient descent",
    "hess": "first-order methods use the gradient only",
    "hessp": "first-order methods use the gradient only",
    "options": "pass max_iter=... and tol=... (the gradient's Euclidean norm) directly",
}


class OptimizeResult(dict):
    """The result of :func:`minimize`: a dict whose keys are also attributes
    (as ``scipy.optimize.OptimizeResult``).

    Fields: ``x`` (the solution), ``fun`` and ``jac`` (value and gradient at
    ``x``), ``nit`` (optimizer steps taken), ``nfev`` and ``njev`` (function
    and gradient evaluations), ``success``, ``status``, ``message``,
    ``trajectory_x`` (``(m, n)`` array of iterates), ``trajectory_f``
    (``(m,)``), ``trajectory_iter`` (``(m,)``, the iteration of each row),
    ``lr`` (the final learning rate), ``nreject`` (rejected steps) and
    ``optimizer`` (the optimizer instance, holding its state).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__  # type: ignore[assignment]
    __delattr__ = dict.__delitem__  # type: ignore[assignment]

    def __dir__(self) -> list:
        return list(self.keys())

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        width = max(len(k) for k in self) + 1
        lines = []
        for k, v in self.items():
            if isinstance(v, np.ndarray):
                text = np.array2string(v, threshold=8, edgeitems=2, prefix=" " * (width + 2))
            elif isinstance(v, _optim.Optimizer):
                text = f"<{type(v).__name__}>"
            else:
                text = repr(v)
            lines.append(f"{k.rjust(width)}: {text}")
        return "\n".join(lines)


class GradCheckResult(OptimizeResult):
    """The result of :func:`check_grad` (a dict with attribute access).

    Fields: ``ok``, ``max_abs_error``, ``rel_error``, ``bad_indices``,
    ``grad`` (analytic), ``numeric`` (finite differences), ``abs_error``
    (per element) and ``eps`` (the steps used).
    """


# ---------------------------------------------------------------- validation
def _real(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{what} must not be NaN")
    return value


def _as_x0(x0: Any) -> np.ndarray:
    if isinstance(x0, (str, bytes)):
        raise TypeError(f"x0 must be a 1-D array of real numbers, got {type(x0).__name__}")
    arr = np.asarray(x0)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"x0 must be a 1-D array of real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(
            f"x0 must be 1-D, got shape {arr.shape} (use x0.ravel() and reshape inside fun)"
        )
    if arr.size == 0:
        raise ValueError("x0 must not be empty")
    out = np.array(arr, dtype=_F64, order="C", copy=True)
    if not np.isfinite(out).all():
        raise ValueError("x0 must be finite")
    return out


def _scalar(f: Any) -> float:
    """fun's value as a Python float: a real number, or anything
    ``np.asarray`` turns into a size-1 array of real numbers (a numpy scalar
    or array, a 0-d torch tensor, ...)."""
    if type(f) is float:
        return f
    if isinstance(f, float):  # numpy.float64
        return float(f)
    detail = ""
    if not isinstance(f, (bool, np.bool_, str, bytes)):
        try:
            arr = np.asarray(f)
        except Exception as exc:  # e.g. a tensor that requires grad
            detail = f" (np.asarray failed: {exc})"
        else:
            if arr.size == 1 and arr.dtype.kind in "iuf":
                return float(arr.reshape(()))
            if arr.dtype.kind in "iuf":
                detail = f" of shape {arr.shape}"
            elif arr.dtype.kind != "O":
                detail = f" of dtype {arr.dtype}"
    raise TypeError(
        f"fun must return a real scalar (or a size-1 array), got {type(f).__name__}{detail}"
    )


def _put_grad(g: Any, out: np.ndarray) -> None:
    """Copy a gradient into ``out`` after checking its shape and type."""
    if type(g) is np.ndarray and g.shape == out.shape and g.dtype.kind in "iuf":
        np.copyto(out, g)
        return
    arr = np.asarray(g)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"the gradient must be an array of real numbers, got dtype {arr.dtype}")
    if arr.shape != out.shape:
        raise ValueError(
            f"the gradient has shape {arr.shape}; expected {out.shape}, the shape of x0"
        )
    np.copyto(out, arr)


def _norm(g: np.ndarray, small: bool) -> float:
    """Euclidean norm without numpy overflow warnings (inf/nan pass through)."""
    if small:
        return math.hypot(*g.tolist())
    with np.errstate(over="ignore", invalid="ignore"):
        s = float(np.dot(g, g))
    if s < _INF:
        return math.sqrt(s)
    if np.isnan(s):
        return s
    return math.hypot(*g.tolist())  # overflow of the square: scale properly


def _fd_gradient(fval: Callable[[np.ndarray], float], x: np.ndarray, out: np.ndarray) -> int:
    """Central differences into ``out``; returns the number of evaluations."""
    h0 = _EPS ** (1.0 / 3.0)
    for i in range(x.size):
        xi = float(x[i])
        h = h0 * max(1.0, abs(xi))
        xp = x.copy()
        xp[i] = xi + h
        xm = x.copy()
        xm[i] = xi - h
        out[i] = (fval(xp) - fval(xm)) / (float(xp[i]) - float(xm[i]))
    return 2 * x.size


def _pair(r: Any) -> Any:
    """fun's result with jac=True: a tuple or list of two items."""
    if isinstance(r, (tuple, list)) and len(r) == 2:
        return r
    what = type(r).__name__
    if isinstance(r, (tuple, list)):
        what += f" of length {len(r)}"
    raise TypeError(f"with jac=True, fun must return a pair (value, gradient), got {what}")


def _make_evaluators(
    fun: Callable, jac: Any, args: tuple
) -> Tuple[Callable[[np.ndarray, np.ndarray], float], Callable[[np.ndarray], float], list]:
    """(value-and-gradient into a buffer, value only, [nfev, njev] counters)."""
    counts = [0, 0]

    if jac is True:

        def both(x: np.ndarray, out: np.ndarray) -> float:
            counts[0] += 1
            counts[1] += 1
            r = fun(x, *args)
            f, g = r if type(r) is tuple and len(r) == 2 else _pair(r)
            _put_grad(g, out)
            return _scalar(f)

        def value(x: np.ndarray) -> float:
            counts[0] += 1
            counts[1] += 1
            return _scalar(_pair(fun(x, *args))[0])

    elif callable(jac):

        def both(x: np.ndarray, out: np.ndarray) -> float:
            counts[0] += 1
            counts[1] += 1
            f = _scalar(fun(x, *args))
            _put_grad(jac(x, *args), out)
            return f

        def value(x: np.ndarray) -> float:
            counts[0] += 1
            return _scalar(fun(x, *args))

    else:

        def value(x: np.ndarray) -> float:
            counts[0] += 1
            return _scalar(fun(x, *args))

        def both(x: np.ndarray, out: np.ndarray) -> float:
            f = value(x)
            counts[1] += 1
            _fd_gradient(value, x, out)
            return f

    return both, value, counts


def _check_nonneg(value: Any, what: str) -> float:
    v = _real(value, what)
    if v < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")
    return v


def _make_optimizer(
    optimizer: Any, x: np.ndarray, lr: Any, options: Dict[str, Any]
) -> Tuple[np.ndarray, Callable[[Any], Any], Any, Dict[str, Any]]:
    """Validate ``optimizer`` and build it on the parameter.

    Returns ``(param, factory, optimizer, group)``: the array minimize
    updates (``x`` itself, or an instance's parameter holding a copy of
    ``x``), ``factory(lr)`` giving the optimizer in fresh state with that
    learning rate, the optimizer and the param group holding the parameter.
    """
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)} "
                "(or pass a gdcore.optim optimizer instance)"
            )
        cls, preset = OPTIMIZERS[key]
        kwargs = dict(preset)
        kwargs.update(options)
        if "lr" in kwargs or "params" in kwargs:
            raise TypeError("pass the learning rate as minimize(..., lr=...)")

        def factory(rate: Any) -> Any:
            return cls([x], lr=rate, **kwargs)

        try:
            first = factory(1e-3 if lr is None else lr)
        except TypeError as exc:
            raise TypeError(f"optimizer {key!r}: {exc}") from None
        return x, factory, first, first.param_groups[0]
    if not isinstance(optimizer, _optim.Optimizer):
        raise TypeError(
            "optimizer must be a name (" + ", ".join(OPTIMIZERS) + ") or a gdcore.optim "
            f"optimizer instance, got {type(optimizer).__name__}"
        )
    if options:
        raise TypeError(
            "optimizer options (" + ", ".join(sorted(options)) + ") can only be given "
            "with an optimizer name; configure the instance instead"
        )
    found = [(p, grp) for grp in optimizer.param_groups for p in grp["params"]]
    if len(found) != 1:
        raise ValueError(
            "an optimizer instance passed to minimize must hold exactly one parameter, "
            f"it holds {len(found)}"
        )
    p, group = found[0]
    if not isinstance(p, np.ndarray) or p.dtype != _F64 or p.shape != x.shape:
        raise ValueError(
            f"the optimizer's parameter must be a float64 array of shape {x.shape} (the "
            f"shape of x0), got {getattr(p, 'dtype', type(p).__name__)} of shape {np.shape(p)}"
        )
    if lr is not None:
        group["lr"] = lr
    template = optimizer.state_dict()
    p[...] = x

    def reset(rate: Any) -> Any:
        optimizer.load_state_dict(
            {"state": {}, "param_groups": template["param_groups"], "step_count": 0}
        )
        for grp in optimizer.param_groups:
            grp["lr"] = rate
        return optimizer

    return p, reset, optimizer, group


def _wants_result(callback: Callable) -> bool:
    try:
        sig = inspect.signature(callback)
    except (TypeError, ValueError):
        return False
    return set(sig.parameters) == {"intermediate_result"}


def _trajectory_rows(n: int) -> int:
    """The most rows a trajectory of ``n``-vectors keeps: 2000, fewer so that
    they hold at most 4 million numbers, and never fewer than 2 (x0 and x)."""
    return max(2, min(MAX_TRAJECTORY, _TRAJECTORY_FLOATS // n))


class _Trajectory:
    """Iterates kept at a doubling stride: at most ``cap`` rows, first and
    last included.  With ``cap == 2`` only x0 and the final point are kept."""

    __slots__ = ("x", "f", "it", "count", "stride", "next_k", "last_k", "cap")

    def __init__(self, n: int) -> None:
        cap = _trajectory_rows(n)
        self.cap = cap
        self.x = np.empty((cap, n))
        self.f = np.empty(cap)
        self.it = np.empty(cap, dtype=np.int64)
        self.count = 0
        self.stride = 1
        self.next_k = 0
        self.last_k = -1

    def add(self, k: int, x: np.ndarray, f: float, it: int) -> None:
        # k: index of the accepted iterate (0 = x0); called only when k == next_k.
        if self.count == self.cap - 1:  # keep one row for the final point
            keep = slice(0, self.count, 2)
            c = len(range(0, self.count, 2))
            self.x[:c] = self.x[keep]
            self.f[:c] = self.f[keep]
            self.it[:c] = self.it[keep]
            self.count = c
            self.stride *= 2
            if k % self.stride:
                self.next_k = (k // self.stride + 1) * self.stride
                return
        self.x[self.count] = x
        self.f[self.count] = f
        self.it[self.count] = it
        self.count += 1
        self.last_k = k
        # Thinning needs 3 rows; with 2, x0 is the only row kept before finish.
        self.next_k = k + self.stride if self.cap > 2 else -1

    def finish(
        self, k: int, x: np.ndarray, f: float, it: int
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.last_k != k:
            self.x[self.count] = x
            self.f[self.count] = f
            self.it[self.count] = it
            self.count += 1
        c = self.count
        return self.x[:c].copy(), self.f[:c].copy(), self.it[:c].copy()


def _trapezoid(g0: np.ndarray, g1: np.ndarray, x1: np.ndarray, x0: np.ndarray) -> float:
    """The change of f from x0 to x1 by the trapezoid rule on its gradients,
    (g0 + g1) . (x1 - x0) / 2: exact for quadratics, and free of the
    rounding error of f's values (which dominates near a minimum)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return 0.5 * float(np.dot(g0 + g1, x1 - x0))


def _group_of(opt: Any, p: np.ndarray) -> Dict[str, Any]:
    for grp in opt.param_groups:
        for q in grp["params"]:
            if q is p:
                return grp
    raise RuntimeError("the optimizer no longer holds the parameter")  # pragma: no cover


class _Snapshot:
    """The optimizer's state at the saved point (after the last accepted
    step), restored through ``load_state_dict`` after a rejected step.

    Kept: copies of the state arrays (momentum excepted: a rejected step
    zeroes it), the scalars (``step``, NAdam's ``mu_product``), the param
    groups and ``step_count``.  Every accepted step is one ``step()`` call
    past the saved point, so ``step`` and ``step_count`` are counted rather
    than read; other scalars are read from ``opt.state``.
    """

    __slots__ = ("arrays", "zeros", "zero", "scalars", "read", "groups", "step_count")

    def __init__(self, opt: Any, x: np.ndarray) -> None:
        sd = opt.state_dict()
        entry = sd["state"].get(0, {})
        live = opt.state.get(0, {})
        # (name, live buffer, saved copy)
        self.arrays = [
            (name, live[name], v)
            for name, v in entry.items()
            if isinstance(v, np.ndarray) and name not in _MOMENTUM_BUFFERS
        ]
        self.zeros = [name for name in entry if name in _MOMENTUM_BUFFERS]
        self.zero = np.zeros_like(x)
        self.scalars = {name: v for name, v in entry.items() if not isinstance(v, np.ndarray)}
        self.read = any(name != "step" for name in self.scalars)
        self.groups = sd["param_groups"]  # lr is set after each restore
        self.step_count = sd["step_count"]

    def update(self, opt: Any) -> None:
        """Save the state after an accepted step (arrays other than momentum)."""
        for _, live, saved in self.arrays:
            np.copyto(saved, live)
        self.step_count += 1
        if self.read:
            entry = opt.state[0]
            for name in self.scalars:
                self.scalars[name] = entry[name]
        elif "step" in self.scalars:
            self.scalars["step"] += 1.0

    def restore(self, opt: Any) -> None:
        """Load the saved state into ``opt``, momentum zeroed."""
        entry: Dict[str, Any] = {name: saved for name, _, saved in self.arrays}
        for name in self.zeros:
            entry[name] = self.zero
        entry.update(self.scalars)
        opt.load_state_dict(  # copies the arrays
            {
                "state": {0: entry} if entry else {},
                "param_groups": self.groups,
                "step_count": self.step_count,
            }
        )
        if self.arrays:  # the loaded buffers are new arrays
            live = opt.state[0]
            self.arrays = [(name, live[name], saved) for name, _, saved in self.arrays]


def _initial_lr(
    value: Callable[[np.ndarray], float],
    x: np.ndarray,
    f0: float,
    g0: np.ndarray,
    factory: Callable[[float], Any],
    fallback: float,
) -> float:
    """Backtracking/expanding line search along the optimizer's first step.

    From fresh state every optimizer's first step is linear in lr:
    ``x1 = x0 + lr * d``.  One probe step with lr=1 gives ``d``; the search
    then finds ``s`` with ``f(x0 + s d)`` about minimal along the ray (within
    a factor 2) and Armijo's condition holding, and returns ``s``.
    """
    x0 = x.copy()
    probe = factory(1.0)
    probe.step([g0])
    d = x - x0
    x[...] = x0
    with np.errstate(over="ignore", invalid="ignore"):
        dmax = float(np.max(np.abs(d)))
        slope = float(np.dot(g0, d))
    if not (0.0 < dmax < _INF) or not math.isfinite(slope):
        return fallback
    scale = max(1.0, float(np.max(np.abs(x0))))
    s = 1e-3 * scale / dmax

    def phi(t: float) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            xt = x0 + t * d
        if not np.isfinite(xt).all():
            return _INF
        v = value(xt)
        return v if v == v else _INF

    def armijo(t: float, v: float) -> bool:
        if slope < 0:
            return v <= f0 + _ARMIJO * t * slope
        return v < f0

    v = phi(s)
    if armijo(s, v):
        for _ in range(60):
            v2 = phi(2.0 * s)
            if not (v2 < v and armijo(2.0 * s, v2)):
                break
            s, v = 2.0 * s, v2
        return s
    for _ in range(80):
        s *= 0.5
        v = phi(s)
        if armijo(s, v):
            return s
    return s


# -------------------------------------------------------------------- minimize
def minimize(
    fun: Callable[..., Any],
    x0: Any,
    jac: Union[None, bool, Callable[..., Any]] = None,
    optimizer: Any = "adam",
    lr: Union[None, float, Callable[[int], float]] = None,
    max_iter: Optional[int] = None,
    tol: float = 1e-6,
    callback: Optional[Callable[..., Any]] = None,
    args: tuple = (),
    trajectory: bool = True,
    adapt_lr: Optional[bool] = None,
    **optimizer_options: Any,
) -> OptimizeResult:
    r"""Minimise ``fun(x, *args)`` over a 1-D float64 ``x`` by gradient descent.

    Each iteration evaluates :math:`f(x_k)` and :math:`g_k = \nabla f(x_k)`
    and takes one step of the chosen optimizer,
    :math:`x_{k+1} = x_k + \mathrm{step}(g_k;\, \eta)`, until
    :math:`\|g_k\|_2 \le` ``tol``.

    **Step size.**  With ``lr=None`` (the default) minimize chooses and adapts
    the learning rate :math:`\eta` itself (``adapt_lr`` defaults to True):

    1. *Initial search.*  From fresh state every optimizer's first step is
       linear in :math:`\eta`: :math:`x_1 = x_0 + \eta d`.  One probe step
       gives :math:`d` (:math:`-g_0` for SGD, :math:`-\mathrm{sign}(g_0)`
       for Adam, Adagrad or Lion, ...), so whether :math:`\eta` multiplies
       the gradient or is a step length in :math:`x` never matters.  A line
       search along :math:`d` -- halving :math:`s` until Armijo's condition
       :math:`f(x_0 + s d) \le f_0 + 10^{-4} s\, g_0^\top d` holds, or
       doubling it while :math:`f` keeps decreasing -- gives the initial
       :math:`\eta = s`.
    2. *Safeguard.*  A step that raises :math:`f`, or makes :math:`f` or
       :math:`g` non-finite, is rejected: :math:`x` is restored from a saved
       copy; the optimizer's state, buffers and step counters alike
       (``state[0]["step"]``, NAdam's ``mu_product``, ``step_count``), is
       rolled back to the saved point, so the optimizer counts accepted
       steps only (``nit - nreject``); its momentum (``exp_avg``,
       ``momentum_buffer``) is zeroed -- a restart, as for accelerated
       methods on an increase of :math:`f` -- and :math:`\eta` is halved.
       Second-moment estimates and Adagrad's sums are kept, so the
       preconditioner survives.  Near a minimum the change
       of :math:`f` sinks below the rounding error of its values; a rise of
       at most :math:`10^{-9}|f|` is therefore accepted when the trapezoid
       rule on the gradients, :math:`\tfrac12 (g_k + g_{k+1})^\top
       (x_{k+1} - x_k)` (exact for quadratics), shows a decrease.
    3. *Growth.*  After every accepted step :math:`\eta` grows by 2 %, so it
       keeps tracking the largest rate that still decreases :math:`f`
       (about one step in 35 is rejected): it shrinks where the landscape
       is steep or the optimizer is close to its goal and grows back on
       flat stretches.

    The accepted values of ``fun`` therefore never increase (beyond
    rounding) and ``x`` is the best point seen.  With an explicit float
    ``lr`` (or a schedule, a callable of the step number) the optimizer runs
    unguarded, exactly as in a training loop, unless ``adapt_lr=True``
    (then ``lr`` is the initial rate and steps 2-3 apply; a schedule cannot
    be adapted).

    Args:
      fun: the objective, ``fun(x, *args) -> float``: a real number or
        anything ``np.asarray`` turns into a size-1 array of real numbers
        (a numpy scalar, a 0-d torch tensor, ...).  ``x`` is the array the
        optimizer updates in place: copy it if you keep it.  A
        :mod:`gdcore.landscapes` object may be passed as ``fun``: with
        ``jac`` None or True its analytic ``value_and_grad`` is used.
      x0: starting point, a 1-D array of real numbers (copied to float64).
      jac: the gradient: a callable ``jac(x, *args) -> array (n,)``; True
        if ``fun`` returns a pair ``(value, gradient)`` (a tuple or list of
        two items); or None for central finite
        differences -- slow: ``2n + 1`` calls of ``fun`` per iteration.
      optimizer: a name -- ``"sgd"``, ``"momentum"`` (SGD, momentum 0.9),
        ``"nesterov"`` (SGD, Nesterov momentum 0.9), ``"adam"``,
        ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, ``"adadelta"``,
        ``"adamax"``, ``"nadam"``, ``"radam"``, ``"lion"``, with torch's
        defaults otherwise (see :data:`OPTIMIZERS`) -- or a
        :mod:`gdcore.optim` optimizer instance holding exactly one
        parameter, a 1-D float64 array of ``x0``'s shape.  minimize then
        drives that instance on that parameter: it copies ``x0`` into the
        parameter, which holds ``result.x`` at the end.  With ``lr=None``
        the instance keeps its own learning rate and state and runs
        unguarded (``adapt_lr`` defaults to False); with ``adapt_lr=True``
        its state is reset first and rolled back on rejected steps.
      lr: learning rate; None (default) to choose and adapt it (see above).
      max_iter: maximum number of optimizer steps, rejected ones included
        (default 200 000: steps cost microseconds and ``tol`` usually stops
        the run long before).
      tol: stop when the gradient's Euclidean norm is <= tol (default 1e-6).
      callback: called after each accepted step, the last one included
        (the step that meets ``tol`` or ends the run with status 4), so
        ``nit - nreject`` times unless the run stops otherwise.  With one
        parameter named ``intermediate_result`` it receives an
        :class:`OptimizeResult` with ``x``, ``fun``, ``jac``, ``nit`` and
        ``lr``; otherwise a copy of ``x`` (scipy's two conventions).
        Returning True (a bool or ``numpy.bool_``) or raising StopIteration
        stops the run (status 3, unless that step met ``tol``: status 0);
        any other return value, None included, continues it.
      args: extra arguments for ``fun`` and ``jac``.
      trajectory: record the iterates (default True).
      adapt_lr: override the step-size control's default (see above).
      **optimizer_options: options for a named optimizer, e.g.
        ``betas=(0.9, 0.99)`` or ``momentum=0.95``.

    Returns:
      An :class:`OptimizeResult` with scipy's fields ``x``, ``fun``,
      ``jac`` (value and gradient at ``x``), ``nit`` (steps taken),
      ``nfev``, ``njev`` (evaluations, those of the initial search and of
      finite differences included), ``success``, ``status``, ``message``;
      plus ``lr`` (the final learning rate), ``nreject`` (rejected steps),
      ``optimizer`` (the optimizer, with its state) and, when
      ``trajectory`` is True, ``trajectory_x`` (``(m, n)``),
      ``trajectory_f`` and ``trajectory_iter`` (``(m,)``): the accepted
      iterates from ``x0`` to ``x`` with their values and iteration
      numbers -- all of them, or for long runs every ``2^j``-th one, first
      and last always included, in at most ``max(2, min(2000, 4_000_000 //
      n))`` rows: at most 4 million numbers for ``n`` up to 2 million, just
      ``x0`` and ``x`` beyond; None when ``trajectory`` is False.
      ``status``:

      * 0: success, the gradient norm fell to ``tol``;
      * 1: ``max_iter`` steps taken;
      * 2: ``fun`` or the gradient was not finite: at ``x0``, at an iterate
        of an unguarded run, or, with adaptation, at 60 trial points in a
        row, each closer to the last finite point than the one before.  The
        message names the iteration; ``x`` is the last point where both
        were finite;
      * 3: the callback returned True or raised StopIteration;
      * 4: (adaptive step size only) 300 steps in a row made no progress
        (``fun`` did not decrease by more than 64 ulp and the gradient norm
        did not halve): the rounding error of ``fun`` and its gradient
        limits the attainable accuracy (``tol`` is too small), or the
        optimizer's options (weight decay, ``maximize``) move its fixed
        point away from a minimiser of ``fun``.

    Raises:
      ValueError, TypeError: bad arguments -- an unknown optimizer name (the
        message lists the choices), ``x0`` not a 1-D array of real numbers,
        a negative or zero ``lr``, a negative ``tol`` or ``max_iter``, a
        gradient of the wrong shape or a non-scalar value, bad optimizer
        options -- all raised before the first step.  scipy's keywords
        ``method``, ``bounds``, ``constraints``, ``hess``, ``hessp`` and
        ``options`` are a TypeError naming the keyword (pass ``max_iter``
        and ``tol`` instead of ``options``; scipy's ``gtol`` is often a
        maximum norm, ``tol`` is the Euclidean norm).

    Example:
      >>> import numpy as np
      >>> from gdcore.minimize import minimize
      >>> from gdcore.landscapes import Rosenbrock
      >>> f = Rosenbrock()
      >>> res = minimize(f.value_and_grad, [-1.5, 2.0], jac=True, optimizer="adam")
      >>> res.success, bool(np.linalg.norm(res.x - 1.0) < 1e-5)
      (True, True)
      >>> res.trajectory_x[0], res.trajectory_x.shape[1]
      (array([-1.5,  2. ]), 2)

    Warning:
      ``"adamw"`` has ``weight_decay=0`` here, unlike torch's default of
      1e-2, so that it minimises ``fun`` (it then equals ``"adam"``):
      decoupled decay pulls :math:`x` towards 0 in proportion to
      :math:`\eta`, which moves the point the optimizer converges to.  Pass
      ``weight_decay=...`` to regularise.

    References:
      Armijo, "Minimization of functions having Lipschitz continuous first
      partial derivatives", Pacific J. Math. 16(1), 1966; O'Donoghue &
      Candès, "Adaptive Restart for Accelerated Gradient Schemes", Found.
      Comput. Math. 15, 2015; Hager & Zhang, "A new conjugate gradient
      method with guaranteed descent and an efficient line search", SIAM J.
      Optim. 16(1), 2005 (trusting derivatives where f's rounding error
      dominates); Nocedal & Wright, "Numerical Optimization",
      2nd ed., 2006, ch. 3 (line searches) and 8.1 (finite differences).
    """
    # ---------------------------------------------------------- arguments
    for key in optimizer_options:
        if key in _SCIPY_ONLY:
            raise TypeError(f"gd.minimize does not support scipy's {key!r} ({_SCIPY_ONLY[key]})")
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    if isinstance(fun, Landscape) and (jac is None or jac is True):
        fun, jac = fun.value_and_grad, True
    x = _as_x0(x0)
    n = x.size
    if jac is False:
        jac = None
    if not (jac is None or jac is True or callable(jac)):
        raise TypeError(
            f"jac must be a callable, True (fun returns (value, gradient)) or None, got {jac!r}"
        )
    if not isinstance(args, tuple):
        args = (args,)
    tol = _check_nonneg(tol, "tol")
    if max_iter is None:
        max_iter = DEFAULT_MAX_ITER
    elif isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, numbers.Integral):
        raise TypeError(f"max_iter must be an int or None, got {type(max_iter).__name__}")
    elif max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    max_iter = int(max_iter)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if not isinstance(trajectory, (bool, np.bool_)):
        raise TypeError(f"trajectory must be a bool, got {type(trajectory).__name__}")
    if adapt_lr is not None and not isinstance(adapt_lr, (bool, np.bool_)):
        raise TypeError(f"adapt_lr must be a bool or None, got {type(adapt_lr).__name__}")
    schedule = callable(lr)
    if lr is not None and not schedule:
        lr = _real(lr, "lr")
        if not (0.0 < lr < _INF):
            raise ValueError(f"lr must be a positive finite number (or None), got {lr!r}")
    instance = not isinstance(optimizer, str)
    adapt = (lr is None and not instance) if adapt_lr is None else bool(adapt_lr)
    if adapt and schedule:
        raise ValueError("adapt_lr=True needs a float lr (or None), not a schedule")

    x, factory, opt, group = _make_optimizer(optimizer, x, lr, optimizer_options)
    if instance and adapt and lr is None:
        lr = group["lr"]
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(
                f"adapt_lr=True needs the optimizer's lr to be a positive number, got {lr!r}"
            )
        lr = float(lr)
    both, value, counts = _make_evaluators(fun, jac, args)

    # -------------------------------------------------------------- start
    g = np.empty(n)  # gradient at x (the accepted point)
    spare = np.empty(n)  # gradient at the trial point
    small = n <= 32
    f = both(x, g)  # shape and type errors surface here, before any step
    gnorm = _norm(g, small)
    traj = _Trajectory(n) if trajectory else None
    if traj is not None:
        traj.add(0, x, f, 0)
    nit = 0
    nreject = 0
    k = 0  # index of the accepted iterate x (x0 is 0)
    it_of_x = 0  # iteration at which x was reached
    status = -1
    message = ""
    cur_lr: Any = lr

    def finish() -> OptimizeResult:
        res = OptimizeResult(
            x=x.copy(),
            fun=f,
            jac=g.copy(),
            nit=nit,
            nfev=counts[0],
            njev=counts[1],
            status=status,
            success=status == 0,
            message=message,
        )
        if traj is not None:
            res["trajectory_x"], res["trajectory_f"], res["trajectory_iter"] = traj.finish(
                k, x, f, it_of_x
            )
        else:
            res["trajectory_x"] = res["trajectory_f"] = res["trajectory_iter"] = None
        res["lr"] = cur_lr if cur_lr is not None else group["lr"]
        res["nreject"] = nreject
        res["optimizer"] = opt
        return res

    if not (math.isfinite(f) and gnorm < _INF):
        status = 2
        what = "function value" if not math.isfinite(f) else "gradient"
        message = f"Non-finite {what} at x0 (iteration 0)."
        return finish()
    if gnorm <= tol:
        status = 0
        message = (
            f"Optimization terminated successfully: gradient norm {gnorm:.3g} <= tol {tol:g} at x0."
        )
        return finish()

    if adapt:
        if cur_lr is None and max_iter > 0:
            cur_lr = _initial_lr(value, x, f, g, factory, float(opt.defaults.get("lr", 1e-3)))
        elif cur_lr is None:
            cur_lr = 1e-3
        opt = factory(cur_lr)
        group = _group_of(opt, x)
    wants_result = callback is not None and _wants_result(callback)
    grads = [g]
    xs = x.copy()  # the saved (accepted) point
    step = opt.step
    grow, shrink = _GROW, _SHRINK
    lr_cap = cur_lr * 1e12 if adapt else _INF
    snap: Optional[_Snapshot] = None  # optimizer state at xs (None: fresh state)
    band = _BAND * abs(f)  # rise tolerated when the gradients show a decrease
    f_prog, g_prog, stall = f, gnorm, 0  # progress tracking (status 4)
    nonfinite = first_bad = 0

    # --------------------------------------------------------------- loop
    while True:
        if nit >= max_iter:
            status = 1
            message = (
                f"Maximum number of iterations reached (max_iter={max_iter}); "
                f"gradient norm {gnorm:.3g} > tol {tol:g}."
            )
            break
        step(grads)
        nit += 1
        fn = both(x, spare)
        gn = _norm(spare, small)
        if adapt:
            if not (
                gn < _INF
                and fn > -_INF
                and (
                    fn <= f
                    or (f - fn >= -band and _trapezoid(g, spare, x, xs) <= 0.0)
                )
            ):
                # Reject: back to the saved point and state, momentum
                # restarted, half the learning rate.
                x[...] = xs
                nreject += 1
                stall += 1
                cur_lr *= shrink
                if not (math.isfinite(fn) and gn < _INF):
                    if nonfinite == 0:
                        first_bad = nit
                    nonfinite += 1
                    if nonfinite >= _NONFINITE_LIMIT:
                        status = 2
                        message = (
                            f"Non-finite function value or gradient at iteration {first_bad} "
                            f"and at the {nonfinite - 1} ever shorter steps tried after it; "
                            "x is the last point where both were finite."
                        )
                        break
                if snap is None:  # the state at xs is the fresh state
                    opt = factory(cur_lr)
                    step = opt.step
                    group = _group_of(opt, x)
                else:
                    snap.restore(opt)
                    group["lr"] = cur_lr
                if stall >= _PATIENCE:
                    status = 4
                    break
                continue
            # Accept.
            xs[...] = x
            if snap is None:
                snap = _Snapshot(opt, x)
            else:
                snap.update(opt)
            if fn < f_prog - _PROGRESS * abs(f_prog):
                f_prog, stall = fn, 0
            elif gn < 0.5 * g_prog:
                g_prog, stall = gn, 0
            else:
                stall += 1
            band = _BAND * abs(fn)
            nonfinite = 0
            if cur_lr < lr_cap:
                cur_lr *= grow
                group["lr"] = cur_lr
        elif not (math.isfinite(fn) and gn < _INF):
            x[...] = xs
            status = 2
            what = "function value" if not math.isfinite(fn) else "gradient"
            message = (
                f"Non-finite {what} at iteration {nit}; x is the last finite iterate "
                f"(iteration {it_of_x})."
            )
            break
        else:
            xs[...] = x
        f = fn
        g, spare = spare, g
        grads[0] = g
        gnorm = gn
        k += 1
        it_of_x = nit
        if traj is not None and k == traj.next_k:
            traj.add(k, x, f, nit)
        halt = False
        if callback is not None:
            try:
                if wants_result:
                    reply = callback(
                        OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=nit, lr=cur_lr)
                    )
                else:
                    reply = callback(x.copy())
            except StopIteration:
                reply = True
            halt = isinstance(reply, (bool, np.bool_)) and bool(reply)
        if gnorm <= tol:
            status = 0
            message = (
                f"Optimization terminated successfully: gradient norm {gnorm:.3g} <= tol "
                f"{tol:g} at iteration {nit}."
            )
            break
        if halt:
            status = 3
            message = f"Stopped by the callback at iteration {nit}."
            break
        if adapt and stall >= _PATIENCE:
            status = 4
            break
    if status == 4:
        message = (
            f"No progress in the last {_PATIENCE} iterations (fun did not decrease beyond "
            f"rounding, the gradient norm did not halve; learning rate now {cur_lr:.3g}) with "
            f"gradient norm {gnorm:.3g} > tol {tol:g}: rounding error in fun limits the "
            "attainable accuracy, or the optimizer's options move its fixed point."
        )
    return finish()


# ------------------------------------------------------------------ check_grad
def check_grad(
    fun: Callable[..., Any],
    jac: Union[bool, Callable[..., Any]],
    x: Any,
    eps: Optional[float] = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    args: tuple = (),
) -> GradCheckResult:
    r"""Compare an analytic gradient with central finite differences.

    Each partial derivative is estimated by the fourth-order central
    difference

    .. math::
        \partial_i f(x) \approx \frac{8\,[f(x + h_i e_i) - f(x - h_i e_i)]
        - [f(x + 2h_i e_i) - f(x - 2h_i e_i)]}{12\, h_i}

    (error :math:`O(h^4)` plus rounding :math:`O(\epsilon_{mach} |f| / h)`;
    4n calls of ``fun``) and element :math:`i` passes when
    :math:`|g_i - \tilde g_i| \le \text{atol} + \text{rtol}\,|\tilde g_i|`
    (``numpy.isclose``'s rule, :math:`g` analytic, :math:`\tilde g`
    numeric).

    Args:
      fun: ``fun(x, *args) -> float`` (or ``(float, gradient)`` with
        ``jac=True``).
      jac: the gradient ``jac(x, *args) -> array``, or True.
      x: the point, a 1-D array of real numbers.
      eps: the step :math:`h` (a float; default :math:`\epsilon_{mach}^{1/5}
        \max(1, |x_i|)` per coordinate, about 7e-4).
      rtol, atol: tolerances of the comparison.
      args: extra arguments for ``fun`` and ``jac``.

    Returns:
      A :class:`GradCheckResult` (dict with attribute access): ``ok`` (every
      element passes), ``max_abs_error`` (:math:`\max_i |g_i - \tilde
      g_i|`), ``rel_error`` (:math:`\|g - \tilde g\|_2 / \max(\|g\|_2,
      \|\tilde g\|_2)`, 0 when both vanish), ``bad_indices`` (indices that
      fail, an int array), ``grad``, ``numeric``, ``abs_error`` and ``eps``.

    Example:
      >>> import numpy as np
      >>> from gdcore.minimize import check_grad
      >>> f = lambda x: float(np.sum(x ** 3))
      >>> check_grad(f, lambda x: 3 * x ** 2, np.array([1.0, 2.0])).ok
      True
      >>> bad = check_grad(f, lambda x: 3 * x, np.array([1.0, 2.0]))
      >>> bad.ok, bad.bad_indices
      (False, array([1]))

    Reference: Nocedal & Wright, "Numerical Optimization", 2nd ed., 2006,
    section 8.1 (finite-difference derivative approximations).
    """
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    if not (jac is True or callable(jac)):
        raise TypeError(f"jac must be a callable or True, got {jac!r}")
    if not isinstance(args, tuple):
        args = (args,)
    x = _as_x0(x)
    n = x.size
    rtol = _check_nonneg(rtol, "rtol")
    atol = _check_nonneg(atol, "atol")
    if eps is not None:
        e = _real(eps, "eps")
        if not (0.0 < e < _INF):
            raise ValueError(f"eps must be a positive finite number, got {eps!r}")
        steps = np.full(n, e)
    else:
        steps = _EPS ** 0.2 * np.maximum(1.0, np.abs(x))
    both, value, _ = _make_evaluators(fun, jac, args)
    grad = np.empty(n)
    both(x.copy(), grad)
    numeric = np.empty(n)
    used = np.empty(n)
    for i in range(n):
        h = float(steps[i])
        pts = []
        for m in (1.0, -1.0, 2.0, -2.0):
            xp = x.copy()
            xp[i] = x[i] + m * h
            pts.append(xp)
        h_eff = (float(pts[0][i]) - float(pts[1][i])) / 2.0
        fp, fm, f2p, f2m = (value(p) for p in pts)
        with np.errstate(over="ignore", invalid="ignore"):
            numeric[i] = (8.0 * (fp - fm) - (f2p - f2m)) / (12.0 * h_eff)
        used[i] = h_eff
    with np.errstate(over="ignore", invalid="ignore"):
        abs_error = np.abs(grad - numeric)
        passes = abs_error <= atol + rtol * np.abs(numeric)
        scale = max(_norm(grad, False), _norm(numeric, False))
        diff = _norm(grad - numeric, False)
    rel = 0.0 if scale == 0.0 else (diff / scale if math.isfinite(scale) else math.nan)
    bad = np.flatnonzero(~passes)
    return GradCheckResult(
        ok=bool(bad.size == 0),
        max_abs_error=float(np.max(abs_error)) if not np.isnan(abs_error).any() else math.nan,
        rel_error=float(rel),
        bad_indices=bad,
        grad=grad,
        numeric=numeric,
        abs_error=abs_error,
        eps=used,
    )
