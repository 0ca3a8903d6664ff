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
    "adamw": (_optim.AdamW, {}),
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

# Step-size control (lr=None).  See minimize's docstring.
_SHRINK = 0.5  # lr factor after a rejected step
_GROW = 1.05  # lr factor after _GROW_AFTER accepted steps in a row
_GROW_AFTER = 1
_SAFETY = 1.0  # initial lr = _SAFETY * (line-search step along the first step)
_ARMIJO = 1e-4
_PATIENCE = 300  # iterations without a decrease of f before giving up (status 4)
_NONFINITE_LIMIT = 60  # consecutive non-finite trials before status 2
_RESET_ON_REJECT = True


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
    """fun's value as a Python float (a real scalar or a size-1 array)."""
    if type(f) is float:
        return f
    if isinstance(f, float):  # numpy.float64
        return float(f)
    if isinstance(f, (numbers.Real, np.ndarray, np.generic)) and not isinstance(f, (bool, np.bool_)):
        arr = np.asarray(f)
        if arr.size == 1 and arr.dtype.kind in "iuf":
            return float(arr.reshape(()))
    raise TypeError(
        f"fun must return a real scalar (or a size-1 array), got {type(f).__name__}"
        + (f" of shape {np.shape(f)}" if isinstance(f, np.ndarray) else "")
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


def _make_evaluators(
    fun: Callable, jac: Any, args: tuple, n: int
) -> Tuple[Callable[[np.ndarray, np.ndarray], float], Callable[[np.ndarray], float], list]:
    """(value-and-gradient into a buffer, value only, [nfev, njev] counters)."""
    counts = [0, 0]

    if jac is True:

        def both(x: np.ndarray, out: np.ndarray) -> float:
            counts[0] += 1
            counts[1] += 1
            r = fun(x, *args)
            if type(r) is not tuple:
                if not isinstance(r, (tuple, list)) or len(r) != 2:
                    raise TypeError(
                        "with jac=True, fun must return a pair (value, gradient), "
                        f"got {type(r).__name__}"
                    )
            f, g = r
            _put_grad(g, out)
            return _scalar(f)

        def value(x: np.ndarray) -> float:
            counts[0] += 1
            counts[1] += 1
            r = fun(x, *args)
            if not isinstance(r, (tuple, list)) or len(r) != 2:
                raise TypeError("with jac=True, fun must return a pair (value, gradient)")
            return _scalar(r[0])

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
) -> Tuple[Callable[[float], Any], Any, str]:
    """Returns (factory(lr) -> fresh optimizer on x, first optimizer, name)."""
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)} "
                "or pass a gdcore.optim optimizer instance"
            )
        cls, preset = OPTIMIZERS[key]
        kwargs = dict(preset)
        kwargs.update(options)
        if "lr" in kwargs:
            raise TypeError("pass the learning rate as minimize(..., lr=...)")

        def factory(rate: Any) -> Any:
            return cls([x], lr=rate, **kwargs)

        try:
            first = factory(1.0 if lr is None else lr)
        except TypeError as exc:
            raise TypeError(f"optimizer {key!r}: {exc}") from None
        return factory, first, key
    if isinstance(optimizer, _optim.Optimizer):
        if options:
            raise TypeError(
                "optimizer options (" + ", ".join(sorted(options)) + ") can only be given "
                "with an optimizer name; configure the instance instead"
            )
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if len(params) != 1:
            raise ValueError(
                f"an optimizer instance passed to minimize must hold exactly one parameter, "
                f"it holds {len(params)}"
            )
        p = params[0]
        if p.dtype != _F64 or p.ndim != 1 or p.shape != x.shape:
            raise ValueError(
                f"the optimizer's parameter must be a 1-D float64 array of shape {x.shape} "
                f"(the shape of x0), got {p.dtype} of shape {p.shape}"
            )
        template = optimizer.state_dict()
        empty = {"state": {}, "param_groups": template["param_groups"], "step_count": 0}

        def reset(rate: Any) -> Any:
            optimizer.load_state_dict(empty)
            optimizer.param_groups[0]["lr"] = rate
            return optimizer

        return reset, optimizer, type(optimizer).__name__
    raise TypeError(
        "optimizer must be a name (" + ", ".join(OPTIMIZERS) + ") or a gdcore.optim "
        f"optimizer instance, got {type(optimizer).__name__}"
    )


def _wants_result(callback: Callable) -> bool:
    try:
        sig = inspect.signature(callback)
    except (TypeError, ValueError):
        return False
    return set(sig.parameters) == {"intermediate_result"}


class _Trajectory:
    """Iterates kept at a doubling stride: at most ``cap`` rows, first and
    last included."""

    __slots__ = ("x", "f", "it", "count", "stride", "next_k", "last_k", "cap")

    def __init__(self, n: int) -> None:
        cap = max(3, min(MAX_TRAJECTORY, _TRAJECTORY_FLOATS // n))
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
        self.next_k = k + self.stride

    def finish(self, k: int, x: np.ndarray, f: float, it: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.last_k != k:
            self.x[self.count] = x
            self.f[self.count] = f
            self.it[self.count] = it
            self.count += 1
        c = self.count
        return self.x[:c].copy(), self.f[:c].copy(), self.it[:c].copy()


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
        return s * _SAFETY
    for _ in range(80):
        s *= 0.5
        v = phi(s)
        if armijo(s, v):
            return s * _SAFETY
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
    and takes one step of the chosen optimizer, :math:`x_{k+1} =
    x_k + \mathrm{step}(g_k; \eta)`, until :math:`\|g_k\|_2 \le` ``tol``.

    **Step size.**  With ``lr=None`` (the default) minimize picks and adapts
    :math:`\eta` itself (``adapt_lr`` defaults to True):

    1. *Initial search.*  From fresh state every optimizer's first step is
       linear in :math:`\eta`: :math:`x_1 = x_0 + \eta d`.  One probe step
       gives :math:`d` (:math:`-g_0` for SGD, about :math:`-\mathrm{sign}
       (g_0)` for Adam, Lion, Adagrad, ...), so the units of :math:`\eta`
       never matter.  A backtracking/expanding line search along
       :math:`d` (doubling while :math:`f` keeps decreasing and Armijo's
       condition :math:`f(x_0 + s d) \le f_0 + 10^{-4} s\, g_0^\top d`
       holds; halving until it holds) gives the initial :math:`\eta`.
    2. *Safeguard.*  A step whose value is higher than the last accepted one
       (or not finite) is rejected: :math:`x` is restored from a saved copy,
       :math:`\eta` is halved and the optimizer's state is reset (moments,
       momentum and step count start afresh, as a restart of an accelerated
       method on an increase of :math:`f`).  After every accepted step
       :math:`\eta` grows by 5 %, so it tracks the largest step that still
       decreases :math:`f` (a step-size controller in the spirit of
       Armijo's backtracking with an increasing trial step).  The iterates
       are therefore monotone: ``fun`` at each accepted iterate never
       increases, and ``x`` is the best point seen.

    With an explicit float ``lr`` (or a schedule, a callable of the step
    number) the optimizer runs unguarded, exactly as in a training loop,
    unless ``adapt_lr=True`` (then ``lr`` is the initial rate and step 2
    applies; schedules cannot be adapted).

    Args:
      fun: the objective, ``fun(x, *args) -> float``.  ``x`` is the array
        the optimizer updates in place: copy it if you keep it.
      x0: starting point, a 1-D array of real numbers (copied to float64).
      jac: the gradient: a callable ``jac(x, *args) -> array (n,)``; True
        if ``fun`` returns ``(value, gradient)``; or None for central finite
        differences -- slow, ``2n + 1`` calls of ``fun`` per iteration.
      optimizer: a name -- ``"sgd"``, ``"momentum"`` (SGD, momentum 0.9),
        ``"nesterov"`` (SGD, Nesterov momentum 0.9), ``"adam"``,
        ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, ``"adadelta"``,
        ``"adamax"``, ``"nadam"``, ``"radam"``, ``"lion"`` (torch's
        defaults otherwise; see :data:`OPTIMIZERS`) -- or a
        :mod:`gdcore.optim` optimizer instance holding exactly one 1-D
        float64 parameter of ``x0``'s shape.  minimize then drives that
        instance: it copies ``x0`` into the parameter, which holds
        ``result.x`` at the end; with ``lr=None`` the instance's own learning
        rate and state are used unchanged (``adapt_lr`` defaults to False;
        with ``adapt_lr=True`` its state is reset on rejected steps).
      lr: learning rate; None (default) to choose and adapt it (see above).
      max_iter: maximum number of optimizer steps, rejected ones included
        (default 200 000: steps are cheap, and ``tol`` usually stops first).
      tol: stop when the gradient's Euclidean norm is <= tol (default 1e-6).
      callback: called after each accepted step; with one parameter named
        ``intermediate_result`` it receives an :class:`OptimizeResult` (x,
        fun, jac, nit, lr), otherwise a copy of ``x`` (scipy's conventions).
        Returning True or raising StopIteration stops the run (status 3).
      args: extra arguments for ``fun`` and ``jac``.
      trajectory: record the iterates (default True).
      adapt_lr: override the step-size control default (see above).
      **optimizer_options: options for a named optimizer, e.g.
        ``betas=(0.9, 0.99)`` or ``momentum=0.95``.

    Returns:
      An :class:`OptimizeResult` with ``x``, ``fun``, ``jac`` (at ``x``),
      ``nit``, ``nfev``, ``njev``, ``success``, ``status``, ``message``,
      ``lr``, ``nreject``, ``optimizer`` and, when ``trajectory`` is True,
      ``trajectory_x`` (``(m, n)``), ``trajectory_f`` and ``trajectory_iter``
      (``(m,)``): the accepted iterates starting at ``x0`` and ending at
      ``x``, thinned for long runs at a doubling stride to at most 2000 rows
      (fewer when ``n`` is huge: at most 4M numbers); otherwise these three
      are None.  ``status``:

      * 0: success, the gradient norm fell to ``tol``;
      * 1: ``max_iter`` reached;
      * 2: ``fun`` or the gradient was not finite (at ``x0``; with a fixed
        ``lr`` at any iterate; with adaptation on 60 trial points in a row,
        each one closer to the last finite point); the message names the
        iteration and ``x`` is the last point where both were finite;
      * 3: the callback asked to stop;
      * 4: (adaptive step size only) ``fun`` did not decrease for 300
        iterations in a row although the gradient norm is above ``tol``:
        rounding error limits the attainable accuracy.

    Raises:
      ValueError, TypeError: bad arguments (unknown optimizer, ``x0`` not a
        1-D real array, negative ``lr``/``tol``/``max_iter``, a gradient of
        the wrong shape, ...), all detected before the first step.

    Example:
      >>> import numpy as np
      >>> from gdcore.minimize import minimize
      >>> from gdcore.landscapes import Rosenbrock
      >>> f = Rosenbrock()
      >>> res = minimize(f.value_and_grad, f.start, jac=True, optimizer="adam")
      >>> res.success, bool(np.allclose(res.x, [1.0, 1.0], atol=1e-5))
      (True, True)
      >>> res.trajectory_x[0], res.trajectory_x.shape[1]
      (array([-1.2,  1. ]), 2)

    Warning:
      ``"adamw"`` keeps torch's decoupled weight decay (``weight_decay=1e-2``),
      which pulls :math:`x` towards 0 by :math:`\eta\lambda x` per step; it
      vanishes as :math:`\eta` shrinks, but pass ``weight_decay=0`` to
      minimise exactly ``fun``.

    References:
      Armijo, "Minimization of functions having Lipschitz continuous first
      partial derivatives", Pacific J. Math. 16(1), 1966; O'Donoghue &
      Candès, "Adaptive Restart for Accelerated Gradient Schemes", Found.
      Comput. Math. 15, 2015; Nocedal & Wright, "Numerical Optimization",
      2nd ed., 2006, ch. 3.
    """
    # ---------------------------------------------------------- arguments
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
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
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number, got {type(tol).__name__}")
    tol = _check_nonneg(tol, "tol")
    if max_iter is None:
        max_iter = DEFAULT_MAX_ITER
    elif isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral):
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
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    instance = not isinstance(optimizer, str)
    if adapt_lr is None:
        adapt = lr is None and not instance
    else:
        adapt = bool(adapt_lr)
    if adapt and schedule:
        raise ValueError("adapt_lr=True needs a float lr (or None), not a schedule")

    if instance and isinstance(optimizer, _optim.Optimizer):
        # minimize writes x0 into the instance's parameter and updates it.
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if len(params) == 1 and isinstance(params[0], np.ndarray):
            if params[0].shape == x.shape and params[0].dtype == _F64:
                params[0][...] = x
                x = params[0]
    factory, opt, opt_name = _make_optimizer(optimizer, x, lr, optimizer_options)
    if instance:
        group = opt.param_groups[0]
        if lr is not None:
            group["lr"] = lr
        elif adapt:
            if not isinstance(group["lr"], numbers.Real):
                raise ValueError("adapt_lr=True needs the optimizer's lr to be a number")
    both, value, counts = _make_evaluators(fun, jac, args, n)

    # -------------------------------------------------------------- start
    g = np.empty(n)
    spare = np.empty(n)
    small = n <= 32
    f = both(x, g)  # shape/type errors surface here, before any step
    gnorm = _norm(g, small)
    traj = _Trajectory(n) if trajectory else None
    if traj is not None:
        traj.add(0, x, f, 0)
    nit = 0
    nreject = 0
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
            tx, tf, ti = traj.finish(k, x, f, it_of_x)
        else:
            tx = tf = ti = None
        res["trajectory_x"] = tx
        res["trajectory_f"] = tf
        res["trajectory_iter"] = ti
        res["lr"] = cur_lr
        res["nreject"] = nreject
        res["optimizer"] = opt
        return res

    k = 0  # index of the accepted iterate x (0: x0)
    it_of_x = 0  # iteration at which x was reached
    if not (math.isfinite(f) and gnorm < _INF):
        status = 2
        what = "function value" if not math.isfinite(f) else "gradient"
        message = f"Non-finite {what} at x0 (iteration 0)."
        return finish()
    if gnorm <= tol:
        status = 0
        message = f"Optimization terminated successfully: gradient norm {gnorm:.3g} <= tol {tol:g} at x0."
        return finish()

    if adapt:
        if lr is None:
            default_lr = float(getattr(opt, "defaults", {}).get("lr", 1e-3))
            cur_lr = _initial_lr(value, x, f, g, factory, default_lr)
        opt = factory(cur_lr)
    group = opt.param_groups[0]
    if cur_lr is None:
        cur_lr = group["lr"]
    grads = [g]
    wants_result = callback is not None and _wants_result(callback)
    xs = x.copy()
    step = opt.step
    grow, shrink, grow_after = _GROW, _SHRINK, _GROW_AFTER
    lr_cap = cur_lr * 1e12 if adapt else _INF
    streak = 0
    stall = 0
    nonfinite = 0
    first_bad = 0

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
            if fn <= f and gn < _INF and fn > -_INF:
                # accept
                xs[...] = x
                stall = 0 if fn < f else stall + 1
                f = fn
                g, spare = spare, g
                grads[0] = g
                gnorm = gn
                k += 1
                it_of_x = nit
                nonfinite = 0
                streak += 1
                if streak >= grow_after and cur_lr < lr_cap:
                    cur_lr *= grow
                    group["lr"] = cur_lr
                    streak = 0
            else:
                # reject: back to the saved point, shorter steps, fresh state
                x[...] = xs
                nreject += 1
                stall += 1
                streak = 0
                if not (math.isfinite(fn) and gn < _INF):
                    if nonfinite == 0:
                        first_bad = nit
                    nonfinite += 1
                    if nonfinite >= _NONFINITE_LIMIT:
                        status = 2
                        message = (
                            f"Non-finite function value or gradient at iteration {first_bad} "
                            f"(and at {nonfinite} shorter trial steps after it); x is the last "
                            "point where both were finite."
                        )
                        break
                cur_lr *= shrink
                if _RESET_ON_REJECT:
                    opt = factory(cur_lr)
                    step = opt.step
                    group = opt.param_groups[0]
                else:
                    group["lr"] = cur_lr
                if stall >= _PATIENCE:
                    status = 4
                    message = (
                        f"No decrease of fun in the last {_PATIENCE} iterations (learning rate "
                        f"reduced to {cur_lr:.3g}) with gradient norm {gnorm:.3g} > tol {tol:g}: "
                        "rounding error limits the attainable accuracy."
                    )
                    break
                continue
            if stall >= _PATIENCE:
                status = 4
                message = (
                    f"No decrease of fun in the last {_PATIENCE} iterations (learning rate "
                    f"{cur_lr:.3g}) with gradient norm {gnorm:.3g} > tol {tol:g}: "
                    "rounding error limits the attainable accuracy."
                )
                break
        else:
            if not (math.isfinite(fn) and gn < _INF):
                x[...] = xs
                status = 2
                what = "function value" if not math.isfinite(fn) else "gradient"
                message = (
                    f"Non-finite {what} at iteration {nit}; x is the last finite iterate "
                    f"(iteration {it_of_x})."
                )
                break
            xs[...] = x
            f = fn
            g, spare = spare, g
            grads[0] = g
            gnorm = gn
            k += 1
            it_of_x = nit
        if traj is not None and k == traj.next_k:
            traj.add(k, x, f, nit)
        if gnorm <= tol:
            status = 0
            message = (
                f"Optimization terminated successfully: gradient norm {gnorm:.3g} <= tol "
                f"{tol:g} at iteration {nit}."
            )
            break
        if callback is not None:
            try:
                if wants_result:
                    stop = callback(
                        OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=nit, lr=cur_lr)
                    )
                else:
                    stop = callback(x.copy())
            except StopIteration:
                stop = True
            if stop is True:
                status = 3
                message = f"Stopped by the callback at iteration {nit}."
                break
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
    both, value, _ = _make_evaluators(fun, jac, args, n)
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
