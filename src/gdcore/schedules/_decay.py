"""Decaying schedules: torch's StepLR, MultiStepLR, ExponentialLR, PolynomialLR,
LinearLR and CosineAnnealingLR in closed form, the inverse square root of
"Attention is all you need", and scikit-learn SGD's 'invscaling' and
'optimal' rates.

Each formula is written in the operation order of the code it reproduces
(torch's ``_get_closed_form_lr``, scikit-learn's ``_plain_sgd``, fairseq's
``InverseSquareRootSchedule``), so values agree with it to rounding.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Iterable, Optional

import numpy as np

from ._base import Schedule, _increasing_ints, _int, _lr, _real

__all__ = [
    "cosine",
    "exponential",
    "inverse_sqrt",
    "invscaling",
    "linear",
    "multistep",
    "optimal",
    "polynomial",
    "step",
]


class step(Schedule):
    r"""Decay by ``gamma`` every ``step_size`` steps (``torch.optim.lr_scheduler.StepLR``).

    .. math:: \eta_k = \eta\,\gamma^{\lfloor k / s \rfloor}

    Args:
      lr: initial rate :math:`\eta` (>= 0).
      step_size: period :math:`s` of the decay (int >= 1).
      gamma: multiplicative factor :math:`\gamma` (>= 0). Default 0.1.

    Example:
      >>> from gdcore.schedules import step
      >>> s = step(1.0, step_size=2, gamma=0.5)
      >>> [s(k) for k in range(5)]
      [1.0, 1.0, 0.5, 0.5, 0.25]

    Reference: torch's ``StepLR`` (closed form ``_get_closed_form_lr``).
    """

    __slots__ = ("lr", "step_size", "gamma")

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self._set(
            lr=_lr("step", "lr", lr),
            step_size=_int("step", "step_size", step_size, low=1),
            gamma=_real("step", "gamma", gamma, low=0.0),
        )

    def _scalar(self, k: int) -> float:
        return self.lr * _pow(self.gamma, k // self.step_size)

    def _array(self, k: np.ndarray) -> np.ndarray:
        with _overflow_to_inf():
            return self.lr * self.gamma ** (k // self.step_size)


class multistep(Schedule):
    r"""Decay by ``gamma`` at each milestone (``torch.optim.lr_scheduler.MultiStepLR``).

    .. math:: \eta_k = \eta\,\gamma^{\#\{m \in \text{milestones} : m \le k\}}

    Args:
      lr: initial rate :math:`\eta` (>= 0).
      milestones: steps at which the rate is multiplied by :math:`\gamma`
        (strictly increasing ints >= 0).
      gamma: multiplicative factor :math:`\gamma` (>= 0). Default 0.1.

    Example:
      >>> from gdcore.schedules import multistep
      >>> s = multistep(1.0, milestones=[2, 4], gamma=0.5)
      >>> [s(k) for k in range(6)]
      [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]

    Reference: torch's ``MultiStepLR``.

    Warning: torch also accepts unsorted or repeated milestones (a repeated
    milestone decays twice); gdcore asks for a strictly increasing list.
    """

    __slots__ = ("lr", "milestones", "gamma", "_ms")

    def __init__(self, lr: float, milestones: Iterable[int], gamma: float = 0.1) -> None:
        ms = _increasing_ints("multistep", "milestones", milestones, low=0)
        self._set(
            lr=_lr("multistep", "lr", lr),
            milestones=ms,
            gamma=_real("multistep", "gamma", gamma, low=0.0),
            _ms=np.asarray(ms, dtype=np.int64),
        )

    def _scalar(self, k: int) -> float:
        return self.lr * _pow(self.gamma, bisect_right(self.milestones, k))

    def _array(self, k: np.ndarray) -> np.ndarray:
        with _overflow_to_inf():
            return self.lr * self.gamma ** np.searchsorted(self._ms, k, side="right")


class exponential(Schedule):
    r"""Decay by ``gamma`` every step (``torch.optim.lr_scheduler.ExponentialLR``).

    .. math:: \eta_k = \eta\,\gamma^{k}

    Args:
      lr: initial rate :math:`\eta` (>= 0).
      gamma: multiplicative factor :math:`\gamma` (>= 0; above 1 the rate
        grows, as in a learning-rate range test, and overflows to inf).

    Example:
      >>> from gdcore.schedules import exponential
      >>> exponential(1.0, gamma=0.5)(3)
      0.125

    Reference: torch's ``ExponentialLR``.
    """

    __slots__ = ("lr", "gamma")

    def __init__(self, lr: float, gamma: float) -> None:
        self._set(lr=_lr("exponential", "lr", lr), gamma=_real("exponential", "gamma", gamma, low=0.0))

    def _scalar(self, k: int) -> float:
        return self.lr * _pow(self.gamma, k)

    def _array(self, k: np.ndarray) -> np.ndarray:
        with _overflow_to_inf():
            return self.lr * self.gamma**k


class polynomial(Schedule):
    r"""Polynomial decay to zero over ``total_iters`` steps
    (``torch.optim.lr_scheduler.PolynomialLR``).

    .. math:: \eta_k = \eta \left(1 - \frac{\min(k, T)}{T}\right)^{p}

    The rate is 0 from step :math:`T` on.

    Args:
      lr: initial rate :math:`\eta` (>= 0).
      total_iters: :math:`T`, the number of decaying steps (int >= 1). Default 5.
      power: :math:`p` (>= 0). Default 1.0.

    Example:
      >>> from gdcore.schedules import polynomial
      >>> s = polynomial(1.0, total_iters=4, power=2.0)
      >>> [s(k) for k in range(6)]
      [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]

    Reference: torch's ``PolynomialLR``.
    """

    __slots__ = ("lr", "total_iters", "power")

    def __init__(self, lr: float, total_iters: int = 5, power: float = 1.0) -> None:
        self._set(
            lr=_lr("polynomial", "lr", lr),
            total_iters=_int("polynomial", "total_iters", total_iters, low=1),
            power=_real("polynomial", "power", power, low=0.0),
        )

    def _scalar(self, k: int) -> float:
        t = self.total_iters
        return self.lr * (1.0 - min(t, k) / t) ** self.power

    def _array(self, k: np.ndarray) -> np.ndarray:
        t = self.total_iters
        return self.lr * (1.0 - np.minimum(k, t) / t) ** self.power


class linear(Schedule):
    r"""Linear change of a multiplicative factor over ``total_iters`` steps
    (``torch.optim.lr_scheduler.LinearLR``, with its defaults).

    .. math::
        \eta_k = \eta \left(f_0 + (f_1 - f_0)\,\frac{\min(k, T)}{T}\right)

    Args:
      lr: base rate :math:`\eta` (>= 0).
      start_factor: :math:`f_0` (>= 0). Default 1/3.
      end_factor: :math:`f_1` (>= 0). Default 1.0.
      total_iters: :math:`T` (int >= 1). Default 5.

    Example:
      >>> from gdcore.schedules import linear
      >>> s = linear(1.0, start_factor=0.5, end_factor=1.0, total_iters=2)
      >>> [s(k) for k in range(4)]
      [0.5, 0.75, 1.0, 1.0]

    Reference: torch's ``LinearLR``.

    Warning: torch requires ``0 < start_factor <= 1`` and
    ``0 <= end_factor <= 1`` (its recursive update divides by the factor);
    the closed form has no such limit, so gdcore accepts any factors >= 0 --
    ``start_factor=0`` is a warm-up from zero.
    """

    __slots__ = ("lr", "start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        lr: float,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        self._set(
            lr=_lr("linear", "lr", lr),
            start_factor=_real("linear", "start_factor", start_factor, low=0.0),
            end_factor=_real("linear", "end_factor", end_factor, low=0.0),
            total_iters=_int("linear", "total_iters", total_iters, low=1),
        )

    def _scalar(self, k: int) -> float:
        f0, f1, t = self.start_factor, self.end_factor, self.total_iters
        return self.lr * (f0 + (f1 - f0) * min(t, k) / t)

    def _array(self, k: np.ndarray) -> np.ndarray:
        f0, f1, t = self.start_factor, self.end_factor, self.total_iters
        return self.lr * (f0 + (f1 - f0) * np.minimum(k, t) / t)


class cosine(Schedule):
    r"""Cosine annealing from ``lr`` to ``eta_min`` over ``T_max`` steps
    (``torch.optim.lr_scheduler.CosineAnnealingLR``'s closed form).

    .. math::
        \eta_k = \eta_{\min} + \tfrac12(\eta - \eta_{\min})
                 \left(1 + \cos\frac{\pi k}{T_{\max}}\right)

    The same formula holds for every :math:`k`: after :math:`T_{\max}` the
    rate climbs back along the cosine and returns to ``lr`` at
    :math:`2T_{\max}` (period :math:`2T_{\max}`), exactly as torch's
    ``CosineAnnealingLR`` does when stepped past ``T_max``.  To hold
    ``eta_min`` instead, use ``join([cosine(lr, T), constant(eta_min)], [T])``;
    for restarts, :class:`cosine_restarts`.

    Args:
      lr: initial rate :math:`\eta` (>= 0).
      T_max: half period :math:`T_{\max}` (int >= 1).
      eta_min: minimum rate :math:`\eta_{\min}` (>= 0). Default 0.

    Example:
      >>> from gdcore.schedules import cosine
      >>> s = cosine(1.0, T_max=4)
      >>> [round(s(k), 4) for k in range(9)]
      [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464, 0.5, 0.8536, 1.0]

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
    Warm Restarts", ICLR 2017; torch's ``CosineAnnealingLR``
    (``_get_closed_form_lr``; its recursive ``step()`` follows the same curve
    to rounding).
    """

    __slots__ = ("lr", "T_max", "eta_min")

    def __init__(self, lr: float, T_max: int, eta_min: float = 0.0) -> None:
        self._set(
            lr=_lr("cosine", "lr", lr),
            T_max=_int("cosine", "T_max", T_max, low=1),
            eta_min=_lr("cosine", "eta_min", eta_min),
        )

    def _scalar(self, k: int) -> float:
        e = self.eta_min
        return e + (self.lr - e) * (1 + math.cos(math.pi * k / self.T_max)) / 2

    def _array(self, k: np.ndarray) -> np.ndarray:
        e = self.eta_min
        return e + (self.lr - e) * (1 + np.cos(math.pi * k / self.T_max)) / 2


class inverse_sqrt(Schedule):
    r"""Linear warm-up, then decay with the inverse square root of the step
    ("Attention is all you need"; fairseq's ``inverse_sqrt``).

    .. math::
        \eta_k = \eta \min\!\left(\frac{k}{W}, \sqrt{\frac{W}{k}}\right)
        = \begin{cases} \eta\,k/W & k < W \\ \eta\sqrt{W/k} & k \ge W \end{cases}

    The peak :math:`\eta` is reached at :math:`k = W`.  With
    :math:`\eta = d_{\text{model}}^{-1/2} W^{-1/2}` this is the paper's
    :math:`d_{\text{model}}^{-1/2}\min(k^{-1/2}, k W^{-3/2})`.

    Args:
      lr: peak rate :math:`\eta` (>= 0).
      warmup_steps: :math:`W` (int >= 1).

    Example:
      >>> from gdcore.schedules import inverse_sqrt
      >>> s = inverse_sqrt(1.0, warmup_steps=4)
      >>> [s(k) for k in (0, 1, 2, 4, 16)]
      [0.0, 0.25, 0.5, 1.0, 0.5]

    References: Vaswani et al., "Attention Is All You Need", NeurIPS 2017
    (section 5.3); fairseq ``InverseSquareRootSchedule`` with
    ``warmup_init_lr=0`` (whose operation order is used here).

    Warning: the rate at step 0 is 0, so the first optimizer step leaves
    the parameters unchanged (as in fairseq, whose first update uses
    ``warmup_init_lr``).
    """

    __slots__ = ("lr", "warmup_steps", "_lr_step", "_decay")

    def __init__(self, lr: float, warmup_steps: int) -> None:
        lr = _lr("inverse_sqrt", "lr", lr)
        w = _int("inverse_sqrt", "warmup_steps", warmup_steps, low=1)
        self._set(lr=lr, warmup_steps=w, _lr_step=lr / w, _decay=lr * w**0.5)

    def _scalar(self, k: int) -> float:
        if k < self.warmup_steps:
            return k * self._lr_step
        return self._decay * k**-0.5

    def _array(self, k: np.ndarray) -> np.ndarray:
        kf = k.astype(np.float64)
        safe = np.maximum(kf, 1.0)  # step 0 is in the warm-up; avoid 0**-0.5
        return np.where(k < self.warmup_steps, kf * self._lr_step, self._decay * safe**-0.5)


class invscaling(Schedule):
    r"""scikit-learn SGD's ``learning_rate='invscaling'``.

    .. math:: \eta_k = \frac{\eta_0}{t^{\,p}}, \qquad t = k + 1

    Args:
      eta0: initial rate :math:`\eta_0` (>= 0).
      power_t: exponent :math:`p` (>= 0). Default 0.5 (scikit-learn's
        SGDRegressor default; SGDClassifier's default is also 0.5).

    Example:
      >>> from gdcore.schedules import invscaling
      >>> s = invscaling(1.0, power_t=0.5)
      >>> [s(k) for k in (0, 3, 8)]
      [1.0, 0.5, 0.3333333333333333]

    Reference: scikit-learn ``sklearn/linear_model/_sgd_fast.pyx.tp``
    (``eta = eta0 / pow(t, power_t)``).

    Warning: scikit-learn's counter ``t`` starts at 1 and counts *samples*
    (it is 1 + the number of samples seen); here it counts optimizer steps:
    step ``k = 0`` is ``t = 1``.  With ``batch_size=1`` the two coincide.
    """

    __slots__ = ("eta0", "power_t")

    def __init__(self, eta0: float, power_t: float = 0.5) -> None:
        self._set(
            eta0=_lr("invscaling", "eta0", eta0),
            power_t=_real("invscaling", "power_t", power_t, low=0.0),
        )

    def _scalar(self, k: int) -> float:
        return self.eta0 / float(k + 1) ** self.power_t

    def _array(self, k: np.ndarray) -> np.ndarray:
        return self.eta0 / _plus_one(k) ** self.power_t


class optimal(Schedule):
    r"""scikit-learn SGD's ``learning_rate='optimal'`` (Léon Bottou's rate).

    .. math::
        \eta_k = \frac{1}{\alpha\,(t_0 + k)}, \qquad
        t_0 = \frac{1}{\alpha\,\eta_{\text{init}}}, \quad
        \eta_{\text{init}} = \frac{w}{\max(1, \ell'(-w, 1))}, \quad
        w = \sqrt{1/\sqrt{\alpha}}

    :math:`\ell'(p, y)` is the loss derivative at prediction :math:`p` for
    target :math:`y = 1`.  It is negative for every loss scikit-learn offers
    (hinge, log, modified Huber, squared, Huber, epsilon-insensitive...), so
    the max is 1 and :math:`t_0 = \alpha^{-3/4}`: the first rate is
    :math:`\eta_0 = \alpha^{-1/4}`.  Pass ``t0`` to set it directly.

    Args:
      alpha: regularization strength :math:`\alpha` (> 0), the ``alpha`` of
        the scikit-learn estimator.
      t0: offset :math:`t_0` (> 0). Default None: Bottou's heuristic above.

    Example:
      >>> from gdcore.schedules import optimal
      >>> s = optimal(alpha=1e-4)
      >>> s.t0, round(s(0), 10)
      (1000.0, 10.0)

    Reference: scikit-learn ``sklearn/linear_model/_sgd_fast.pyx.tp``
    (``typw``, ``optimal_init``, ``eta = 1.0 / (alpha * (optimal_init + t - 1))``);
    L. Bottou, SvmSgd (http://leon.bottou.org/projects/sgd).

    Warning: scikit-learn's ``t`` starts at 1 and counts samples; here step
    ``k = 0`` is ``t = 1`` and ``k`` counts optimizer steps.
    """

    __slots__ = ("alpha", "t0")

    def __init__(self, alpha: float, t0: Optional[float] = None) -> None:
        alpha = _real("optimal", "alpha", alpha, low=0.0, low_open=True)
        if t0 is None:
            typw = math.sqrt(1.0 / math.sqrt(alpha))
            # max(1.0, dloss(1.0, -typw)) is 1 for every scikit-learn loss.
            initial_eta0 = typw / 1.0
            t0 = 1.0 / (initial_eta0 * alpha)
        else:
            t0 = _real("optimal", "t0", t0, low=0.0, low_open=True)
        self._set(alpha=alpha, t0=t0)

    def _scalar(self, k: int) -> float:
        # scikit-learn's order: optimal_init + t - 1 with t = k + 1.
        return 1.0 / (self.alpha * (self.t0 + float(k + 1) - 1))

    def _array(self, k: np.ndarray) -> np.ndarray:
        return 1.0 / (self.alpha * (self.t0 + _plus_one(k) - 1))


def _plus_one(k: np.ndarray) -> np.ndarray:
    """``k + 1`` as float64, rounded once from the exact integer as the scalar
    path's ``float(k + 1)`` is: in uint64, where ``k + 1`` (at most 2**63)
    cannot wrap as it does in int64 at ``k = 2**63 - 1``."""
    return (k.astype(np.uint64) + np.uint64(1)).astype(np.float64)


def _overflow_to_inf() -> np.errstate:
    """gamma > 1 grows without bound: overflow to inf quietly, as ``_pow`` does
    (and 0 * inf gives nan quietly, as Python floats do)."""
    return np.errstate(over="ignore", invalid="ignore")


def _pow(base: float, n: int) -> float:
    """``base ** n`` for a float base and int n, inf on overflow (as numpy)."""
    try:
        return base**n
    except OverflowError:
        return math.inf
