"""Composing schedules: a linear warm-up in front of a schedule, and schedules
joined end to end (optax's ``join_schedules``)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Sequence

import numpy as np

from ._base import Schedule, ScheduleLike, _as_schedule, _increasing_ints, _int, _real

__all__ = ["join", "warmup"]


class warmup(Schedule):
    r"""A linear warm-up of ``warmup_steps`` steps in front of a schedule.

    With :math:`W` = ``warmup_steps``, :math:`f` = ``start_factor`` and the
    wrapped schedule :math:`s`, whose first rate :math:`s(0)` is the target:

    .. math::
        \eta_k = \begin{cases}
            s(0)\left(f + (1 - f)\,\dfrac{k}{W}\right) & k < W \\[1ex]
            s(k - W) & k \ge W
        \end{cases}

    The wrapped schedule is **shifted**: it starts, at its own step 0, when
    the warm-up ends, so ``warmup(cosine(lr, T), W)`` warms up for ``W``
    steps and then anneals over the next ``T`` (optax's
    ``warmup_cosine_decay_schedule`` and transformers'
    ``get_cosine_schedule_with_warmup`` count the decay the same way).  The
    rate is continuous at :math:`k = W`.

    Args:
      schedule_or_lr: the schedule to warm up to (a gdcore schedule, a
        callable of the step, or a constant rate >= 0).
      warmup_steps: :math:`W` (int >= 0; 0 returns the schedule's values
        unchanged).
      start_factor: :math:`f`, the first rate as a fraction of the target
        (in [0, 1]). Default 0.0: the first step has rate 0.

    Example:
      >>> from gdcore.schedules import warmup, step
      >>> s = warmup(step(1.0, step_size=2, gamma=0.5), warmup_steps=4)
      >>> [s(k) for k in range(9)]
      [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.5, 0.25]

    References: Goyal et al., "Accurate, Large Minibatch SGD: Training
    ImageNet in 1 Hour", 2017 (gradual warm-up); optax ``linear_schedule`` +
    ``join_schedules``.
    """

    __slots__ = ("schedule", "warmup_steps", "start_factor", "_target")

    def __init__(self, schedule_or_lr: ScheduleLike, warmup_steps: int, start_factor: float = 0.0) -> None:
        sched = _as_schedule("warmup", "schedule_or_lr", schedule_or_lr)
        w = _int("warmup", "warmup_steps", warmup_steps, low=0)
        f = _real("warmup", "start_factor", start_factor, low=0.0, high=1.0)
        self._set(schedule=sched, warmup_steps=w, start_factor=f, _target=sched._scalar(0))

    def _scalar(self, k: int) -> float:
        w = self.warmup_steps
        if k < w:
            f = self.start_factor
            return self._target * (f + (1.0 - f) * k / w)
        return self.schedule._scalar(k - w)

    def _array(self, k: np.ndarray) -> np.ndarray:
        w = self.warmup_steps
        out = np.empty(k.shape, dtype=np.float64)
        ramp = k < w
        if ramp.any():
            f = self.start_factor
            out[ramp] = self._target * (f + (1.0 - f) * k[ramp] / w)
        rest = ~ramp
        if rest.any():
            out[rest] = self.schedule._array(k[rest] - w)
        return out

    def __repr__(self) -> str:
        return (
            f"warmup({self.schedule!r}, warmup_steps={self.warmup_steps!r}, "
            f"start_factor={self.start_factor!r})"
        )


class join(Schedule):
    r"""Schedules joined end to end (optax's ``join_schedules``).

    ``schedules[0]`` runs from step 0, and ``schedules[i]`` from step
    ``boundaries[i-1]`` on; each schedule receives the step counted from its
    own start:

    .. math::
        \eta_k = s_i(k - b_{i-1}) \quad \text{for } b_{i-1} \le k < b_i,
        \qquad b_{-1} = 0

    Args:
      schedules: the schedules (gdcore schedules, callables of the step, or
        constant rates >= 0), at least one.
      boundaries: the steps at which the next schedule takes over: strictly
        increasing ints >= 0, one fewer than ``schedules``.

    Example:
      >>> from gdcore.schedules import join, linear, cosine
      >>> s = join([linear(1.0, start_factor=0.5, total_iters=2), cosine(1.0, T_max=2)], [2])
      >>> [s(k) for k in range(5)]
      [0.5, 0.75, 1.0, 0.5, 0.0]

    References: optax ``join_schedules``; torch's ``SequentialLR`` with
    ``milestones=boundaries`` gives the same rates (each scheduler restarts
    at its milestone from its step 0).
    """

    __slots__ = ("schedules", "boundaries", "_b")

    def __init__(self, schedules: Sequence[ScheduleLike], boundaries: Sequence[int]) -> None:
        if isinstance(schedules, (str, bytes, dict, Schedule)) or not hasattr(schedules, "__iter__"):
            raise TypeError(f"join: schedules must be a sequence of schedules, got {type(schedules).__name__}")
        scheds = tuple(_as_schedule("join", f"schedules[{i}]", s) for i, s in enumerate(schedules))
        if not scheds:
            raise ValueError("join: schedules must hold at least one schedule")
        b = _increasing_ints("join", "boundaries", boundaries, low=0)
        if len(b) != len(scheds) - 1:
            raise ValueError(
                f"join: boundaries must have len(schedules) - 1 = {len(scheds) - 1} entries, got {len(b)}"
            )
        self._set(schedules=scheds, boundaries=b, _b=np.asarray(b, dtype=np.int64))

    def _scalar(self, k: int) -> float:
        i = bisect_right(self.boundaries, k)
        start = self.boundaries[i - 1] if i else 0
        return self.schedules[i]._scalar(k - start)

    def _array(self, k: np.ndarray) -> np.ndarray:
        out = np.empty(k.shape, dtype=np.float64)
        which = np.searchsorted(self._b, k, side="right")
        for i in np.unique(which):
            sel = which == i
            start = self.boundaries[i - 1] if i else 0
            out[sel] = self.schedules[i]._array(k[sel] - start)
        return out
