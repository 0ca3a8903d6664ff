"""Cyclic schedules: torch's CosineAnnealingWarmRestarts (SGDR), CyclicLR and
OneCycleLR, as closed forms of the step number.

The arithmetic follows torch's ``get_lr`` expression by expression, so each
value agrees with torch's scheduler to rounding.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import numpy as np

from ._base import Schedule, _int, _lr, _real

__all__ = ["cosine_restarts", "cyclic", "one_cycle"]


class cosine_restarts(Schedule):
    r"""Cosine annealing with warm restarts, SGDR
    (``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``).

    Cycle :math:`i = 0, 1, \dots` lasts :math:`T_i = T_0 T_{\text{mult}}^{\,i}`
    steps; within it, after :math:`T_{\text{cur}}` steps,

    .. math::
        \eta_k = \eta_{\min} + \tfrac12(\eta - \eta_{\min})
                 \left(1 + \cos\frac{\pi\,T_{\text{cur}}}{T_i}\right)

    so the rate restarts at ``lr`` at steps :math:`0, T_0, T_0 + T_0 T_{\text{mult}}, \dots`

    Args:
      lr: rate at each restart :math:`\eta` (>= 0).
      T_0: length of the first cycle (int >= 1).
      T_mult: growth factor of the cycle length (int >= 1). Default 1.
      eta_min: minimum rate :math:`\eta_{\min}` (>= 0). Default 0.

    Example:
      >>> from gdcore.schedules import cosine_restarts
      >>> s = cosine_restarts(1.0, T_0=2, T_mult=2)
      >>> [s(k) for k in range(7)]
      [1.0, 0.5, 1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 1.0]

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
    Warm Restarts", ICLR 2017; torch's ``CosineAnnealingWarmRestarts``
    stepped without an epoch argument.
    """

    __slots__ = ("lr", "T_0", "T_mult", "eta_min")

    def __init__(self, lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> None:
        self._set(
            lr=_lr("cosine_restarts", "lr", lr),
            T_0=_int("cosine_restarts", "T_0", T_0, low=1),
            T_mult=_int("cosine_restarts", "T_mult", T_mult, low=1),
            eta_min=_lr("cosine_restarts", "eta_min", eta_min),
        )

    def _starts(self, kmax: int) -> List[int]:
        """First step of every cycle that starts at or before kmax (exact ints)."""
        starts, start, length = [0], 0, self.T_0
        if self.T_mult == 1:
            return starts
        while start + length <= kmax:
            start += length
            length *= self.T_mult
            starts.append(start)
        return starts

    def _scalar(self, k: int) -> float:
        if self.T_mult == 1:
            t_cur, t_i = k % self.T_0, self.T_0
        else:
            starts = self._starts(k)
            i = len(starts) - 1
            t_cur, t_i = k - starts[i], self.T_0 * self.T_mult**i
        e = self.eta_min
        return e + (self.lr - e) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    def _array(self, k: np.ndarray) -> np.ndarray:
        if self.T_mult == 1:
            t_cur = k % self.T_0
            t_i: object = self.T_0
        else:
            starts = self._starts(int(k.max()) if k.size else 0)
            idx = np.searchsorted(np.asarray(starts, dtype=np.int64), k, side="right") - 1
            t_cur = k - np.asarray(starts, dtype=np.int64)[idx]
            lengths = [self.T_0 * self.T_mult**i for i in range(len(starts))]
            t_i = np.asarray(lengths, dtype=np.float64)[idx]
        e = self.eta_min
        return e + (self.lr - e) * (1 + np.cos(math.pi * t_cur / t_i)) / 2


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


class cyclic(Schedule):
    r"""Cyclical learning rate, CLR (``torch.optim.lr_scheduler.CyclicLR``).

    The rate rises linearly from ``base_lr`` towards ``max_lr`` over
    ``step_size_up`` steps, falls back over ``step_size_down`` steps, and
    repeats.  With :math:`S = S_{\text{up}} + S_{\text{down}}`,
    :math:`r = S_{\text{up}}/S`, cycle :math:`c = \lfloor 1 + k/S \rfloor` and
    :math:`x = 1 + k/S - c`:

    .. math::
        h = \begin{cases} x / r & x \le r \\ (x - 1)/(r - 1) & x > r \end{cases}
        \qquad
        \eta_k = \eta_{\text{base}} + (\eta_{\max} - \eta_{\text{base}})\,h\,\sigma

    with the amplitude scale :math:`\sigma = 1` (``"triangular"``),
    :math:`2^{-(c-1)}` (``"triangular2"``: halved every cycle) or
    :math:`\gamma^{k}` (``"exp_range"``).

    Args:
      base_lr: lower rate :math:`\eta_{\text{base}}` (>= 0).
      max_lr: upper rate :math:`\eta_{\max}` (>= 0).
      step_size_up: steps in the rising half (int >= 1). Default 2000.
      step_size_down: steps in the falling half (int >= 0). Default None:
        equal to ``step_size_up``.
      mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
      gamma: :math:`\gamma` of ``"exp_range"`` (>= 0). Default 1.0.

    Example:
      >>> from gdcore.schedules import cyclic
      >>> s = cyclic(0.0, 1.0, step_size_up=2, mode="triangular2")
      >>> [s(k) for k in range(9)]
      [0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25, 0.0]

    Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural
    Networks", WACV 2017; torch's ``CyclicLR`` (its learning rate; momentum
    cycling and custom ``scale_fn`` are not part of a learning-rate schedule).
    """

    __slots__ = ("base_lr", "max_lr", "step_size_up", "step_size_down", "mode", "gamma", "_total", "_ratio")

    def __init__(
        self,
        base_lr: float,
        max_lr: float,
        step_size_up: int = 2000,
        step_size_down: Optional[int] = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        up = _int("cyclic", "step_size_up", step_size_up, low=1)
        down = None if step_size_down is None else _int("cyclic", "step_size_down", step_size_down, low=0)
        if mode not in _CYCLIC_MODES:
            raise ValueError(f"cyclic: mode must be one of {list(_CYCLIC_MODES)}, got {mode!r}")
        total = float(up) + float(up if down is None else down)
        self._set(
            base_lr=_lr("cyclic", "base_lr", base_lr),
            max_lr=_lr("cyclic", "max_lr", max_lr),
            step_size_up=up,
            step_size_down=down,
            mode=mode,
            gamma=_real("cyclic", "gamma", gamma, low=0.0),
            _total=total,
            _ratio=float(up) / total,
        )

    def _scalar(self, k: int) -> float:
        cycle = math.floor(1 + k / self._total)
        x = 1.0 + k / self._total - cycle
        r = self._ratio
        scale_factor = x / r if x <= r else (x - 1) / (r - 1)
        base_height = (self.max_lr - self.base_lr) * scale_factor
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = 0.5 ** (cycle - 1)  # = torch's 1 / 2.0**(cycle - 1), without overflow
        else:
            try:
                scale = self.gamma**k
            except OverflowError:
                scale = math.inf
        return self.base_lr + base_height * scale

    def _array(self, k: np.ndarray) -> np.ndarray:
        q = k / self._total
        cycle = np.floor(1 + q)
        x = 1.0 + q - cycle
        r = self._ratio
        if r == 1.0:  # no falling half: x <= r always
            scale_factor = x / r
        else:
            scale_factor = np.where(x <= r, x / r, (x - 1) / (r - 1))
        base_height = (self.max_lr - self.base_lr) * scale_factor
        if self.mode == "triangular":
            return self.base_lr + base_height * 1.0
        if self.mode == "triangular2":
            return self.base_lr + base_height * 0.5 ** (cycle - 1)
        with np.errstate(over="ignore", invalid="ignore"):  # gamma > 1 overflows to inf
            return self.base_lr + base_height * self.gamma**k


class one_cycle(Schedule):
    r"""The 1cycle policy (``torch.optim.lr_scheduler.OneCycleLR``'s learning rate).

    With :math:`T` = ``total_steps``, :math:`p` = ``pct_start``,
    :math:`\eta_0 = \eta_{\max}/\text{div\_factor}` and
    :math:`\eta_{\text{end}} = \eta_0/\text{final\_div\_factor}`, the phases
    end at steps (floats, as torch's)

    - two phases: :math:`pT - 1` (:math:`\eta_0 \to \eta_{\max}`), then
      :math:`T - 1` (:math:`\eta_{\max} \to \eta_{\text{end}}`);
    - ``three_phase=True``: :math:`pT - 1` (:math:`\eta_0 \to \eta_{\max}`),
      :math:`2pT - 2` (:math:`\eta_{\max} \to \eta_0`), then :math:`T - 1`
      (:math:`\eta_0 \to \eta_{\text{end}}`).

    Step :math:`k` lies in the first phase whose end is :math:`\ge k` (else
    the last); with that phase's start :math:`s` (the previous end, 0 for
    the first), end :math:`e` and rates :math:`a \to b`, :math:`u = (k-s)/(e-s)`
    and

    .. math::
        \eta_k = b + \frac{a - b}{2}\,(1 + \cos \pi u) \;\;(\texttt{"cos"}),
        \qquad \eta_k = (b - a)\,u + a \;\;(\texttt{"linear"}).

    Args:
      max_lr: peak rate :math:`\eta_{\max}` (>= 0).
      total_steps: :math:`T` (int >= 1).
      pct_start: :math:`p`, the fraction of steps spent rising (in [0, 1]).
        Default 0.3.
      anneal_strategy: ``"cos"`` or ``"linear"``. Default ``"cos"``.
      div_factor: :math:`\eta_0 = \eta_{\max}/\text{div\_factor}` (> 0). Default 25.
      final_div_factor: :math:`\eta_{\text{end}} = \eta_0/\text{final\_div\_factor}`
        (> 0). Default 1e4.
      three_phase: use the three-phase schedule. Default False.

    Defined for steps :math:`0 \le k \le T`, like torch's scheduler, which
    raises when stepped more than ``total_steps`` times: a larger step is a
    ValueError.  A run of ``total_steps`` optimizer steps uses
    :math:`k = 0, \dots, T-1`; at :math:`k = T` the last phase's formula is
    extrapolated one step, as torch does (with ``"linear"`` that can be
    slightly below :math:`\eta_{\text{end}}`, even negative).

    Example:
      >>> from gdcore.schedules import one_cycle
      >>> s = one_cycle(1.0, total_steps=10, pct_start=0.3, anneal_strategy="linear",
      ...               div_factor=10.0, final_div_factor=1.0)
      >>> [round(s(k), 4) for k in range(10)]
      [0.1, 0.55, 1.0, 0.8714, 0.7429, 0.6143, 0.4857, 0.3571, 0.2286, 0.1]

    Reference: L. N. Smith & N. Topin, "Super-Convergence: Very Fast Training
    of Neural Networks Using Large Learning Rates", 2018; torch's
    ``OneCycleLR`` (its learning rate; momentum cycling is not part of a
    learning-rate schedule).

    Warning: where a phase has zero length (:math:`e = s`, e.g.
    :math:`pT = 1`, or ``pct_start=1.0`` at :math:`k = T`) torch divides by
    zero; gdcore gives that phase's end rate :math:`b`.
    """

    __slots__ = (
        "max_lr",
        "total_steps",
        "pct_start",
        "anneal_strategy",
        "div_factor",
        "final_div_factor",
        "three_phase",
        "_phases",
    )

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        max_lr = _lr("one_cycle", "max_lr", max_lr)
        total = _int("one_cycle", "total_steps", total_steps, low=1)
        pct = _real("one_cycle", "pct_start", pct_start, low=0.0, high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"one_cycle: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        div = _real("one_cycle", "div_factor", div_factor, low=0.0, low_open=True)
        final_div = _real("one_cycle", "final_div_factor", final_div_factor, low=0.0, low_open=True)
        if not isinstance(three_phase, (bool, np.bool_)):
            raise TypeError(f"one_cycle: three_phase must be a bool, got {type(three_phase).__name__}")
        initial = max_lr / div
        minimum = initial / final_div
        # (end_step, start_lr, end_lr), torch's _schedule_phases.
        phases: Tuple[Tuple[float, float, float], ...]
        if three_phase:
            phases = (
                (float(pct * total) - 1, initial, max_lr),
                (float(2 * pct * total) - 2, max_lr, initial),
                (total - 1, initial, minimum),
            )
        else:
            phases = (
                (float(pct * total) - 1, initial, max_lr),
                (total - 1, max_lr, minimum),
            )
        self._set(
            max_lr=max_lr,
            total_steps=total,
            pct_start=pct,
            anneal_strategy=anneal_strategy,
            div_factor=div,
            final_div_factor=final_div,
            three_phase=bool(three_phase),
            _phases=phases,
        )

    def _too_far(self, k: int) -> ValueError:
        return ValueError(
            f"one_cycle is defined for steps 0..total_steps={self.total_steps}, got step {k} "
            "(torch's OneCycleLR raises when stepped past total_steps)"
        )

    def _scalar(self, k: int) -> float:
        if k > self.total_steps:
            raise self._too_far(k)
        start = 0.0
        last = len(self._phases) - 1
        for i, (end, a, b) in enumerate(self._phases):
            if k <= end or i == last:
                if end == start:
                    return b
                pct = (k - start) / (end - start)
                if self.anneal_strategy == "cos":
                    return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
                return (b - a) * pct + a
            start = end
        raise AssertionError("unreachable")  # pragma: no cover

    def _array(self, k: np.ndarray) -> np.ndarray:
        if k.size and int(k.max()) > self.total_steps:
            raise self._too_far(int(k.max()))
        out = np.empty(k.shape, dtype=np.float64)
        todo = np.ones(k.shape, dtype=bool)
        start = 0.0
        last = len(self._phases) - 1
        for i, (end, a, b) in enumerate(self._phases):
            sel = todo if i == last else todo & (k <= end)
            if end == start:
                out[sel] = b
            else:
                pct = (k[sel] - start) / (end - start)
                if self.anneal_strategy == "cos":
                    out[sel] = b + (a - b) / 2.0 * (np.cos(math.pi * pct) + 1)
                else:
                    out[sel] = (b - a) * pct + a
            todo &= ~sel
            start = end
        return out

